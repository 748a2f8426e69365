"""The records' L1 is bounded by memory: past its bound the least recently used records go (and come back
from the store, not the ERP), the bytes it holds are a gauge per kind, hits and misses are counted; an ERP
event's records reach it with the event's invalidation."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.codec import Stored
from pricing_edge.store.embedded import EmbeddedStore
from tests.support.servers import ServerThread, serve

BOUND = 40_000  # bytes: a few dozen price records
DATASET = build_dataset(7)
SKUS = sorted({sku for (price_list, sku, currency) in DATASET.prices.records if price_list == 2 and currency == "USD"})


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        yield server


def gauge(metrics: EdgeMetrics, kind: str) -> float:
    return metrics.value("pricing_edge_l1_bytes", {"kind": kind})


def lookups(metrics: EdgeMetrics, tier: str, result: str) -> float:
    return metrics.value("pricing_edge_cache_lookups_total", {"tier": tier, "kind": "price", "result": result})


async def test_the_bound_holds_and_evicted_records_come_back_from_the_store(erp: ServerThread) -> None:
    assert len(SKUS) >= 150
    metrics = EdgeMetrics()
    adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
    records = RecordService(EmbeddedStore(announce=False), adapter, metrics, erp_budget=10.0, l1_bytes=BOUND)
    try:
        for start in range(0, len(SKUS), 10):  # far more records than the bound holds
            found = await records.prices(2, "USD", SKUS[start:start + 10])
            assert set(found) == set(SKUS[start:start + 10])
            assert 0 < gauge(metrics, "price") <= BOUND
        assert records.l1.bytes() <= BOUND and records.l1.evictions > 0
        erp_keys = metrics.value("pricing_edge_erp_keys_read_total", {"kind": "price"})
        assert erp_keys == len(SKUS)

        hot = SKUS[-5:]  # the most recently used: still in L1
        hits = lookups(metrics, "l1", "hit")
        assert set(await records.prices(2, "USD", hot)) == set(hot)
        assert lookups(metrics, "l1", "hit") == hits + len(hot)

        cold = SKUS[:5]  # evicted long ago: a miss in L1, a hit in the store, no ERP read
        misses, l2_hits = lookups(metrics, "l1", "miss"), lookups(metrics, "l2", "hit")
        assert set(await records.prices(2, "USD", cold)) == set(cold)
        assert lookups(metrics, "l1", "miss") == misses + len(cold)
        assert lookups(metrics, "l2", "hit") == l2_hits + len(cold)
        assert metrics.value("pricing_edge_erp_keys_read_total", {"kind": "price"}) == erp_keys

        await records.stock(SKUS[:3])
        assert gauge(metrics, "stock") > 0 and gauge(metrics, "price") + gauge(metrics, "stock") <= BOUND
        records.drop_all()
        assert gauge(metrics, "price") == gauge(metrics, "stock") == 0
    finally:
        await adapter.aclose()


@dataclass
class Records:
    """A process's records on an empty store, for the tests of what an ERP event's invalidation brings."""

    records: RecordService
    store: EmbeddedStore
    metrics: EdgeMetrics

    def __init__(self, adapter: SimulatedErpAdapter) -> None:
        self.metrics, self.store = EdgeMetrics(), EmbeddedStore(announce=False)
        self.records = RecordService(self.store, adapter, self.metrics, erp_budget=10.0)

    def lookups(self, tier: str, kind: str, result: str) -> float:
        return self.metrics.value("pricing_edge_cache_lookups_total", {"tier": tier, "kind": kind, "result": result})


@pytest.fixture
async def edge(erp: ServerThread) -> AsyncIterator[Records]:
    adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
    yield Records(adapter)
    await adapter.aclose()


# --- an ERP event's records reach L1 with its invalidation ----------------------------------------
# The re-projection after an event reads them without asking the store, the newest version wins whatever
# order messages arrive in, a stock level joins its SKU's other locations, and a key named without its
# record is dropped and read again.

async def test_a_carried_price_replaces_l1s_and_is_read_without_the_store(edge: Records) -> None:
    sku = SKUS[0]
    held = (await edge.records.prices(2, "USD", [sku]))[sku]
    newer = replace(held, price=Decimal("123.45"), version=held.version + 1)
    await edge.store.put_price(newer)  # the cache updater wrote it, then published it
    edge.records.changed([(2, "USD", sku)], [], [Stored(newer, 1_000)])

    misses = edge.lookups("l1", "price", "miss")
    lookup = await edge.records.price_lookup(2, "USD", [sku])
    assert lookup.found[(2, "USD", sku)] == newer
    assert edge.lookups("l1", "price", "miss") == misses  # from L1: no store read after the event
    assert lookup.oldest_ms == 1_000  # as of when it was written, not when it was read

    # An older record arriving later (another process's message, overtaken) changes nothing.
    edge.records.changed([(2, "USD", sku)], [], [Stored(held, 2_000)])
    assert (await edge.records.prices(2, "USD", [sku]))[sku] == newer


async def test_a_carried_stock_level_joins_its_skus_other_locations(edge: Records) -> None:
    sku = SKUS[1]
    levels = (await edge.records.stock([sku]))[sku]
    assert len(levels) >= 2, "the demo data holds stock at several locations"
    first = min(levels)
    changed = replace(levels[first], on_hand=levels[first].on_hand + 500, version=levels[first].version + 1)
    await edge.store.put_stock(changed)
    edge.records.changed([], [sku], [Stored(changed, 1_000)])

    misses = edge.lookups("l1", "stock", "miss")
    now = (await edge.records.stock([sku]))[sku]
    assert edge.lookups("l1", "stock", "miss") == misses
    assert now == {**levels, first: changed}

    stale = replace(changed, on_hand=1, version=changed.version - 1)
    edge.records.changed([], [sku], [Stored(stale, 2_000)])
    assert (await edge.records.stock([sku]))[sku][first] == changed


async def test_a_key_named_without_its_record_or_not_held_is_read_again_from_the_store(edge: Records) -> None:
    price_sku, stock_sku = SKUS[2], SKUS[3]
    held = (await edge.records.prices(2, "USD", [price_sku]))[price_sku]
    newer = replace(held, price=Decimal("9.99"), version=held.version + 1)
    await edge.store.put_price(newer)
    level = next(iter((await edge.records.stock([stock_sku]))[stock_sku].values()))  # in the store and L1
    edge.records.drop_stock(stock_sku)  # gone from L1 (evicted, say)
    moved = replace(level, on_hand=level.on_hand + 7, version=level.version + 1)
    await edge.store.put_stock(moved)

    # The price is named with no record (a message that could not carry it); the SKU's stock is not in L1.
    edge.records.changed([(2, "USD", price_sku)], [stock_sku], [Stored(moved, 1_000)])

    price_misses, stock_misses = edge.lookups("l1", "price", "miss"), edge.lookups("l1", "stock", "miss")
    assert (await edge.records.prices(2, "USD", [price_sku]))[price_sku] == newer
    assert (await edge.records.stock([stock_sku]))[stock_sku][moved.location_id] == moved
    assert edge.lookups("l1", "price", "miss") == price_misses + 1
    assert edge.lookups("l1", "stock", "miss") == stock_misses + 1
