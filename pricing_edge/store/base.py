"""The store contract shared by the embedded (in-process) store and the Redis store.

Everything pricing-edge keeps between requests goes through this: versioned ERP records, small
expiring values (catalog skeletons, token → buyer), intake streams with consumer groups, and the
invalidation channel. One test suite runs against both implementations.
"""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.store.codec import StockSnapshot, Stored

if TYPE_CHECKING:
    from pricing_edge.store.audit import AuditLog
    from pricing_edge.store.ledger import Ledger
    from pricing_edge.store.reservations import ReservationStore
    from pricing_edge.store.rest_quota import RestQuota
    from pricing_edge.store.work_queue import WorkQueue

StreamEntry = tuple[str, dict[str, bytes]]  # (entry id, fields)
T = TypeVar("T")


class StoreError(Exception):
    """The store could not be reached or answered wrongly (Redis down, timeout)."""


class StoreBusy(StoreError):
    """The store is up but did not answer in time: a command timed out, or no pooled connection was free.

    Under load this is not "Redis down": a caller whose degraded rule is only safe while Redis is truly
    unreachable (the cart guard's Redis-down rule) must tell the two apart. Everything else may keep
    handling ``StoreError`` as one.
    """


class Store(Protocol):
    kind: str  # "embedded", "redis" or "redis-cluster"

    # -- what lives beside the records, on the same backend (one object each per store) --------
    def work_queue(self) -> WorkQueue: ...
    def ledger(self) -> Ledger: ...
    def reservations(self) -> ReservationStore: ...
    def audit_log(self) -> AuditLog: ...
    def rest_quota(self, store_hash: str) -> RestQuota: ...

    # -- versioned ERP records: a write applies only if its version is newer -------------------
    async def get_prices(self, price_list_id: int, currency: str, skus: Iterable[str]) -> dict[str, PriceRecord]: ...
    async def prices_as_of(self, price_list_id: int, currency: str,
                           skus: Iterable[str]) -> dict[str, Stored[PriceRecord]]:
        """The records with when each was learned (for freshness)."""
        ...

    async def put_price(self, record: PriceRecord, *, touch: bool = False) -> bool:
        """Write if newer; with ``touch`` (an ERP read of the same version) also re-stamp its freshness."""
        ...

    async def put_prices(self, records: Sequence[PriceRecord], *, touch: bool = False) -> int:
        """Many records at once (a bulk load, an ERP read), each written only if newer (``touch``: as
        ``put_price``'s): one round trip per server, not one per record. Returns how many were written."""
        ...

    async def stock_as_of(self, skus: Iterable[str]) -> dict[str, StockSnapshot]: ...
    async def get_stock(self, skus: Iterable[str]) -> dict[str, dict[int, StockLevel]]:
        """Levels by location, only for SKUs whose every location is known (see ``put_stock_levels``)."""
        ...

    async def put_stock(self, level: StockLevel) -> bool:
        """One location's level, as an event brings it: it does not make the SKU's stock complete."""
        ...

    async def put_stock_levels(self, levels: list[StockLevel]) -> None:
        """Every location of the SKUs in ``levels`` (an ERP read or a bulk load): marks them complete
        and re-stamps the freshness of levels whose version is unchanged."""
        ...
    async def get_credit(self, company_id: int) -> CreditRecord | None: ...
    async def credit_as_of(self, company_id: int) -> Stored[CreditRecord] | None: ...
    async def put_credit(self, record: CreditRecord, *, touch: bool = False) -> bool: ...
    async def get_customer(self, customer_id: int) -> CustomerRecord | None: ...
    async def put_customer(self, record: CustomerRecord) -> bool: ...

    # -- small expiring values ---------------------------------------------------------------
    async def get_value(self, key: str) -> bytes | None: ...
    async def set_value(self, key: str, value: bytes, ttl_seconds: float) -> None: ...
    async def delete_value(self, key: str) -> None: ...
    async def count(self, key: str, window_seconds: float) -> int:
        """Add one to a counter that starts at the first count and lives ``window_seconds``; the new count
        (a fixed window, shared by every process that uses the same store)."""
        ...

    # -- streams -------------------------------------------------------------------------------
    async def append_once(self, stream: str, dedup_key: str, fields: Mapping[str, bytes],
                          dedup_ttl_seconds: float) -> str | None:
        """Append unless ``dedup_key`` was seen within its TTL, atomically; the new entry id, or None."""
        ...

    async def ensure_group(self, stream: str, group: str) -> None: ...
    async def read_group(self, stream: str, group: str, consumer: str, count: int,
                         block_ms: int) -> list[StreamEntry]: ...
    async def ack(self, stream: str, group: str, entry_ids: Iterable[str]) -> None: ...
    async def claim_stale(self, stream: str, group: str, consumer: str, min_idle_ms: int,
                          count: int) -> list[StreamEntry]: ...
    async def trim_acknowledged(self, stream: str) -> int:
        """Drop the entries every consumer group has acknowledged; how many went."""
        ...

    # -- invalidation fan-out ------------------------------------------------------------------
    async def publish(self, channel: str, message: bytes) -> None: ...
    def subscribe(self, channel: str, on_joined: Callable[[], None] | None = None) -> AsyncIterator[bytes]:
        """Messages published on ``channel`` from the moment the subscription is in place (``on_joined``)."""
        ...

    async def acquire(self, names: Iterable[str], ttl_ms: int, *, holder: str | None = None) -> set[str]:
        """Short locks (cross-replica coalescing): the names this caller now holds. Each lock keeps its
        holder's token (``holder``, else this store's own ``lock_holder``)."""
        ...

    async def release(self, names: Iterable[str], *, holder: str | None = None) -> None:
        """Frees only the locks this holder still holds: one that expired and another process took since
        stays theirs (compare-and-delete, never a plain delete)."""
        ...

    async def ping(self) -> bool: ...
    async def aclose(self) -> None: ...


class RecordReads:
    """``get_prices``/``get_stock`` derived from the as-of reads, for stores to inherit."""

    async def prices_as_of(self, price_list_id: int, currency: str,
                           skus: Iterable[str]) -> dict[str, Stored[PriceRecord]]:
        raise NotImplementedError

    async def stock_as_of(self, skus: Iterable[str]) -> dict[str, StockSnapshot]:
        raise NotImplementedError

    async def get_prices(self, price_list_id: int, currency: str, skus: Iterable[str]) -> dict[str, PriceRecord]:
        return {sku: held.record for sku, held in (await self.prices_as_of(price_list_id, currency, skus)).items()}

    async def get_stock(self, skus: Iterable[str]) -> dict[str, dict[int, StockLevel]]:
        return {sku: snapshot.levels for sku, snapshot in (await self.stock_as_of(skus)).items()}


class BuildsItsParts:
    """``work_queue()``, ``ledger()``, ``reservations()``, ``audit_log()``: one of each per store, built on first use by the
    store's kind (``_new_*``), so every caller of one store shares them."""

    def _new_work_queue(self) -> WorkQueue:
        raise NotImplementedError

    def _new_ledger(self) -> Ledger:
        raise NotImplementedError

    def _new_reservations(self) -> ReservationStore:
        raise NotImplementedError

    def _new_audit_log(self) -> AuditLog:
        raise NotImplementedError

    def _new_rest_quota(self, store_hash: str) -> RestQuota:
        raise NotImplementedError

    def rest_quota(self, store_hash: str) -> RestQuota:
        """The store's REST API quota window (one per store hash), shared by every REST Admin client."""
        return self._once(f"rest_quota:{store_hash}", lambda: self._new_rest_quota(store_hash))

    @property
    def lock_holder(self) -> str:
        """This store's own lock token (one per store object, so per process): the value its locks hold."""
        return self._once("lock_holder", lambda: uuid.uuid4().hex)

    def _once(self, name: str, build: Callable[[], T]) -> T:
        built: dict[str, Any] = self.__dict__.setdefault("_parts", {})
        if name not in built:
            built[name] = build()
        part: T = built[name]
        return part

    def work_queue(self) -> WorkQueue:
        return self._once("work_queue", self._new_work_queue)

    def ledger(self) -> Ledger:
        return self._once("ledger", self._new_ledger)

    def reservations(self) -> ReservationStore:
        return self._once("reservations", self._new_reservations)

    def audit_log(self) -> AuditLog:
        return self._once("audit_log", self._new_audit_log)
