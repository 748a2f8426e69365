"""Session-wide fixtures: a real Redis, each test with its own key prefix."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from pricing_edge.store.base import Store
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from pricing_edge.store.reservations import EmbeddedReservations, RedisReservations, ReservationStore
from tests.support.redis_server import delete_prefix, test_redis_url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with test_redis_url() as url:
        yield url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"pe-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    delete_prefix(redis_url, prefix)


@pytest.fixture(params=["embedded", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The same test against the embedded store and a real Redis (never a stand-in for Redis)."""
    if request.param == "embedded":
        yield EmbeddedStore(announce=False)
        return
    redis_store = RedisStore(request.getfixturevalue("redis_url"), Keys(request.getfixturevalue("redis_prefix")))
    yield redis_store
    await redis_store.aclose()


@pytest.fixture(params=["embedded", "redis"])
async def reservations(request: pytest.FixtureRequest) -> AsyncIterator[ReservationStore]:
    """Soft stock reservations in memory and in a real Redis."""
    if request.param == "embedded":
        yield EmbeddedReservations()
        return
    store = RedisReservations(request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))
    yield store
    await store.aclose()
