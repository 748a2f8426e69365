"""Refresh-ahead under one cross-replica lock: two edge replicas (two RecordServices, each with its own
store connection and L1) hammer the same hot keys through refresh windows, and the ERP simulator's read
counter shows one read per key per window — the replica that loses a key's lock takes the renewed record
from the store. The stores stamp what they keep with the real time, so the windows are real: a TTL of a
few seconds, waited out (not polled for); a refresh lands most of a window before the next is due."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pricing_edge.edge.records import REFRESH_AHEAD, RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.base import Store
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until
from tests.support.servers import ServerThread, serve

PRICE_TTL = 6.0  # refreshed ahead from 4.8 s
SKUS = [sku for sku in (f"PE-{10000 + i}" for i in range(30)) if build_dataset(7).prices.get(2, sku, "USD")][:12]
REPLICAS = 2
ROUNDS = 25  # lookups per replica per window, all at once


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    """A slow ERP (100 ms a read): replicas that refresh at the same moment overlap for sure."""
    with serve(create_app(build_dataset(7), latency_ms=100)) as server:
        yield server


@pytest.fixture(params=["redis", "embedded"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[list[Store]]:
    """One store per replica: two Redis connections under one prefix, or the one embedded store both share."""
    if request.param == "embedded":
        shared = EmbeddedStore(announce=False)
        yield [shared] * REPLICAS
        return
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    connections: list[Store] = [RedisStore(url, Keys(prefix), socket_timeout=10.0) for _ in range(REPLICAS)]
    yield connections
    for connection in connections:
        await connection.aclose()


async def erp_reads(erp: ServerThread) -> dict[str, int]:
    """Reads per key since the last call (the count starts again)."""
    async with httpx.AsyncClient(timeout=30) as client:
        counted: dict[str, int] = (await client.get(erp.base_url + "/_sim/reads", params={"reset": "1"})).json()["reads"]
    return counted


async def settled(replicas: list[RecordService]) -> bool:
    """No refresh or read-through still running in any replica."""
    return not any(replica.background() for replica in replicas)


async def test_one_erp_read_per_key_per_refresh_window_across_replicas(erp: ServerThread, stores: list[Store]) -> None:
    adapters = [SimulatedErpAdapter(erp.base_url, timeout=10) for _ in stores]
    replicas = [RecordService(store, adapter, EdgeMetrics(), price_ttl=PRICE_TTL, erp_budget=10.0)
                for store, adapter in zip(stores, adapters, strict=True)]
    try:
        await asyncio.gather(*(replica.prices(2, "USD", SKUS) for replica in replicas))
        await async_wait_until(lambda: settled(replicas), what="the first reads to finish")
        assert await erp_reads(erp) == {f"price:2:USD:{sku}": 1 for sku in SKUS}  # read-through: one per key
        learned = (await replicas[0].price_lookup(2, "USD", SKUS)).oldest_ms or 0
        for window in range(2):
            # Every record is due for a refresh ahead: waiting out most of a TTL, not polling for an outcome.
            await asyncio.sleep(max(0.0, learned / 1000 + PRICE_TTL * REFRESH_AHEAD + 0.1 - time.time()))
            started = int(time.time() * 1000)
            lookups = [replica.price_lookup(2, "USD", SKUS) for replica in replicas for _ in range(ROUNDS)]
            for lookup in await asyncio.gather(*lookups):
                assert set(lookup.found) == {(2, "USD", sku) for sku in SKUS} and not lookup.stale
            await async_wait_until(lambda: settled(replicas), what=f"window {window}'s refreshes to finish")
            reads = await erp_reads(erp)
            assert reads == {f"price:2:USD:{sku}": 1 for sku in SKUS}, f"window {window}: {reads}"
            for replica in replicas:  # the replica that lost a key's lock holds the renewed record all the same
                learned = (await replica.price_lookup(2, "USD", SKUS)).oldest_ms or 0
                assert learned >= started
        await async_wait_until(lambda: settled(replicas), what="the last lookups to finish")
        assert await erp_reads(erp) == {}
    finally:
        for adapter in adapters:
            await adapter.aclose()
