"""Session-wide fixtures: a Redis of the test run's own, each test with its own key prefix; the leak
check (no process, no key left behind). How to write a test that runs safely in parallel: tests/README.md."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from pricing_edge.store.base import Store
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from pricing_edge.store.reservations import EmbeddedReservations, RedisReservations, ReservationStore
from tests.support import stuck
from tests.support.tls import share_the_default_tls_context
from tests.support.servers import ServerThread
from tests.support.redis_server import (RedisProcess, answers, delete_prefix, keys_left, new_prefix,
                                        session_namespace)

pytest_plugins = ["tests.support.leaks", "tests.support.cpu_report", "pytester"]
share_the_default_tls_context()  # ~25 ms of CPU per HTTP call otherwise (tests/support/tls.py)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``PRICING_EDGE_TEST_REDIS_URL``, else a ``redis-server`` of this test process's own (one per xdist
    worker). At the end, a key this run left behind fails the run."""
    configured = os.environ.get("PRICING_EDGE_TEST_REDIS_URL")
    left: list[str] = []
    if configured:
        if not answers(configured):
            raise RuntimeError(f"PRICING_EDGE_TEST_REDIS_URL={configured} does not answer PING")
        yield configured
        left = keys_left(configured, f"{session_namespace()}*")
        delete_prefix(configured, session_namespace())
    else:
        from tests.support.leaks import outlives_the_test  # (imported here: the plugin is loaded by name below)

        server = RedisProcess()
        server.start()
        assert server.pid is not None
        outlives_the_test(server.pid)
        try:
            yield server.url
            left = keys_left(server.url)  # nothing else writes to this server: every key is a leftover
        finally:
            server.stop()
    if left:
        pytest.fail(f"the tests left Redis keys behind (showing up to 20): {sorted(left)}; delete them in the "
                    "fixture that made them, or put them under a redis_prefix", pytrace=False)


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = new_prefix()
    yield prefix
    delete_prefix(redis_url, prefix)


@pytest.fixture(params=["embedded", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The same test against the embedded store and a real Redis (never a stand-in for Redis)."""
    if request.param == "embedded":
        yield EmbeddedStore(announce=False)
        return
    # Patient: on a loaded machine a burst of new connections can take seconds; outage tests make their own.
    redis_store = RedisStore(request.getfixturevalue("redis_url"), Keys(request.getfixturevalue("redis_prefix")),
                             socket_timeout=10.0)
    yield redis_store
    await redis_store.aclose()


@pytest.fixture(params=["embedded", "redis"])
async def reservations(request: pytest.FixtureRequest) -> AsyncIterator[ReservationStore]:
    """Soft stock reservations in memory and in a real Redis."""
    if request.param == "embedded":
        yield EmbeddedReservations()
        return
    # A patient pool: a burst of 500 add-to-carts on a loaded machine must not read as "Redis down".
    store = RedisReservations(request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"),
                              socket_timeout=15.0)
    yield store
    await store.aclose()


@pytest.fixture
def stuck_erp_server() -> Iterator[ServerThread]:
    """The ERP simulator with every call held for two minutes (see tests/support/stuck.py)."""
    yield from stuck.stuck_erp_server()


@pytest.fixture
async def stuck_erp(stuck_erp_server: ServerThread) -> AsyncIterator[stuck.StuckErp]:
    """That ERP and an adapter patient enough to wait for it: a caller is stuck until cancelled."""
    async for erp in stuck.stuck_erp(stuck_erp_server):
        yield erp
