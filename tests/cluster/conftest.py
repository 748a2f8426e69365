"""A Redis Cluster (three masters, a replica each) for the whole session's cluster tests, and the store
contract fixtures on it: the same tests the embedded store and one Redis pass (see ``test_contracts``)."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from pricing_edge.store.base import Store
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_cluster import RedisClusterStore
from pricing_edge.store.reservations import ReservationStore
from tests.cluster.local_cluster import LocalCluster



@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """Shared by the contract tests, which never kill a node (the failover test starts its own)."""
    running = LocalCluster().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def store(cluster: LocalCluster) -> AsyncIterator[Store]:
    """The store on the cluster, under a prefix of this test's own (the cluster is ours: nothing to clean)."""
    cluster_store = RedisClusterStore(cluster.url, Keys(f"pe-test-{uuid.uuid4().hex[:10]}:"))
    yield cluster_store
    await cluster_store.aclose()


@pytest.fixture
async def reservations(store: Store) -> AsyncIterator[ReservationStore]:
    yield store.reservations()
