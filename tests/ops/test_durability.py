"""The durability check at start, against real Redis servers of our own (never the shared one's config).

One private ``redis-server`` serves the module; each test sets the configuration it needs with CONFIG SET
on that private server. CONFIG being unavailable (managed Redis) is reproduced with an ACL user that may
not run CONFIG, so the check falls back to INFO.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from pricing_edge.config import Settings
from pricing_edge.edge.app import create_edge_app
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.intake import envelope
from pricing_edge.ops.durability import DurabilityReport, NotDurable, assess, check_durability
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.redis_server import RedisProcess, own_redis_server, free_port, new_prefix

pytestmark = pytest.mark.redis

LOGGER = "pricing_edge.ops.durability"
FIXES = ("appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction")


@pytest.fixture(scope="module")
def private_redis() -> Iterator[RedisProcess]:
    """A redis-server of this module's own: its configuration is ours to change."""
    with own_redis_server() as server:
        yield server


def configure(server: RedisProcess, *, appendonly: str = "yes", appendfsync: str = "everysec",
              policy: str = "noeviction") -> None:
    client = redis.Redis.from_url(server.url)
    try:
        client.config_set("appendonly", appendonly)
        client.config_set("appendfsync", appendfsync)
        client.config_set("maxmemory-policy", policy)
    finally:
        client.close()


@pytest.fixture
async def private_store(private_redis: RedisProcess) -> AsyncIterator[RedisStore]:
    store = RedisStore(private_redis.url, Keys(new_prefix()))
    yield store
    await store.aclose()


@pytest.fixture
async def no_config_store(private_redis: RedisProcess) -> AsyncIterator[RedisStore]:
    """A client whose user may run everything but CONFIG, as on managed Redis."""
    password = f"pw-{uuid.uuid4().hex}"
    admin = redis.Redis.from_url(private_redis.url)
    admin.acl_setuser("limited", enabled=True, passwords=[f"+{password}"], keys=["~*"], channels=["&*"],
                      commands=["+@all", "-config"], reset=True)
    admin.close()
    store = RedisStore(f"redis://limited:{password}@127.0.0.1:{private_redis.port}/0")
    store.test_password = password  # type: ignore[attr-defined]
    yield store
    await store.aclose()


def warnings_of(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING)


# --- Redis configured for durability: no warning -------------------------------------------------

async def test_aof_and_noeviction_pass_without_a_warning(private_redis: RedisProcess, private_store: RedisStore,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    configure(private_redis)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        report = await check_durability(private_store, require=True)
    assert report.durable and report.source == "config"
    assert (report.aof, report.appendfsync, report.maxmemory_policy) == (True, "everysec", "noeviction")
    assert warnings_of(caplog) == ""
    assert any("is durable" in r.getMessage() for r in caplog.records if r.name == LOGGER)


async def test_appendfsync_always_is_durable_too(private_redis: RedisProcess, private_store: RedisStore) -> None:
    configure(private_redis, appendfsync="always")
    assert (await check_durability(private_store, require=True)).durable


# --- not durable: a warning saying what can be lost and the fix; require refuses ----------------

async def test_aof_off_warns_what_is_lost_and_require_refuses(private_redis: RedisProcess,
                                                              private_store: RedisStore,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    configure(private_redis, appendonly="no")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        report = await check_durability(private_store, require=False)
    assert not report.durable and report.aof is False
    warning = warnings_of(caplog)
    assert warning.startswith("NOT DURABLE") and warning.count("\n") >= 4  # prominent and multi-line
    assert "AOF is off" in warning and "Redis restart" in warning
    assert "accepted webhook" in warning and "queued order" in warning
    assert all(fix in warning for fix in FIXES)
    assert f"127.0.0.1:{private_redis.port}" in warning
    assert "PRICING_EDGE_REQUIRE_DURABLE=1" in warning

    caplog.clear()
    with pytest.raises(NotDurable) as refused:
        await check_durability(private_store, require=True)
    assert "refusing to start" in str(refused.value) and "AOF is off" in str(refused.value)
    assert all(fix in str(refused.value) for fix in FIXES)


async def test_an_evicting_policy_warns_about_lost_or_duplicated_orders(private_redis: RedisProcess,
                                                                        private_store: RedisStore,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    configure(private_redis, policy="allkeys-lru")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        report = await check_durability(private_store, require=False)
    assert report.aof is True and report.maxmemory_policy == "allkeys-lru" and not report.durable
    warning = warnings_of(caplog)
    assert "AOF is off" not in warning
    assert "allkeys-lru" in warning and "memory pressure" in warning
    for lost in ("streams", "dedup keys", "ledger entries", "lost", "posted twice"):
        assert lost in warning
    assert all(fix in warning for fix in FIXES)
    with pytest.raises(NotDurable):
        await check_durability(private_store, require=True)


async def test_both_problems_are_listed(private_redis: RedisProcess, private_store: RedisStore) -> None:
    configure(private_redis, appendonly="no", policy="volatile-ttl")
    report = await check_durability(private_store, require=False)
    assert len(report.problems) == 2


async def test_appendfsync_no_is_not_durable(private_redis: RedisProcess, private_store: RedisStore) -> None:
    configure(private_redis, appendfsync="no")
    report = await check_durability(private_store, require=False)
    assert not report.durable and "appendfsync is 'no'" in report.problems[0]


# --- CONFIG unavailable: INFO instead ------------------------------------------------------------

async def test_without_config_the_check_reads_info(private_redis: RedisProcess, no_config_store: RedisStore,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):  # sanity: this user really cannot run CONFIG
        await no_config_store.client.config_get("appendonly")

    configure(private_redis)
    report = await check_durability(no_config_store, require=True)
    assert report.source == "info" and report.durable
    assert report.aof is True and report.maxmemory_policy == "noeviction" and report.appendfsync is None
    assert any("appendfsync" in note for note in report.notes)

    configure(private_redis, appendonly="no", policy="allkeys-lfu")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        report = await check_durability(no_config_store, require=False)
    assert report.source == "info" and report.aof is False and report.maxmemory_policy == "allkeys-lfu"
    warning = warnings_of(caplog)
    assert "AOF is off" in warning and "allkeys-lfu" in warning
    assert no_config_store.test_password not in warning  # type: ignore[attr-defined]
    with pytest.raises(NotDurable):
        await check_durability(no_config_store, require=True)


async def test_an_unreachable_redis_is_not_known_to_be_durable(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            report = await check_durability(store, require=False)
        assert not report.durable and "could not be read" in warnings_of(caplog)
        with pytest.raises(NotDurable):
            await check_durability(store, require=True)
    finally:
        await store.aclose()


# --- the embedded store keeps nothing --------------------------------------------------------------

async def test_the_embedded_store_says_it_keeps_nothing_and_require_refuses(
        caplog: pytest.LogCaptureFixture) -> None:
    store = EmbeddedStore(announce=False)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        report = await check_durability(store, require=False)
    assert report == DurabilityReport("embedded", problems=report.problems) and not report.durable
    warning = warnings_of(caplog)
    assert "keeps nothing" in warning and "lost when it exits" in warning and "demo and tests only" in warning
    with pytest.raises(NotDurable, match="PRICING_EDGE_REQUIRE_DURABLE=1"):
        await check_durability(store, require=True)


# --- the verdict itself ------------------------------------------------------------------------------

@pytest.mark.parametrize(("settings", "durable"), [
    ({"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}, True),
    ({"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction"}, True),
    ({"appendonly": "no", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}, False),
    ({"appendonly": "yes", "appendfsync": "no", "maxmemory-policy": "noeviction"}, False),
    ({"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "allkeys-lru"}, False),
    ({"aof_enabled": "1", "maxmemory_policy": "noeviction"}, True),
    ({"aof_enabled": "0", "maxmemory_policy": "noeviction"}, False),
    ({"aof_enabled": "1"}, False),  # the policy unknown: it may evict
    ({}, False),
])
def test_assess(settings: dict[str, str], durable: bool) -> None:
    assert assess(settings).durable is durable


# --- the edge runs the check first and refuses to start ---------------------------------------------

async def test_the_edge_app_refuses_to_start_on_the_embedded_store_when_durability_is_required() -> None:
    settings = Settings(event_secret=envelope.generate_secret(), require_durable=1)
    app = create_edge_app(settings, EmbeddedStore(announce=False), SimulatedErpAdapter("http://127.0.0.1:9"))
    with pytest.raises(NotDurable):
        async with app.router.lifespan_context(app):  # start-up, as uvicorn runs it
            pytest.fail("the edge started")


def test_pricing_edge_serve_exits_when_redis_is_not_durable_and_durability_is_required(
        private_redis: RedisProcess) -> None:
    configure(private_redis, appendonly="no")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    env = {**clean, "PRICING_EDGE_REDIS_URL": private_redis.url, "PRICING_EDGE_REQUIRE_DURABLE": "1",
           "PRICING_EDGE_EVENT_SECRET": envelope.generate_secret(),
           "PRICING_EDGE_UPSTREAM_URL": f"http://127.0.0.1:{free_port()}/graphql"}
    result = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "serve", "--port", str(free_port())],
                            env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "NotDurable" in output and "AOF is off" in output and "appendonly yes" in output


def test_pricing_edge_worker_warns_on_a_redis_without_aof_and_refuses_when_durability_is_required(
        private_redis: RedisProcess) -> None:
    configure(private_redis, appendonly="no")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    env = {**clean, "PRICING_EDGE_REDIS_URL": private_redis.url, "PRICING_EDGE_REQUIRE_DURABLE": "1"}
    result = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "worker", "--port", str(free_port())],
                            env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "NotDurable" in output and "every queued order" in output


async def test_the_worker_app_refuses_to_start_on_the_embedded_store_when_durability_is_required() -> None:
    from pricing_edge.worker.main import worker_app

    settings = Settings(require_durable=1, erp_url="http://127.0.0.1:9", admin_url="http://127.0.0.1:9")
    app = worker_app(settings, store=EmbeddedStore())
    with pytest.raises(NotDurable):
        async with app.router.lifespan_context(app):
            pytest.fail("the worker started")
