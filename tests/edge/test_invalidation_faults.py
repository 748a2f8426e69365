"""Invalidations survive faults (issue 19): a failed publish loses none of a batch's invalidations, and a
listener that lost its subscription drops what it holds once it is back (it may have missed changes)."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from pricing_edge.edge.cache_updater import CacheUpdater, Invalidation, listen_for_invalidations
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import StoreError
from pricing_edge.store.keys import CACHE_UPDATER_GROUP, ERP_INTAKE, INVALIDATION, Keys
from pricing_edge.store.redis_store import RedisStore
from tests.edge.test_cache_updater import Intake, price
from tests.support.polling import async_wait_until
from tests.support.redis_server import RedisProcess, own_redis_server


class PublishFails(RedisStore):
    """A real Redis store whose next ``failures`` publishes fail, as they do when Redis drops mid-batch."""

    failures = 0

    async def publish(self, channel: str, message: bytes) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("publish failed (injected)")
        await super().publish(channel, message)


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[PublishFails]:
    s = PublishFails(redis_url, Keys(redis_prefix), socket_timeout=10.0)
    yield s
    await s.aclose()


async def test_a_failed_publish_keeps_the_batch_invalidations_for_the_next_one(store: PublishFails) -> None:
    intake = Intake(store)
    heard: list[Invalidation] = []
    listener = asyncio.create_task(listen_for_invalidations(store, heard.append))
    try:
        await subscribed(store, heard)
        await store.ensure_group(ERP_INTAKE, CACHE_UPDATER_GROUP)
        for sku in ("PE-10000", "PE-10001", "PE-10002"):
            await intake.send(price(1, sku=sku))
        updater = CacheUpdater(store, EdgeMetrics(), "edge-1", block_ms=100)
        batch = await store.read_group(ERP_INTAKE, CACHE_UPDATER_GROUP, "edge-1", 10, 100)
        store.failures = 1
        with pytest.raises(StoreError):
            await updater.apply(batch)  # the records are written, their announcement is not
        await intake.send(price(1, sku="PE-10003"))
        later = await store.read_group(ERP_INTAKE, CACHE_UPDATER_GROUP, "edge-1", 10, 100)
        changed = await updater.apply(later)
        assert [p[2] for p in changed.prices] == ["PE-10003"]

        async def announced() -> bool:
            return {p[2] for change in heard for p in change.prices} == {"PE-10000", "PE-10001", "PE-10002",
                                                                          "PE-10003"}

        await async_wait_until(announced, timeout=20, what="every written price to be announced")
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await intake.client.aclose()


async def subscribed(store: RedisStore, heard: list[Invalidation]) -> None:
    async def hears() -> bool:
        await store.publish(INVALIDATION, Invalidation(stock=["probe"]).encode())
        return bool(heard)

    await async_wait_until(hears, timeout=15, what="the listener to subscribe")
    heard.clear()


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server this test may stop and start again."""
    with own_redis_server() as server:
        yield server


async def test_a_listener_back_from_an_outage_drops_what_it_holds(own_redis: RedisProcess) -> None:
    store = RedisStore(own_redis.url, Keys("i19:"), socket_timeout=2.0)
    heard: list[Invalidation] = []
    lost: list[int] = []
    listener = asyncio.create_task(listen_for_invalidations(store, heard.append, on_lost=lambda: lost.append(1)))
    try:
        await subscribed(store, heard)
        assert lost == []  # the first subscription has missed nothing
        own_redis.stop()
        await asyncio.sleep(0)
        own_redis.start()  # changes published meanwhile were never heard
        async def dropped() -> bool:
            return lost == [1]

        await async_wait_until(dropped, timeout=30, what="the listener to drop what it holds")
        await subscribed(store, heard)
        assert lost == [1]
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await store.aclose()
