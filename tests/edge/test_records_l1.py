"""The records' L1 is bounded by memory: past its bound the least recently used records go (and come back
from the store, not the ERP), the bytes it holds are a gauge per kind, hits and misses are counted."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
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
