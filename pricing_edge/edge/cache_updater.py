"""Applies ERP events from the intake stream to the store — once, whichever edge process reads
them (one consumer group shared by all) — and fans invalidations out to every process's L1.

A record replaces the stored one only if its version is newer, so replays and out-of-order
deliveries are harmless. Entries a crashed process left pending are claimed after a while.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pricing_edge.backoff import Backoff
from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import EventDataError, Record, from_data, record_key
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.order_events import is_order_event
from pricing_edge.domain.versioning import ahead_problem
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store import codec
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import CACHE_UPDATER_GROUP, ERP_INTAKE, INVALIDATION

log = logging.getLogger(__name__)
TRIM_EVERY_SECONDS = 5.0  # drop entries every group (this one, the worker's) has acknowledged


@dataclass
class Invalidation:
    """What changed, as every edge process needs to hear it — and, for prices and stock, the records as the
    store now holds them (``store/codec.py``'s form, with when they were written): each process keeps those
    in its L1 rather than dropping the old ones, so what an event changed is visible after the pub/sub hop
    and one re-projection, with no read of the store in between. A message names each key once."""

    prices: list[tuple[int, str, str]] = field(default_factory=list)  # (price list, currency, sku)
    stock: list[str] = field(default_factory=list)
    customers: list[int] = field(default_factory=list)
    companies: list[int] = field(default_factory=list)
    reserved: list[str] = field(default_factory=list)  # SKUs whose reservations changed: shown stock moved
    tokens: list[str] = field(default_factory=list)  # digests of customer access tokens revoked by a logout
    traceparent: str = ""  # the publishing span's: each process's drop continues the event's trace
    # the price records and stock levels written: ("price" | "stock", codec-encoded record)
    records: list[tuple[str, str]] = field(default_factory=list)
    # Keys a process just read from the ERP and wrote to the store (not changed by an event: nothing to drop):
    # processes waiting for that read, rather than reading the ERP themselves, take them from the store now.
    renewed_prices: list[tuple[int, str, str]] = field(default_factory=list)
    renewed_stock: list[str] = field(default_factory=list)

    def add(self, record: Record, as_of_ms: int | None = None) -> None:
        """A record written to the store (at ``as_of_ms``: then it travels with the message)."""
        if isinstance(record, PriceRecord):
            self.prices.append((record.price_list_id, record.currency, record.sku))
        elif isinstance(record, StockLevel):
            self.stock.append(record.sku)
        elif isinstance(record, CustomerRecord):
            self.customers.append(record.customer_id)
        elif isinstance(record, CreditRecord):
            self.companies.append(record.company_id)
        if as_of_ms is not None and isinstance(record, PriceRecord | StockLevel):
            self.records.append(_carried(record, as_of_ms))

    def extend(self, other: Invalidation) -> None:
        self.prices += other.prices
        self.stock += other.stock
        self.customers += other.customers
        self.companies += other.companies
        self.records += other.records

    def __bool__(self) -> bool:
        return bool(self.prices or self.stock or self.customers or self.companies or self.reserved or self.tokens)

    def learned(self) -> list[codec.Stored[PriceRecord] | codec.Stored[StockLevel]]:
        """The records the message carries, newest version of each key only (one it cannot read is left out:
        its key is named all the same, so it is dropped and read again)."""
        newest: dict[str, codec.Stored[PriceRecord] | codec.Stored[StockLevel]] = {}
        for kind, raw in self.records:
            try:
                stored = _read_carried(kind, raw.encode())
            except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
                log.warning("invalidation: a carried record could not be read (%s); dropping its key instead", exc)
                continue
            key = record_key(stored.record)
            if key not in newest or newest[key].record.version < stored.record.version:
                newest[key] = stored
        return list(newest.values())

    def encode(self) -> bytes:
        """One message, each key named once however many events of the batch changed it."""
        body = dict(self.__dict__)
        for name in ("prices", "stock", "customers", "companies", "reserved", "tokens", "renewed_prices",
                     "renewed_stock"):
            body[name] = list(dict.fromkeys(body[name]))
        body["records"] = [_carried(stored.record, stored.as_of_ms) for stored in self.learned()]
        return orjson.dumps(body)

    @classmethod
    def decode(cls, raw: bytes) -> Invalidation:
        data: dict[str, Any] = orjson.loads(raw)
        return cls(prices=[(int(p[0]), str(p[1]), str(p[2])) for p in data.get("prices", [])],
                   stock=data.get("stock", []), customers=data.get("customers", []),
                   companies=data.get("companies", []), reserved=[str(s) for s in data.get("reserved", [])],
                   tokens=[str(t) for t in data.get("tokens", [])], traceparent=str(data.get("traceparent") or ""),
                   records=[(str(r[0]), str(r[1])) for r in data.get("records", []) if len(r) == 2],
                   renewed_prices=[(int(p[0]), str(p[1]), str(p[2])) for p in data.get("renewed_prices", [])],
                   renewed_stock=[str(s) for s in data.get("renewed_stock", [])])


def _carried(record: PriceRecord | StockLevel, as_of_ms: int) -> tuple[str, str]:
    return "price" if isinstance(record, PriceRecord) else "stock", codec.encode(record, as_of_ms).decode()


def _read_carried(kind: str, raw: bytes) -> codec.Stored[PriceRecord] | codec.Stored[StockLevel]:
    if kind == "price":
        return codec.decode(PriceRecord, raw)
    if kind == "stock":
        return codec.decode(StockLevel, raw)
    raise ValueError(f"no such kind of carried record: {kind!r}")


async def apply_record(store: Store, record: Record) -> bool:
    if isinstance(record, PriceRecord):
        return await store.put_price(record)
    if isinstance(record, StockLevel):
        return await store.put_stock(record)
    if isinstance(record, CreditRecord):
        return await store.put_credit(record)
    return await store.put_customer(record)


class CacheUpdater:
    def __init__(self, store: Store, metrics: EdgeMetrics, consumer: str, *, batch: int = 200,
                 block_ms: int = 1000, claim_idle_ms: int = 30_000) -> None:
        self.store = store
        self.metrics = metrics
        self.consumer = consumer
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        # Records written whose invalidation could not be published yet (the publish failed): sent with
        # the next publish. Redelivered entries come back "ignored" (not newer), so nothing else would.
        self.unpublished = Invalidation()

    async def run(self, stopping: Callable[[], bool] = lambda: False) -> None:
        """Consume until cancelled (or ``stopping()``); store outages are waited out with backoff."""
        backoff, last_trim = Backoff(first=0.1, cap=5.0), time.monotonic()
        # The group is made once (again after an outage), and stale entries are claimed now and then, not before
        # every read: at tens of events a second each batch is one event, and its cost is its round trips.
        ready, last_claim = False, float("-inf")
        claim_every = min(TRIM_EVERY_SECONDS, self.claim_idle_ms / 1000)
        while not stopping():
            try:
                if not ready:
                    await self.store.ensure_group(ERP_INTAKE, CACHE_UPDATER_GROUP)
                    ready = True
                if time.monotonic() - last_trim > TRIM_EVERY_SECONDS:
                    last_trim = time.monotonic()
                    await self.store.trim_acknowledged(ERP_INTAKE)
                entries = []
                if time.monotonic() - last_claim >= claim_every:
                    last_claim = time.monotonic()
                    entries = await self.store.claim_stale(ERP_INTAKE, CACHE_UPDATER_GROUP, self.consumer,
                                                           self.claim_idle_ms, self.batch)
                entries += await self.store.read_group(ERP_INTAKE, CACHE_UPDATER_GROUP, self.consumer,
                                                       self.batch, self.block_ms)
                if entries:
                    await self.apply(entries)
                    await asyncio.sleep(0)  # let requests run between batches of a backlog
                elif self.unpublished:
                    await self._publish(Invalidation(), [])
                backoff.reset()
            except StoreError as exc:
                ready = False  # the store may have lost the group with its data
                delay = backoff.next_delay()
                log.warning("cache updater: store unavailable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    async def apply(self, entries: list[tuple[str, dict[str, bytes]]]) -> Invalidation:
        changed = Invalidation()
        traces: list[str] = []  # the spans of the entries that changed something
        try:
            await self._apply_all(entries, changed, traces)
        finally:
            # Published even when the store fails mid-batch: the records already written must be
            # dropped from every L1, and on redelivery they come back "ignored" (not newer).
            await self._publish(changed, traces)
        await self.store.ack(ERP_INTAKE, CACHE_UPDATER_GROUP, [entry_id for entry_id, _ in entries])
        return changed

    async def _publish(self, changed: Invalidation, traces: list[str]) -> None:
        """Publish this batch's invalidations with any an earlier failed publish left; keep them all if
        this one fails too (the next batch, or the next idle turn, sends them)."""
        pending = Invalidation()
        pending.extend(self.unpublished)
        pending.extend(changed)
        if not pending:
            return
        self.unpublished = pending
        with tracing.span(f"{INVALIDATION} publish", traces[0] if traces else None, kind=tracing.PRODUCER,
                          links=[link for t in traces[1:] for link in tracing.link_to(t)]) as traceparent:
            pending.traceparent = traceparent
            await self.store.publish(INVALIDATION, pending.encode())
        self.unpublished = Invalidation()

    async def _apply_all(self, entries: list[tuple[str, dict[str, bytes]]], changed: Invalidation,
                         traces: list[str]) -> None:
        for _, fields in entries:
            with tracing.span(f"{ERP_INTAKE} process", tracing.stored(fields), kind=tracing.CONSUMER) as traceparent:
                if await self._apply_one(fields, changed):
                    traces.append(traceparent)

    async def _apply_one(self, fields: dict[str, bytes], changed: Invalidation) -> bool:
        """Apply one entry; says whether it changed a record."""
        event_type = fields.get("type", b"").decode()
        if is_order_event(event_type):
            # Order events share the intake stream but are for the worker's order flows, not the
            # cache: acknowledged with the batch, nothing stored, not counted as unreadable.
            self.metrics.events.labels(event_type, "skipped").inc()
            return False
        try:
            event = orjson.loads(fields["body"])
            record = from_data(event_type, event["data"])
        except (KeyError, orjson.JSONDecodeError, EventDataError) as exc:
            log.error("cache updater: dropping an unreadable %s entry: %s", event_type or "untyped", exc)
            self.metrics.events.labels(event_type or "unknown", "unreadable").inc()
            return False
        problem = ahead_problem(record.version, int(time.time() * 1000))
        if problem is not None:  # the intake refuses these; an entry from elsewhere must not freeze a record
            log.error("cache updater: refusing a %s entry: version %s", event_type, problem)
            self.metrics.events.labels(event_type, "rejected").inc()
            return False
        tracing.annotate(event_type=event_type)
        written_at = int(time.time() * 1000)  # no later than the store's own stamp: never claims more freshness
        if await apply_record(self.store, record):
            changed.add(record, written_at)
            self.metrics.events.labels(event_type, "applied").inc()
            return True
        self.metrics.events.labels(event_type, "ignored").inc()
        return False


async def listen_for_invalidations(store: Store, on_change: Callable[[Invalidation], Awaitable[None] | None],
                                   stopping: Callable[[], bool] = lambda: False,
                                   on_lost: Callable[[], None] = lambda: None) -> None:
    """Every edge process runs this: apply each invalidation to its own L1; resubscribe after outages.

    Invalidations published while the subscription was down are lost, so once the new subscription
    is in place ``on_lost`` drops everything this process holds (L1, kept answers): it is read again
    from the store, which the cache updater kept current."""
    backoff = Backoff(first=0.1, cap=5.0)
    lost = False

    def joined() -> None:
        nonlocal lost
        if lost:
            lost = False
            on_lost()

    while not stopping():
        try:
            async for raw in store.subscribe(INVALIDATION, joined):
                backoff.reset()
                change = Invalidation.decode(raw)
                with tracing.span(f"{INVALIDATION} apply", change.traceparent or None, kind=tracing.CONSUMER):
                    result = on_change(change)
                    if result is not None:
                        await result
        except StoreError as exc:
            lost = True
            delay = backoff.next_delay()
            log.warning("invalidation channel lost (%s); resubscribing in %.1fs", exc, delay)
            await asyncio.sleep(delay)


class ReservationSignals:
    """Tells every edge process which SKUs' reservations changed, so cached answers follow the stock shown —
    coalesced: at most one message per ``window`` seconds, naming each SKU changed in it once (500 carts
    on one SKU in a second are a handful of invalidations, not 500)."""

    def __init__(self, store: Store, window: float = 0.25) -> None:
        self.store = store
        self.window = window
        self.pending: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def __call__(self, skus: Iterable[str]) -> None:
        self.pending.update(skus)
        if self.pending and not self.tasks:
            task = asyncio.create_task(self._flush(), name="reservation-signals")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _flush(self) -> None:
        await asyncio.sleep(self.window)
        skus, self.pending = sorted(self.pending), set()
        try:
            await self.store.publish(INVALIDATION, Invalidation(reserved=skus).encode())
        except StoreError as exc:  # Redis down: answers expire by their TTL; nothing else to do
            log.warning("could not publish reservation changes for %d SKU(s): %s", len(skus), exc)
