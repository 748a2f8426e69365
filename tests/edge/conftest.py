"""A ``store`` fixture: each test that takes it runs against the embedded store and a real Redis."""
from collections.abc import AsyncIterator

import pytest

from pricing_edge.store.base import Store
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore


@pytest.fixture(params=["embedded", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "embedded":
        yield EmbeddedStore(announce=False)
        return
    prefix = request.getfixturevalue("redis_prefix")
    redis_store = RedisStore(request.getfixturevalue("redis_url"), Keys(prefix))
    yield redis_store
    await redis_store.aclose()
