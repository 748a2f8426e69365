"""A read that finds another replica reading a key from the ERP (its lock taken) waits for that read — and is
woken by the replica's announcement on the invalidation channel once the record is in the store, not by
polling the store. Two replicas (two RecordServices, each with its own Redis connection and L1, each listening
to the channel as an edge process does), one slow ERP, its reads counted: one read per key across both."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from pricing_edge.edge import records
from pricing_edge.edge.cache_updater import Invalidation, listen_for_invalidations
from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.keys import INVALIDATION, Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until
from tests.support.servers import ServerThread, serve

SKUS = [sku for sku in (f"PE-{10000 + i}" for i in range(30)) if build_dataset(7).prices.get(2, sku, "USD")][:3]


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    """A slow ERP (300 ms a read): the second replica asks while the first one's read is under way."""
    with serve(create_app(build_dataset(7), latency_ms=300)) as server:
        yield server


class Replica:
    def __init__(self, url: str, prefix: str, erp_url: str) -> None:
        self.store = RedisStore(url, Keys(prefix), socket_timeout=10.0)
        self.adapter = SimulatedErpAdapter(erp_url, timeout=10)
        self.records = RecordService(self.store, self.adapter, EdgeMetrics(), erp_budget=5.0)
        self.heard: list[Invalidation] = []

    def on_change(self, change: Invalidation) -> None:  # what the edge app does with the renewals it hears
        self.heard.append(change)
        self.records.renewed(change.renewed_prices, change.renewed_stock)


@pytest.fixture
async def replicas(erp: ServerThread, redis_url: str, redis_prefix: str) -> AsyncIterator[list[Replica]]:
    both = [Replica(redis_url, redis_prefix, erp.base_url) for _ in range(2)]
    listening = [asyncio.create_task(listen_for_invalidations(r.store, r.on_change)) for r in both]

    async def subscribed() -> bool:  # published until each replica hears it: its subscription is in place
        await both[0].store.publish(INVALIDATION, Invalidation(customers=[0]).encode())
        return all(r.heard for r in both)

    await async_wait_until(subscribed, what="both replicas to listen to the invalidation channel")
    yield both
    for task in listening:
        task.cancel()
    await asyncio.gather(*listening, return_exceptions=True)
    for replica in both:
        await replica.adapter.aclose()
        await replica.store.aclose()


async def erp_reads(erp: ServerThread) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=30) as client:
        counted: dict[str, int] = (await client.get(erp.base_url + "/_sim/reads", params={"reset": "1"})).json()["reads"]
    return counted


async def test_a_read_waiting_for_another_replicas_erp_read_is_woken_when_the_record_lands(
        erp: ServerThread, replicas: list[Replica], redis_url: str, redis_prefix: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # No store check would come within the ERP budget (5 s): only the wake-up can bring the record in time.
    monkeypatch.setattr(records, "RENEWAL_RECHECK", 60.0)
    first, second = replicas
    reading = asyncio.create_task(first.records.prices(2, "USD", SKUS))
    locks = aioredis.from_url(redis_url)
    try:
        lock_names = [Keys(redis_prefix).lock(f"price:2:USD:{sku}") for sku in SKUS]

        async def locked() -> bool:
            return bool(await locks.exists(*lock_names) == len(lock_names))

        await async_wait_until(locked, interval=0.005, what="the first replica to take the keys' locks")
        waited = await second.records.prices(2, "USD", SKUS)  # the locks are taken: it waits for the first's read
        assert set(waited) == set(SKUS)
        assert set(await reading) == set(SKUS)
        assert await erp_reads(erp) == {f"price:2:USD:{sku}": 1 for sku in SKUS}  # one read per key, both replicas
        assert any(change.renewed_prices for change in second.heard)
    finally:
        await locks.aclose()
