"""RecordService: L1 → store (L2) → one coalesced read of the ERP per key, against the ERP simulator over
real HTTP; when the ERP fails, keys are simply absent (the overlay keeps BigCommerce's value)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.base import Store
from tests.support.polling import async_wait_until
from tests.support.servers import ServerThread, serve

ERP_READS = "pricing_edge_erp_reads_total"
LOOKUPS = "pricing_edge_cache_lookups_total"
SKUS = ["PE-10000", "PE-10001", "PE-10002"]


@pytest.fixture(scope="module")
def truth() -> Dataset:
    """A pristine copy of the dataset the simulator starts from (the simulator mutates its own)."""
    return build_dataset(7)


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=5)) as server:
        yield server


@dataclass
class Edge:
    records: RecordService
    metrics: EdgeMetrics
    store: Store
    erp_url: str

    def reads(self, outcome: str = "ok", kind: str = "price") -> float:
        return self.metrics.value(ERP_READS, {"kind": kind, "outcome": outcome})

    def lookups(self, tier: str, result: str, kind: str = "price") -> float:
        return self.metrics.value(LOOKUPS, {"tier": tier, "kind": kind, "result": result})


@pytest.fixture
async def adapter(erp: ServerThread) -> AsyncIterator[SimulatedErpAdapter]:
    a = SimulatedErpAdapter(erp.base_url, timeout=10)
    yield a
    await a.aclose()


def make_edge(store: Store, adapter: SimulatedErpAdapter, erp: ServerThread, **ttls: float) -> Edge:
    """A generous ERP budget: these tests are about read-through and coalescing, not about the budget
    (tests/e2e/test_resilience.py is); a cold connection on a busy machine must not make them flaky."""
    metrics = EdgeMetrics()
    return Edge(RecordService(store, adapter, metrics, erp_budget=10.0, **ttls), metrics, store, erp.base_url)


@pytest.fixture
def edge(store: Store, adapter: SimulatedErpAdapter, erp: ServerThread) -> Edge:
    return make_edge(store, adapter, erp)


async def sim(erp_url: str, method: str, path: str, body: object | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.request(method, erp_url + path, json=body)
    assert response.is_success, response.text
    return response


# --- prices ------------------------------------------------------------------------------------

async def test_a_first_read_goes_to_the_erp_once_and_lands_in_the_store(edge: Edge, truth: Dataset) -> None:
    found = await edge.records.prices(2, "USD", SKUS)
    expected = {sku: truth.prices.get(2, sku, "USD") for sku in SKUS}
    assert found == expected
    assert edge.reads() == 1  # one read for all three keys
    assert edge.metrics.value("pricing_edge_erp_keys_read_total", {"kind": "price"}) == 3
    assert await edge.store.get_prices(2, "USD", SKUS) == expected


async def test_a_second_read_is_an_l1_hit(edge: Edge, truth: Dataset) -> None:
    first = await edge.records.prices(2, "USD", SKUS)
    second = await edge.records.prices(2, "USD", SKUS)
    assert second == first
    assert edge.reads() == 1
    assert edge.lookups("l1", "hit") == 3 and edge.lookups("l1", "miss") == 3


async def test_prices_are_kept_apart_per_list_and_currency(edge: Edge, truth: Dataset) -> None:
    usd = await edge.records.prices(2, "USD", ["PE-10000"])
    eur = await edge.records.prices(2, "EUR", ["PE-10000"])
    other = await edge.records.prices(3, "USD", ["PE-10000"])
    assert usd["PE-10000"] == truth.prices.get(2, "PE-10000", "USD")
    assert eur["PE-10000"] == truth.prices.get(2, "PE-10000", "EUR")
    assert other["PE-10000"] == truth.prices.get(3, "PE-10000", "USD")
    assert len({usd["PE-10000"].price, eur["PE-10000"].price, other["PE-10000"].price}) == 3
    assert edge.reads() == 3


async def test_after_an_l1_drop_the_read_comes_from_the_store_not_the_erp(edge: Edge, truth: Dataset) -> None:
    before = (await edge.records.prices(2, "USD", ["PE-10000"]))["PE-10000"]
    # The ERP moves on, but no event has reached this store: L2 still holds what was read.
    await sim(edge.erp_url, "POST", "/_sim/changes/price",
              {"price_list_id": 2, "sku": "PE-10000", "currency": "USD", "price": "1.11"})
    assert edge.records.drop_price(2, "USD", "PE-10000") is True

    again = (await edge.records.prices(2, "USD", ["PE-10000"]))["PE-10000"]
    assert again == before and again.price != Decimal("1.11")
    assert edge.reads() == 1
    assert edge.lookups("l2", "hit") == 1
    assert edge.records.drop_price(2, "USD", "PE-10099") is False  # nothing cached for it


async def test_a_second_process_reads_what_the_first_put_in_the_store(
        store: Store, adapter: SimulatedErpAdapter, erp: ServerThread, truth: Dataset) -> None:
    first, second = make_edge(store, adapter, erp), make_edge(store, adapter, erp)
    await first.records.prices(4, "EUR", SKUS)
    assert await second.records.prices(4, "EUR", SKUS) == {s: truth.prices.get(4, s, "EUR") for s in SKUS}
    assert second.reads() == 0 and second.lookups("l2", "hit") == 3


async def test_concurrent_reads_of_the_same_missing_keys_make_one_erp_read(edge: Edge, truth: Dataset) -> None:
    answers = await asyncio.gather(*(edge.records.prices(5, "USD", SKUS) for _ in range(50)))
    expected = {sku: truth.prices.get(5, sku, "USD") for sku in SKUS}
    assert all(answer == expected for answer in answers)
    assert edge.reads() == 1
    assert edge.metrics.value("pricing_edge_erp_keys_read_total", {"kind": "price"}) == 3


async def test_overlapping_concurrent_reads_ask_the_erp_for_each_key_once(edge: Edge, truth: Dataset) -> None:
    skus = list(truth.iter_skus())[:10]
    windows = [skus[i:i + 4] for i in range(0, 7)] * 5  # every key wanted by several overlapping requests
    answers = await asyncio.gather(*(edge.records.prices(2, "USD", window) for window in windows))
    for window, answer in zip(windows, answers, strict=True):
        assert answer == {sku: truth.prices.get(2, sku, "USD") for sku in window}
    assert edge.metrics.value("pricing_edge_erp_keys_read_total", {"kind": "price"}) == len(skus)


async def test_a_sku_unknown_to_the_erp_is_absent_and_not_asked_again_within_the_ttl(
        store: Store, adapter: SimulatedErpAdapter, erp: ServerThread, truth: Dataset) -> None:
    edge = make_edge(store, adapter, erp, price_ttl=60)
    found = await edge.records.prices(2, "USD", ["PE-10000", "NO-SUCH-SKU"])
    assert found == {"PE-10000": truth.prices.get(2, "PE-10000", "USD")}
    assert await edge.records.prices(2, "USD", ["NO-SUCH-SKU"]) == {}
    assert await edge.records.prices(2, "USD", ["NO-SUCH-SKU", "PE-10000"]) == {
        "PE-10000": truth.prices.get(2, "PE-10000", "USD")}
    assert edge.reads() == 1
    assert await store.get_prices(2, "USD", ["NO-SUCH-SKU"]) == {}


async def test_a_sku_unknown_to_the_erp_is_asked_again_once_the_ttl_has_passed(
        store: Store, adapter: SimulatedErpAdapter, erp: ServerThread) -> None:
    edge = make_edge(store, adapter, erp, price_ttl=0.5)
    assert await edge.records.prices(2, "USD", ["NO-SUCH-SKU"]) == {}
    assert await edge.records.prices(2, "USD", ["NO-SUCH-SKU"]) == {}
    assert edge.reads() <= 2  # (two only if this machine took the whole TTL between the calls)

    async def asked_again() -> bool:
        await edge.records.prices(2, "USD", ["NO-SUCH-SKU"])
        return edge.reads() >= 2

    await async_wait_until(asked_again, timeout=20, interval=0.1, what="the missing SKU's TTL to expire")


async def test_when_the_erp_is_down_keys_are_absent_and_the_failure_is_not_remembered(
        edge: Edge, truth: Dataset) -> None:
    # Each failing read takes a moment, so concurrent callers surely find it in flight, however loaded the machine.
    await sim(edge.erp_url, "POST", "/_sim/faults", {"down_seconds": 30, "latency_ms": 300})

    assert await edge.records.prices(2, "USD", SKUS) == {}
    assert await edge.records.stock(["PE-10000"]) == {}
    assert edge.reads("error") == 1 and edge.reads("ok") == 0
    assert edge.reads("error", kind="stock") == 1
    assert await edge.store.get_prices(2, "USD", SKUS) == {}

    # Concurrent callers during the outage share the one failing read and all get "absent".
    answers = await asyncio.gather(*(edge.records.prices(2, "USD", SKUS) for _ in range(20)))
    assert answers == [{}] * 20
    assert edge.reads("error") == 2

    # The outage ends: nothing was cached as missing, so the next read gets the ERP's answer.
    await sim(edge.erp_url, "DELETE", "/_sim/faults")
    assert await edge.records.prices(2, "USD", SKUS) == {sku: truth.prices.get(2, sku, "USD") for sku in SKUS}
    assert edge.reads("ok") == 1


# --- stock ---------------------------------------------------------------------------------------

async def test_stock_reads_through_per_location(edge: Edge, truth: Dataset) -> None:
    skus = ["PE-10000", "PE-10001"]
    found = await edge.records.stock(skus + ["NO-SUCH-SKU"])
    expected = {sku: {level.location_id: level for level in truth.stock_for(sku)} for sku in skus}
    assert found == expected
    assert all(len(levels) == 3 for levels in found.values())
    assert edge.reads(kind="stock") == 1
    assert await edge.store.get_stock(skus) == expected  # every location kept in the store

    assert await edge.records.stock(skus + ["NO-SUCH-SKU"]) == expected  # L1 (and the remembered miss)
    assert edge.reads(kind="stock") == 1

    edge.records.drop_stock("PE-10000")
    assert await edge.records.stock(["PE-10000"]) == {"PE-10000": expected["PE-10000"]}  # from L2
    assert edge.reads(kind="stock") == 1 and edge.lookups("l2", "hit", kind="stock") == 1


async def test_stock_concurrent_reads_make_one_erp_read(edge: Edge, truth: Dataset) -> None:
    answers = await asyncio.gather(*(edge.records.stock(["PE-10002"]) for _ in range(50)))
    expected = {"PE-10002": {level.location_id: level for level in truth.stock_for("PE-10002")}}
    assert all(answer == expected for answer in answers)
    assert edge.reads(kind="stock") == 1


async def test_stock_written_by_an_event_for_one_location_does_not_hide_the_others(
        edge: Edge, truth: Dataset) -> None:
    # The cache updater applies an event for warehouse 2 before anyone has read this SKU.
    level = next(level for level in truth.stock_for("PE-10003-BLA-S") if level.location_id == 2)
    await edge.store.put_stock(StockLevel(level.sku, 2, 7, version=level.version + 1))
    found = await edge.records.stock(["PE-10003-BLA-S"])
    assert set(found["PE-10003-BLA-S"]) == {1, 2, 3}


# --- freshness and coalescing across replicas -------------------------------------------------------

async def test_two_replicas_missing_the_same_keys_make_one_erp_read(
        redis_url: str, redis_prefix: str, adapter: SimulatedErpAdapter, erp: ServerThread, truth: Dataset) -> None:
    from pricing_edge.store.keys import Keys
    from pricing_edge.store.redis_store import RedisStore

    stores = [RedisStore(redis_url, Keys(redis_prefix)), RedisStore(redis_url, Keys(redis_prefix))]
    replicas = [make_edge(store, adapter, erp) for store in stores]
    try:
        answers = await asyncio.gather(*(replica.records.prices(2, "USD", SKUS)
                                         for replica in replicas for _ in range(25)))
        expected = {sku: truth.prices.get(2, sku, "USD") for sku in SKUS}
        assert all(answer == expected for answer in answers)
        assert sum(replica.reads() for replica in replicas) == 1
    finally:
        for store in stores:
            await store.aclose()


async def test_a_stale_record_is_served_at_once_and_refreshed_once_in_the_background(
        store: Store, adapter: SimulatedErpAdapter, erp: ServerThread, truth: Dataset) -> None:
    edge = make_edge(store, adapter, erp, price_ttl=0.2)
    first = await edge.records.price_lookup(2, "USD", SKUS)
    assert not first.stale and edge.reads() == 1

    async def stale_served() -> bool:
        lookup = await edge.records.price_lookup(2, "USD", SKUS)
        return lookup.stale and {k[2]: r for k, r in lookup.found.items()} == {
            sku: truth.prices.get(2, sku, "USD") for sku in SKUS}

    await async_wait_until(stale_served, timeout=10, what="the records to be served stale")

    async def refreshed() -> bool:
        return edge.reads() >= 2 and not (await edge.records.price_lookup(2, "USD", SKUS)).stale

    await async_wait_until(refreshed, timeout=10, what="the background refresh to renew them")


# --- one ERP budget per request (issue 19) ----------------------------------------------------------
# Every ERP read takes 60% of the budget: two reads made together end within one budget, two made one
# after the other do not. The latency is a floor, so "past the deadline" cannot be an accident of load.
BUDGET = 2.0
SLOW_READ_MS = 0.6 * BUDGET * 1000


def slow_edge(store: Store, adapter: SimulatedErpAdapter, erp: ServerThread) -> Edge:
    metrics = EdgeMetrics()
    return Edge(RecordService(store, adapter, metrics, erp_budget=BUDGET), metrics, store, erp.base_url)


async def test_lookups_made_together_under_one_deadline_are_both_served_from_the_erp(
        store: Store, adapter: SimulatedErpAdapter, erp: ServerThread, truth: Dataset) -> None:
    edge = slow_edge(store, adapter, erp)
    await sim(edge.erp_url, "POST", "/_sim/faults", {"latency_ms": SLOW_READ_MS})
    deadline = edge.records.deadline()
    prices, stock = await asyncio.gather(edge.records.price_lookup(2, "USD", SKUS, deadline),
                                         edge.records.stock_lookup(SKUS, deadline))
    assert {k[2]: r for k, r in prices.found.items()} == {sku: truth.prices.get(2, sku, "USD") for sku in SKUS}
    assert set(stock.found) == set(SKUS)
    assert not prices.degraded and not stock.degraded
    assert edge.reads("over_budget") == 0 and edge.reads("over_budget", kind="stock") == 0


async def test_a_lookup_after_another_waits_only_what_is_left_of_the_requests_budget(
        store: Store, adapter: SimulatedErpAdapter, erp: ServerThread) -> None:
    edge = slow_edge(store, adapter, erp)
    await sim(edge.erp_url, "POST", "/_sim/faults", {"latency_ms": SLOW_READ_MS})
    deadline = edge.records.deadline()
    prices = await edge.records.price_lookup(2, "USD", SKUS, deadline)
    assert len(prices.found) == len(SKUS) and not prices.degraded  # 60% of the budget spent
    stock = await edge.records.stock_lookup(SKUS, deadline)  # needs 60% more: past the one deadline
    assert stock.found == {} and stock.degraded == {"erp"}
    assert edge.reads("over_budget", kind="stock") == 1
    # Given a budget of its own (no deadline passed), the same sequence is served: the budget is per request.
    own = slow_edge(store, adapter, erp)
    await own.records.price_lookup(3, "USD", SKUS)
    assert set((await own.records.stock_lookup(["PE-10003-BLA-S"])).found) == {"PE-10003-BLA-S"}
    # The read cut short goes on in the background and lands for the next request.
    await asyncio.gather(*edge.records.background())
    again = await edge.records.stock_lookup(SKUS, edge.records.deadline())
    assert set(again.found) == set(SKUS) and edge.reads(kind="stock") == 1
