"""Prompt recovery after an ERP outage (issue 19): the ERP is down for 30 s while buyers keep reading half
of the keys (the breaker opens, refreshes fail); once it is back, every key read in the last TTL is fresh
before a 15 s deadline — the keys still being read, and the ones nobody read since (refreshed by the
recovery, hot first, not by a request). Freshness is judged by a clock the test moves (stale at once)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.clock import ManualClock
from tests.support.polling import async_wait_until
from tests.support.servers import ServerThread, serve

PRICE_LIST, CURRENCY = 2, "USD"
CANDIDATES = [f"PE-{10000 + i}" for i in range(160)]  # most are SKUs of the demo catalog
OUTAGE_SECONDS = 30.0
DEADLINE_SECONDS = 15.0


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=2)) as server:
        yield server


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStore]:
    s = RedisStore(redis_url, Keys(redis_prefix), socket_timeout=10.0)
    yield s
    await s.aclose()


async def fault(erp: ServerThread, spec: dict[str, float] | None) -> None:
    async with httpx.AsyncClient(base_url=erp.base_url, timeout=30) as client:
        response = await (client.post("/_sim/faults", json=spec) if spec else client.delete("/_sim/faults"))
        response.raise_for_status()


async def test_after_a_30s_outage_every_key_read_in_the_last_ttl_is_fresh_within_15s(
        erp: ServerThread, store: RedisStore) -> None:
    clock = ManualClock()
    adapter = SimulatedErpAdapter(erp.base_url, timeout=2)
    records = RecordService(store, adapter, EdgeMetrics(), price_ttl=60.0, stock_ttl=60.0, erp_budget=2.0,
                            breaker_threshold=5, breaker_reset=10.0, clock=clock)
    try:
        first = await records.price_lookup(PRICE_LIST, CURRENCY, CANDIDATES)
        skus = sorted(key[2] for key in first.found)
        assert len(skus) >= 100 and not first.stale
        read, unread = skus[::2], skus[1::2]
        learned = (await store.prices_as_of(PRICE_LIST, CURRENCY, unread))
        await fault(erp, {"down_seconds": 600})
        clock.advance(61)  # every record is now past its TTL: served stale, refreshes are due
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:  # buyers keep reading half of the keys
            lookup = await records.price_lookup(PRICE_LIST, CURRENCY, read)
            assert lookup.stale and len(lookup.found) == len(read)  # the last good state, flagged
            await asyncio.sleep(0.2)
        assert records.gate.state != "closed"  # the outage opened the breaker
        await fault(erp, None)

        async def all_fresh() -> bool:
            lookup = await records.price_lookup(PRICE_LIST, CURRENCY, read)  # the buyers go on reading
            stored = await store.prices_as_of(PRICE_LIST, CURRENCY, unread)  # nobody reads these
            renewed = all(stored[sku].as_of_ms > learned[sku].as_of_ms for sku in unread)
            return not lookup.stale and renewed

        await async_wait_until(all_fresh, timeout=DEADLINE_SECONDS, interval=0.2,
                               what="every key read in the last TTL to be fresh again")
    finally:
        await fault(erp, None)
        for task in records.background():
            task.cancel()
        await asyncio.gather(*records.background(), return_exceptions=True)
        await adapter.aclose()
