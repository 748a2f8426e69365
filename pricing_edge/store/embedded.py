"""The embedded store: everything in this process's memory. For the one-process demo and tests only;
it keeps nothing across restarts and cannot be shared between processes (it says so at start)."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import Record
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.domain.versioning import replaces
from pricing_edge.store import codec
from pricing_edge.store.codec import R
from pricing_edge.store.base import BuildsItsParts, RecordReads, StreamEntry
from pricing_edge.store.codec import StockSnapshot
from pricing_edge.store.keys import Keys

if TYPE_CHECKING:
    from pricing_edge.store.audit import AuditLog
    from pricing_edge.store.ledger import Ledger
    from pricing_edge.store.reservations import ReservationStore
    from pricing_edge.store.rest_quota import RestQuota
    from pricing_edge.store.work_queue import WorkQueue

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _Group:
    next_index: int = 0
    pending: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> (consumer, delivered at)


@dataclass
class _Stream:
    entries: list[StreamEntry] = field(default_factory=list)
    groups: dict[str, _Group] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def index_of(self, entry_id: str) -> int:
        return next(i for i, (eid, _) in enumerate(self.entries) if eid == entry_id)


class EmbeddedStore(BuildsItsParts, RecordReads):
    kind = "embedded"

    def __init__(self, keys: Keys | None = None, announce: bool = False) -> None:
        self.keys = keys or Keys()
        self._records: dict[str, bytes] = {}
        self._stock: dict[str, dict[int, bytes]] = {}
        self._stock_complete: set[str] = set()
        self._locks: dict[str, tuple[str, float]] = {}  # name → (holder, expires at)
        self._values: dict[str, tuple[bytes, float]] = {}
        self._streams: dict[str, _Stream] = {}
        self._subscribers: dict[str, set[asyncio.Queue[bytes]]] = {}
        self._ids = itertools.count(1)
        if announce:
            log.warning("embedded store: everything is kept in this process's memory and lost when it stops "
                        "(set PRICING_EDGE_REDIS_URL for a durable, shared store)")

    # -- what this store builds: the same in-memory semantics, shared by whoever asks ----------
    def _new_work_queue(self) -> WorkQueue:
        from pricing_edge.store.work_queue import EmbeddedWorkQueue

        return EmbeddedWorkQueue(self)

    def _new_ledger(self) -> Ledger:
        from pricing_edge.store.ledger import EmbeddedLedger

        return EmbeddedLedger()

    def _new_reservations(self) -> ReservationStore:
        from pricing_edge.store.reservations import EmbeddedReservations

        return EmbeddedReservations()

    def _new_audit_log(self) -> AuditLog:
        from pricing_edge.store.audit import EmbeddedAuditLog

        return EmbeddedAuditLog()

    def _new_rest_quota(self, store_hash: str) -> RestQuota:
        from pricing_edge.store.rest_quota import LocalRestQuota

        return LocalRestQuota()

    # -- records -------------------------------------------------------------------------------
    def _put(self, key: str, record: Record, touch: bool = False) -> bool:
        current = self._records.get(key)
        version = codec.version_of(current) if current is not None else None
        if not (replaces(record.version, version) or (touch and version == record.version)):
            return False
        self._records[key] = codec.encode(record, now_ms())
        return True

    def _get(self, key: str, kind: type[R]) -> R | None:
        raw = self._records.get(key)
        return codec.decode_record(kind, raw) if raw is not None else None

    async def prices_as_of(self, price_list_id: int, currency: str,
                           skus: Iterable[str]) -> dict[str, codec.Stored[PriceRecord]]:
        found = {}
        for sku in skus:
            raw = self._records.get(self.keys.price(price_list_id, currency, sku))
            if raw is not None:
                found[sku] = codec.decode(PriceRecord, raw)
        return found

    async def put_price(self, record: PriceRecord, *, touch: bool = False) -> bool:
        return self._put(self.keys.price(record.price_list_id, record.currency, record.sku), record, touch)

    async def put_prices(self, records: Sequence[PriceRecord], *, touch: bool = False) -> int:
        return sum(self._put(self.keys.price(r.price_list_id, r.currency, r.sku), r, touch) for r in records)

    async def stock_as_of(self, skus: Iterable[str]) -> dict[str, StockSnapshot]:
        found: dict[str, StockSnapshot] = {}
        for sku in skus:
            key = self.keys.stock(sku)
            levels = self._stock.get(key)
            if levels and key in self._stock_complete:
                found[sku] = codec.snapshot(levels.values())
        return found

    def _put_level(self, level: StockLevel, touch: bool) -> bool:
        levels = self._stock.setdefault(self.keys.stock(level.sku), {})
        current = levels.get(level.location_id)
        version = codec.version_of(current) if current is not None else None
        if not (replaces(level.version, version) or (touch and version == level.version)):
            return False
        levels[level.location_id] = codec.encode(level, now_ms())
        return True

    async def put_stock(self, level: StockLevel) -> bool:
        return self._put_level(level, touch=False)

    async def put_stock_levels(self, levels: list[StockLevel]) -> None:
        for level in levels:
            self._put_level(level, touch=True)
        self._stock_complete.update(self.keys.stock(level.sku) for level in levels)

    async def get_credit(self, company_id: int) -> CreditRecord | None:
        return self._get(self.keys.credit(company_id), CreditRecord)

    async def credit_as_of(self, company_id: int) -> codec.Stored[CreditRecord] | None:
        raw = self._records.get(self.keys.credit(company_id))
        return codec.decode(CreditRecord, raw) if raw is not None else None

    async def put_credit(self, record: CreditRecord, *, touch: bool = False) -> bool:
        return self._put(self.keys.credit(record.company_id), record, touch)

    async def get_customer(self, customer_id: int) -> CustomerRecord | None:
        return self._get(self.keys.customer(customer_id), CustomerRecord)

    async def put_customer(self, record: CustomerRecord) -> bool:
        return self._put(self.keys.customer(record.customer_id), record)

    # -- values --------------------------------------------------------------------------------
    async def get_value(self, key: str) -> bytes | None:
        entry = self._values.get(self.keys.value(key))
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    async def set_value(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._values[self.keys.value(key)] = (value, time.monotonic() + ttl_seconds)

    async def count(self, key: str, window_seconds: float) -> int:
        name, now = self.keys.value(key), time.monotonic()
        entry = self._values.get(name)
        if entry is None or entry[1] <= now:
            entry = (b"0", now + window_seconds)
        counted = int(entry[0]) + 1
        self._values[name] = (str(counted).encode(), entry[1])
        return counted

    async def delete_value(self, key: str) -> None:
        self._values.pop(self.keys.value(key), None)

    # -- streams -------------------------------------------------------------------------------
    def _stream(self, name: str) -> _Stream:
        return self._streams.setdefault(self.keys.stream(name), _Stream())

    async def append_once(self, stream: str, dedup_key: str, fields: Mapping[str, bytes],
                          dedup_ttl_seconds: float) -> str | None:
        dedup = self.keys.dedup(stream, dedup_key)
        if await self.get_value(dedup) is not None:
            return None
        await self.set_value(dedup, b"1", dedup_ttl_seconds)
        entry_id = f"{now_ms()}-{next(self._ids)}"
        target = self._stream(stream)
        target.entries.append((entry_id, dict(fields)))
        target.changed.set()
        return entry_id

    async def ensure_group(self, stream: str, group: str) -> None:
        self._stream(stream).groups.setdefault(group, _Group())

    async def read_group(self, stream: str, group: str, consumer: str, count: int, block_ms: int) -> list[StreamEntry]:
        target = self._stream(stream)
        state = target.groups.setdefault(group, _Group())
        deadline = time.monotonic() + block_ms / 1000
        while state.next_index >= len(target.entries):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            target.changed.clear()
            try:
                async with asyncio.timeout(remaining):  # not wait_for: on 3.11 it can swallow a cancellation
                    await target.changed.wait()
            except TimeoutError:
                return []
        batch = target.entries[state.next_index: state.next_index + count]
        state.next_index += len(batch)
        for entry_id, _ in batch:
            state.pending[entry_id] = (consumer, time.monotonic())
        return batch

    async def ack(self, stream: str, group: str, entry_ids: Iterable[str]) -> None:
        state = self._stream(stream).groups.get(group)
        if state:
            for entry_id in entry_ids:
                state.pending.pop(entry_id, None)

    async def claim_stale(self, stream: str, group: str, consumer: str, min_idle_ms: int,
                          count: int) -> list[StreamEntry]:
        target = self._stream(stream)
        state = target.groups.get(group)
        if state is None:
            return []
        cutoff = time.monotonic() - min_idle_ms / 1000
        claimed = [eid for eid, (_, at) in state.pending.items() if at <= cutoff][:count]
        for entry_id in claimed:
            state.pending[entry_id] = (consumer, time.monotonic())
        return [target.entries[target.index_of(eid)] for eid in claimed]

    async def trim_acknowledged(self, stream: str) -> int:
        target = self._stream(stream)
        if not target.groups:
            return 0
        floors = []
        for state in target.groups.values():
            pending = [target.index_of(eid) for eid in state.pending]
            floors.append(min([state.next_index, *pending]))
        cut = min(floors)
        del target.entries[:cut]
        for state in target.groups.values():
            state.next_index -= cut
        return cut

    # -- pub/sub -------------------------------------------------------------------------------
    async def publish(self, channel: str, message: bytes) -> None:
        for queue in self._subscribers.get(self.keys.channel(channel), set()):
            queue.put_nowait(message)

    async def subscribe(self, channel: str, on_joined: Callable[[], None] | None = None) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        subscribers = self._subscribers.setdefault(self.keys.channel(channel), set())
        subscribers.add(queue)
        if on_joined is not None:
            on_joined()
        try:
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)

    async def acquire(self, names: Iterable[str], ttl_ms: int, *, holder: str | None = None) -> set[str]:
        now = time.monotonic()
        token = holder or self.lock_holder
        held = set()
        for name in names:
            if self._locks.get(name, ("", 0.0))[1] <= now:
                self._locks[name] = (token, now + ttl_ms / 1000)
                held.add(name)
        return held

    async def release(self, names: Iterable[str], *, holder: str | None = None) -> None:
        token = holder or self.lock_holder
        for name in names:
            if self._locks.get(name, ("", 0.0))[0] == token:
                del self._locks[name]

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
