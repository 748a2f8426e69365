"""The cache updater: events from the intake stream reach the store once, newest version wins, and every
edge process hears what changed.

Events enter the way production's do — signed, through the real intake handler (in process here;
``tests/intake`` covers it over HTTP) — and the updater runs its real loop as a background task.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from pricing_edge.domain import events
from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord
from pricing_edge.edge.cache_updater import CacheUpdater, Invalidation, ReservationSignals, listen_for_invalidations
from pricing_edge.intake import envelope
from pricing_edge.intake.erp_events import ErpEventIntake
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store
from pricing_edge.store.keys import CACHE_UPDATER_GROUP, ERP_INTAKE, INVALIDATION
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until

EVENTS = "pricing_edge_events_total"
PROBE_CUSTOMER = -1  # a customer id no ERP has: marks the listener's readiness probes


def price(version: int, amount: str = "10.00", sku: str = "PE-10000", price_list_id: int = 2,
          currency: str = "USD") -> PriceRecord:
    return PriceRecord(price_list_id, sku, currency, Decimal(amount), sale_price=Decimal("9.50"),
                       bulk_tiers=(BulkTier(10, None, Decimal("8.75")),), version=version)


class Intake:
    """The real ``POST /events/erp`` handler, called in process; events signed as the ERP signs them."""

    def __init__(self, store: Store) -> None:
        self.secret = envelope.generate_secret()
        app = Starlette(routes=[Route("/events/erp", ErpEventIntake(store, self.secret, EdgeMetrics()),
                                      methods=["POST"])])
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge")

    async def send(self, record: events.Record) -> str:
        event = envelope.signed_event(events.event_type_of(record), events.to_data(record), source="urn:test:erp",
                                      secret=self.secret, subject=events.record_key(record))
        response = await self.client.post("/events/erp", content=event.body, headers=event.headers)
        assert response.status_code == 202 and not response.json()["duplicate"], response.text
        return event.id


@pytest.fixture
async def intake(store: Store) -> AsyncIterator[Intake]:
    sender = Intake(store)
    yield sender
    await sender.client.aclose()


@dataclass
class Running:
    """Background tasks of one test, stopped at its end however it ends."""

    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stopping: bool = False

    def updater(self, updater: CacheUpdater) -> CacheUpdater:
        self.tasks.append(asyncio.create_task(updater.run(lambda: self.stopping)))
        return updater

    async def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    tasks = Running()
    yield tasks
    await tasks.stop()


@dataclass
class Heard:
    """What one process's invalidation listener received (readiness probes left out)."""

    received: list[Invalidation] = field(default_factory=list)

    @property
    def invalidations(self) -> list[Invalidation]:
        return [i for i in self.received if i.customers != [PROBE_CUSTOMER]]

    @property
    def prices(self) -> set[tuple[int, str, str]]:
        return {key for i in self.invalidations for key in i.prices}

    @property
    def stock(self) -> set[str]:
        return {sku for i in self.invalidations for sku in i.stock}


async def listen(store: Store, running: Running) -> Heard:
    """Start a listener and return once it is subscribed (it has heard one of our probes)."""
    heard = Heard()

    async def on_change(change: Invalidation) -> None:
        heard.received.append(change)

    running.tasks.append(asyncio.create_task(listen_for_invalidations(store, on_change)))

    async def subscribed() -> bool:
        await store.publish(INVALIDATION, Invalidation(customers=[PROBE_CUSTOMER]).encode())
        return len(heard.received) > len(heard.invalidations)

    await async_wait_until(subscribed, timeout=15, interval=0.05, what="the invalidation listener to subscribe")
    return heard


def updater(store: Store, consumer: str = "edge-1", **kwargs: Any) -> tuple[CacheUpdater, EdgeMetrics]:
    metrics = EdgeMetrics()
    return CacheUpdater(store, metrics, consumer, block_ms=100, **kwargs), metrics


def counted(metrics: EdgeMetrics, event_type: str, result: str) -> float:
    return metrics.value(EVENTS, {"type": event_type, "result": result})


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    return await async_wait_until(check, timeout=20, what=what)


async def stored_price(store: Store, record: PriceRecord) -> PriceRecord | None:
    return (await store.get_prices(record.price_list_id, record.currency, [record.sku])).get(record.sku)


# --- applying ----------------------------------------------------------------------------------

async def test_a_newer_price_replaces_the_stored_one_and_is_announced(
        store: Store, intake: Intake, running: Running) -> None:
    await store.put_price(price(1, "10.00"))
    heard = await listen(store, running)
    upd, metrics = updater(store)
    running.updater(upd)

    newer = price(2, "12.3400")
    await intake.send(newer)

    async def replaced() -> bool:
        return await stored_price(store, newer) == newer

    await until(replaced, "the newer price to be stored")
    await until(lambda: _true(heard.prices), "an invalidation")
    assert heard.prices == {(2, "USD", "PE-10000")}
    assert str((await stored_price(store, newer)).price) == "12.3400"  # type: ignore[union-attr]
    assert counted(metrics, events.PRICE_CHANGED, "applied") == 1


async def _true(value: object) -> bool:
    return bool(value)


async def test_an_older_or_equal_version_is_ignored_and_the_newer_record_stays(
        store: Store, intake: Intake, running: Running) -> None:
    current = price(5, "10.00")
    await store.put_price(current)
    heard = await listen(store, running)
    upd, metrics = updater(store)
    running.updater(upd)

    await intake.send(price(5, "99.00"))  # same version, other content: not newer
    await intake.send(price(4, "1.00"))

    await until(lambda: _true(counted(metrics, events.PRICE_CHANGED, "ignored") == 2), "both events to be ignored")
    assert counted(metrics, events.PRICE_CHANGED, "applied") == 0
    assert await stored_price(store, current) == current

    # Nothing was announced for them: the next announcement is the next real change.
    marker = price(1, "5.00", sku="PE-10001")
    await intake.send(marker)
    await until(lambda: _true(heard.prices), "the marker's invalidation")
    assert heard.prices == {(2, "USD", "PE-10001")}


async def test_out_of_order_delivery_ends_at_the_newest_version(
        store: Store, intake: Intake, running: Running) -> None:
    upd, metrics = updater(store)
    for version in (3, 1, 2):
        await intake.send(price(version, f"{version}.00"))
    running.updater(upd)

    await until(lambda: _true(counted(metrics, events.PRICE_CHANGED, "applied")
                              + counted(metrics, events.PRICE_CHANGED, "ignored") == 3), "all three events")
    assert counted(metrics, events.PRICE_CHANGED, "applied") == 1
    assert counted(metrics, events.PRICE_CHANGED, "ignored") == 2
    assert await stored_price(store, price(3)) == price(3, "3.00")


async def test_stock_credit_and_customer_events_are_applied_to_their_records(
        store: Store, intake: Intake, running: Running) -> None:
    heard = await listen(store, running)
    upd, metrics = updater(store)
    running.updater(upd)
    # The SKU's stock is complete in the store; the event touches warehouse 1, warehouse 2 stays.
    await store.put_stock_levels([StockLevel("PE-10000", 1, 0, version=1), StockLevel("PE-10000", 2, 99, version=1)])

    level = StockLevel("PE-10000", 1, 40, allocated=3, safety_stock=2, backorder=True, lead_time_days=5, version=8)
    credit = CreditRecord(4, Decimal("1000.00"), Decimal("-12.50"), "hold", version=9)
    customer = CustomerRecord(12, customer_group_id=3, company_id=4, version=10)
    for record in (level, credit, customer):
        await intake.send(record)

    async def all_applied() -> bool:
        return all(counted(metrics, t, "applied") == 1
                   for t in (events.STOCK_CHANGED, events.CREDIT_CHANGED, events.CUSTOMER_CHANGED))

    await until(all_applied, "the three events to be applied")
    assert (await store.get_stock(["PE-10000"]))["PE-10000"] == {1: level, 2: StockLevel("PE-10000", 2, 99, version=1)}
    assert await store.get_credit(4) == credit
    assert await store.get_customer(12) == customer

    async def announced() -> bool:
        companies = {c for i in heard.invalidations for c in i.companies}
        customers = {c for i in heard.invalidations for c in i.customers}
        return heard.stock == {"PE-10000"} and companies == {4} and customers == {12}

    await until(announced, "stock, company and customer invalidations")

    # A customer moved out of its group and company: "none" replaces the old values.
    moved = CustomerRecord(12, version=11)
    await intake.send(moved)
    await until(lambda: _eq(store.get_customer(12), moved), "the customer change")


async def _eq(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def test_an_unreadable_entry_is_dropped_without_blocking_the_rest(
        store: Store, intake: Intake, running: Running) -> None:
    await store.append_once(ERP_INTAKE, "garbage-1", {"type": events.PRICE_CHANGED.encode(), "body": b"{not json"},
                            60)
    await store.append_once(ERP_INTAKE, "garbage-2", {"body": b"{}"}, 60)
    good = price(3, "7.00")
    await intake.send(good)
    upd, metrics = updater(store)
    running.updater(upd)

    await until(lambda: _eq(stored_price(store, good), good), "the good event behind the bad ones")
    assert counted(metrics, events.PRICE_CHANGED, "unreadable") == 1
    assert counted(metrics, "unknown", "unreadable") == 1
    # the batch is acknowledged after its invalidation is published, a moment after the price is stored
    await until(lambda: _eq(store.claim_stale(ERP_INTAKE, CACHE_UPDATER_GROUP, "inspector", 0, 100), []),
                "every entry of the batch acknowledged")


# --- one consumer group shared by every edge process ------------------------------------------

def _second_process_store(store: Store) -> Store:
    """What another edge process would hold: its own client of the same Redis (the embedded store
    cannot be shared between processes, so two updaters in one process share it)."""
    return RedisStore(store.url, store.keys, socket_timeout=10.0) if isinstance(store, RedisStore) else store


async def test_two_updaters_apply_every_event_exactly_once_between_them(
        store: Store, intake: Intake, running: Running) -> None:
    other = _second_process_store(store)
    try:
        heard = await listen(other, running)
        first, first_metrics = updater(store, "edge-a", batch=3)
        second, second_metrics = updater(other, "edge-b", batch=3)
        running.updater(first)
        running.updater(second)

        sent = [price(100 + i, f"{i}.25", sku=f"PE-{10000 + i}") for i in range(50)]
        await asyncio.gather(*(intake.send(record) for record in sent))

        def applied() -> float:
            return (counted(first_metrics, events.PRICE_CHANGED, "applied")
                    + counted(second_metrics, events.PRICE_CHANGED, "applied"))

        await until(lambda: _true(applied() >= 50), "50 events to be applied")
        await until(lambda: _true(heard.prices == {(2, "USD", r.sku) for r in sent}), "every price to be announced")
        assert applied() == 50
        for metrics in (first_metrics, second_metrics):
            assert counted(metrics, events.PRICE_CHANGED, "ignored") == 0
        stored = await store.get_prices(2, "USD", [r.sku for r in sent])
        assert stored == {r.sku: r for r in sent}
        # each batch is acknowledged after its invalidation is published, a moment after its prices are stored
        await until(lambda: _eq(store.claim_stale(ERP_INTAKE, CACHE_UPDATER_GROUP, "inspector", 0, 100), []),
                    "every entry acknowledged")
    finally:
        await running.stop()
        if other is not store:
            await other.aclose()


async def test_entries_a_crashed_consumer_left_pending_are_claimed_and_applied(
        store: Store, intake: Intake, running: Running) -> None:
    sent = [price(10 + i, f"{i}.99", sku=f"PE-{10100 + i}") for i in range(5)]
    for record in sent:
        await intake.send(record)
    # An edge process reads a batch and dies before applying or acknowledging it.
    await store.ensure_group(ERP_INTAKE, CACHE_UPDATER_GROUP)
    taken = await store.read_group(ERP_INTAKE, CACHE_UPDATER_GROUP, "edge-crashed", 100, 100)
    assert len(taken) == 5
    assert await store.get_prices(2, "USD", [r.sku for r in sent]) == {}

    survivor, metrics = updater(store, "edge-survivor", claim_idle_ms=200)
    running.updater(survivor)

    await until(lambda: _true(counted(metrics, events.PRICE_CHANGED, "applied") == 5), "the orphaned entries")
    assert await store.get_prices(2, "USD", [r.sku for r in sent]) == {r.sku: r for r in sent}
    # the batch is acknowledged after its invalidation is published, a moment after the price is stored
    await until(lambda: _eq(store.claim_stale(ERP_INTAKE, CACHE_UPDATER_GROUP, "inspector", 0, 100), []),
                "every entry of the batch acknowledged")


# --- order events share the stream but are the worker's ------------------------------------------

async def test_order_events_are_acknowledged_and_skipped_without_touching_records(
        store: Store, intake: Intake, running: Running) -> None:
    heard = await listen(store, running)
    upd, metrics = updater(store)
    order_data = {
        events.SHIPMENT_CREATED: {"shipment_id": "SH-1", "order_number": "SO-1", "reference": "BC-pe-demo-1",
                                  "carrier": "UPS", "tracking_number": "1Z", "order_status": "shipped",
                                  "lines": [{"sku": "PE-10000", "quantity": 1}], "version": 50},
        events.SALES_ORDER_CHANGED: {"order_number": "SO-1", "reference": "BC-pe-demo-1", "status": "completed",
                                     "version": 51},
    }
    for event_type, data in order_data.items():
        event = envelope.signed_event(event_type, data, source="urn:test:erp", secret=intake.secret,
                                      subject="salesorder:SO-1")
        response = await intake.client.post("/events/erp", content=event.body, headers=event.headers)
        assert response.status_code == 202, response.text
    marker = price(1, "5.00", sku="PE-10001")  # behind them: proof that the updater got past them
    await intake.send(marker)
    running.updater(upd)

    await until(lambda: _eq(stored_price(store, marker), marker), "the price behind the order events")
    for event_type in order_data:
        assert counted(metrics, event_type, "skipped") == 1
        assert counted(metrics, event_type, "unreadable") == 0
    await until(lambda: _true(heard.prices), "the marker's invalidation")
    assert heard.prices == {(2, "USD", "PE-10001")} and not heard.stock  # nothing announced for the orders
    assert await store.get_stock(["PE-10000"]) == {}
    # the batch is acknowledged after its invalidation is published, a moment after the price is stored
    await until(lambda: _eq(store.claim_stale(ERP_INTAKE, CACHE_UPDATER_GROUP, "inspector", 0, 100), []),
                "every entry of the batch acknowledged")


async def test_reservation_changes_reach_every_process_coalesced_per_window(store: Store, running: Running) -> None:
    """500 cart holds on one SKU inside one window are one message naming it once, not 500 invalidations."""
    heard = await listen(store, running)
    signals = ReservationSignals(store, window=0.5)
    for i in range(500):
        signals(["HOT-SKU"] if i % 2 else ["HOT-SKU", "OTHER"])
    await until(lambda: _async(bool(heard.invalidations)), "the reservation change to be heard")
    await asyncio.gather(*signals.tasks)
    assert [sorted(i.reserved) for i in heard.invalidations] == [["HOT-SKU", "OTHER"]]
    assert heard.invalidations[0].stock == []  # the stock records stand: only answers showing them go
    signals(["HOT-SKU"])  # a later change: a window of its own
    await until(lambda: _async(len(heard.invalidations) == 2), "the next window's change to be heard")


async def _async(value: bool) -> bool:
    return value


# --- the records travel with the invalidation ------------------------------------------------------

async def test_an_invalidation_carries_the_records_it_announces_as_the_store_holds_them(
        store: Store, intake: Intake, running: Running) -> None:
    heard = await listen(store, running)
    upd, _ = updater(store)
    running.updater(upd)
    newer = price(7, "14.20")
    level = StockLevel("PE-10003", 1, on_hand=40, allocated=2, safety_stock=1, version=9)
    await intake.send(newer)
    await intake.send(level)

    await until(lambda: _true(heard.prices and heard.stock), "both invalidations")
    learned = {type(s.record): s for i in heard.invalidations for s in i.learned()}
    assert learned[PriceRecord].record == newer and learned[StockLevel].record == level
    # stamped when written, never after the store's own stamp: L1 claims no more freshness than the store
    stored = (await store.prices_as_of(2, "USD", [newer.sku]))[newer.sku]
    assert learned[PriceRecord].as_of_ms <= stored.as_of_ms


def test_a_message_names_each_key_once_and_carries_only_the_newest_record_of_each() -> None:
    batch = Invalidation()
    for version, amount in ((3, "1.00"), (5, "5.00"), (4, "4.00")):
        batch.add(price(version, amount), 1_000 + version)
    batch.add(StockLevel("PE-10003", 1, on_hand=5, version=2), 2_000)
    batch.add(StockLevel("PE-10003", 2, on_hand=6, version=1), 2_000)  # another location: another record
    batch.add(CustomerRecord(customer_id=4, customer_group_id=1, company_id=None, version=1), 3_000)

    heard = Invalidation.decode(batch.encode())
    assert heard.prices == [(2, "USD", "PE-10000")] and heard.stock == ["PE-10003"] and heard.customers == [4]
    learned = heard.learned()
    assert [(s.record.version, s.as_of_ms) for s in learned if isinstance(s.record, PriceRecord)] == [(5, 1_005)]
    assert sorted(s.record.location_id for s in learned if isinstance(s.record, StockLevel)) == [1, 2]
    # a message from a process that carries no records (or one it cannot read) still names its keys
    bare = Invalidation.decode(b'{"prices": [[2, "USD", "PE-1"]], "records": [["price", "not a record"]]}')
    assert bare.prices == [(2, "USD", "PE-1")] and bare.learned() == []
