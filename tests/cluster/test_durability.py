"""The durability check at start reads every node of a cluster: one node without AOF or with an evicting
policy makes the whole store not durable, and the warning names that node."""
from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from pricing_edge.ops.durability import NotDurable, check_durability
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_cluster import RedisClusterStore
from tests.cluster.local_cluster import LocalCluster, Node

pytestmark = pytest.mark.redis


def configure(node: Node, *, appendonly: str = "yes", policy: str = "noeviction") -> None:
    with node.client() as client:
        client.config_set("appendonly", appendonly)
        client.config_set("appendfsync", "everysec")
        client.config_set("maxmemory-policy", policy)


@pytest.fixture
def durable_cluster(cluster: LocalCluster) -> Iterator[LocalCluster]:
    """The session's cluster with AOF and noeviction everywhere; put back as it was afterwards."""
    for node in cluster.nodes:
        configure(node)
    yield cluster
    for node in cluster.nodes:
        configure(node, appendonly="no")


@pytest.fixture
async def cluster_store(cluster: LocalCluster) -> AsyncIterator[RedisClusterStore]:
    store = RedisClusterStore(cluster.url, Keys(f"pe-test-{uuid.uuid4().hex[:8]}:"))
    yield store
    await store.aclose()


async def test_aof_and_noeviction_on_every_node_is_durable(durable_cluster: LocalCluster,
                                                           cluster_store: RedisClusterStore) -> None:
    report = await check_durability(cluster_store, require=True)
    assert report.durable and report.aof is True and report.maxmemory_policy == "noeviction"
    assert len(report.nodes) == len(durable_cluster.nodes)
    assert sorted(name.split(" ")[1] for name in report.nodes) == ["(primary)"] * 3 + ["(replica)"] * 3


async def test_one_replica_without_aof_is_named_and_refused(durable_cluster: LocalCluster,
                                                            cluster_store: RedisClusterStore,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    replica = next(node for node in durable_cluster.nodes if durable_cluster.roles()[node.port] == "slave")
    master = durable_cluster.master_of("anything")
    configure(replica, appendonly="no")
    configure(master, policy="allkeys-lru")
    with caplog.at_level(logging.WARNING, logger="pricing_edge.ops.durability"):
        report = await check_durability(cluster_store, require=False)
    assert not report.durable and report.aof is False and report.maxmemory_policy is None
    (aof_problem,) = [p for p in report.problems if "AOF is off" in p]
    (policy_problem,) = [p for p in report.problems if "allkeys-lru" in p]
    assert aof_problem.startswith(f"{replica.address} (replica)") and policy_problem.startswith(f"{master.address} (primary)")
    warning = caplog.text
    assert "NOT DURABLE — Redis Cluster at redis+cluster://" in warning and replica.address in warning
    with pytest.raises(NotDurable):
        await check_durability(cluster_store, require=True)
