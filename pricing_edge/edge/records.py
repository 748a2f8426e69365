"""ERP records for the overlay: L1 (this process) → L2 (the store) → one coalesced ERP read per key,
with a freshness state per record (DESIGN.md):

- fresh (age < TTL): served;
- stale (age ≥ TTL): served at once, flagged, and refreshed in the background — once per key in
  this process, and only if its last attempt is not too recent (backoff after failures); a hot record
  is refreshed ahead, from 80% of its TTL, so that under traffic it is rarely seen stale at all
  (``caching.swr``: the one stale-while-revalidate policy). Every ERP read of a key, refresh or
  read-through, runs under the key's short store lock: one read per key per refresh window across every
  edge process — the others take the renewed record from the store (L2) when it lands: the reader announces
  the keys it wrote on the invalidation channel (``renewed_*``), which wakes them (no polling the store);
- missing: read through the ERP within a time budget, coalesced across this process's requests and,
  with a short store lock, across replicas; past the budget (or with the ERP's breaker open) the key
  is absent — the overlay keeps BigCommerce's value — and the read finishes in the background.

L1 keeps the last good copy of every hot key, so reads go on while Redis is unreachable; it is bounded by
memory (``caching.l1``: one LRU over prices and stock, ``l1_bytes`` in all).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from purgatory.domain.model import OpenedState

from pricing_edge.clock import SYSTEM_CLOCK, Clock
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.edge.cache_updater import Invalidation
from pricing_edge.edge.erp_gate import ErpGate
from pricing_edge.edge.record_values import ErpDeadline, Freshness, Held, Lookup, Missing, Packed, Source, compact_entries
from pricing_edge.edge.caching.compact import CompactSection, pack_levels, pack_price, unpack_levels, unpack_price
from pricing_edge.edge.caching.l1 import L1
from pricing_edge.edge.caching.swr import Policy, Revalidator, exponential_delay
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.codec import Stored
from pricing_edge.store.keys import INVALIDATION

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
StockByLocation = dict[int, StockLevel]
ERP = "erp"
REDIS = "redis"
REFRESH_AHEAD = 0.8
RECOVERY_BATCH = 100  # keys per ERP read when the breaker closes again
RECOVERY_BATCHES_PER_SECOND = 20.0  # the bound on the recovery's rate: the ERP has only just come back
RECENT_READS = 100_000  # keys remembered as read lately (recovered hot first after an outage)
LOCK_MARGIN = 1.0  # seconds a key's ERP-read lock outlives the longest ERP read (its holder may die holding it)
L1_BYTES = 128 * 2**20  # the default of PRICING_EDGE_L1_MAX_MB
RENEWAL_RECHECK = 0.25  # seconds between store checks while another process reads a key (its message may be lost)


async def _nothing_to_announce(keys: list[Any]) -> None:
    return None


def now_ms() -> int:
    return int(time.time() * 1000)


class _Tier(Generic[K, V]):
    def __init__(self, kind: str, freshness: Freshness, l1: L1, metrics: EdgeMetrics, gate: ErpGate,
                 store: Store, on_refreshed: Callable[[list[K]], None], clock: Clock,
                 pack: Callable[[V], Packed], unpack: Callable[[Packed, int], V]) -> None:
        self.kind = kind
        self.clock = clock  # judges freshness; waits and retry spacing stay on real time
        self.freshness = freshness
        self.policy = Policy(freshness.ttl, ahead=REFRESH_AHEAD)
        self.l1: CompactSection[Hashable, Held[V] | Missing] = CompactSection(l1.section(kind), *compact_entries(pack, unpack))
        metrics.l1_bytes.labels(kind).set_function(lambda: l1.bytes(kind))
        self.inflight: dict[Hashable, asyncio.Future[Held[V] | None]] = {}
        # Refreshes: one per key at a time, exponential backoff with jitter after failures — never past the
        # breaker's reset: once a probe could succeed, the key is due again (a successful probe clears them all).
        self.revalidator: Revalidator[Any] = Revalidator(exponential_delay(2.0, gate.reset_seconds),
                                                              name=f"{kind} refresh")
        self.gate = gate
        self.store = store
        self.metrics = metrics
        self.on_refreshed = on_refreshed
        # Tells every process which keys were just written from the ERP (RecordService publishes it); and here,
        # the reads waiting for another process's ERP read of a key, woken when it says so.
        self.announce: Callable[[list[K]], Awaitable[None]] = _nothing_to_announce
        self.waiting: dict[Hashable, set[asyncio.Future[None]]] = {}
        self.background = self.revalidator.background  # read-throughs and refreshes, cancelled at shutdown
        self.lock_ms = 2000  # set by RecordService: longer than an ERP read may take, so no second process reads
        # Bumped by every invalidation: a read that started before one must not refill L1 with what it
        # fetched (it may be the state the invalidation replaced).
        self.generation = 0
        # Keys read lately: when, how often, and how to read them again — recovered hot first after an outage.
        # The source by its id: a tuple of atoms is left out of the collector's walk, one holding a Source is not.
        self.reads: LRUCache[Hashable, tuple[float, int, int]] = LRUCache(maxsize=RECENT_READS)
        self.sources: dict[int, Source[Any, V]] = {}
        self.recovering: asyncio.Task[None] | None = None
        self.hits = {t: metrics.cache.labels(t, kind, "hit") for t in ("l1", "l2")}
        self.misses = {t: metrics.cache.labels(t, kind, "miss") for t in ("l1", "l2")}

    async def get(self, keys: list[K], source: Source[K, V], deadline: ErpDeadline | None = None) -> Lookup[K, V]:
        """``deadline``: the request's, shared with its other lookups; None: a budget of this lookup's own."""
        lookup: Lookup[K, V] = Lookup()
        now, clock, generation = self.clock.wall_ms(), self.clock.monotonic(), self.generation
        wanted: list[K] = []
        stale: list[K] = []
        read_at, source_id = time.monotonic(), id(source)
        self.sources.setdefault(source_id, source)  # one per price list and currency (and one for stock)
        for key in keys:
            seen = self.reads.get(key)
            self.reads[key] = (read_at, seen[1] + 1 if seen else 1, source_id)
            held = self.l1.get(key)
            if isinstance(held, Held):
                if lookup.note(key, held, self.freshness.ttl, now) or self._due(held, now):
                    stale.append(key)
            elif held is None or held.until <= clock:
                wanted.append(key)
        self.hits["l1"].inc(len(keys) - len(wanted))
        self.misses["l1"].inc(len(wanted))
        if wanted:
            try:
                stored = await source.from_store(wanted)
            except StoreError as exc:
                log.warning("store unavailable for %s records: %s", self.kind, exc)
                lookup.degraded.add(REDIS)
                stored = {}
            self.hits["l2"].inc(len(stored))
            for key, held in stored.items():
                self._keep(key, held, generation)
                if lookup.note(key, held, self.freshness.ttl, now) or self._due(held, now):
                    stale.append(key)
            absent = [k for k in wanted if k not in stored]
            self.misses["l2"].inc(len(absent))
            if absent:
                await self._read_through(absent, source, lookup, generation,
                                         deadline or ErpDeadline(self.freshness.budget))
        if stale:
            if lookup.stale and self._unreachable(stale):
                lookup.degraded.add(ERP)  # what is shown past its TTL is the last good state
            self._refresh_later(stale, source)
        return lookup

    def _unreachable(self, keys: list[K]) -> bool:
        """The ERP cannot be asked for these keys: its breaker is not closed, or the last refresh failed."""
        if self.gate.state != "closed":
            return True
        return any(self.revalidator.failing(k) for k in keys)

    def _due(self, held: Held[V], now: int) -> bool:
        """Refresh ahead: past REFRESH_AHEAD of its TTL a hot record is renewed before anyone sees it stale."""
        return self.policy.due((now - held.as_of_ms) / 1000)

    def _keep(self, key: Hashable, held: Held[V] | Missing, generation: int) -> None:
        if self.generation == generation:
            self.l1[key] = held

    # -- missing keys: read through, within the budget ---------------------------------------------
    async def _read_through(self, keys: list[K], source: Source[K, V], lookup: Lookup[K, V],
                            generation: int, deadline: ErpDeadline) -> None:
        waiting = {k: self.inflight[k] for k in keys if k in self.inflight}
        mine = [k for k in keys if k not in waiting]
        if mine:
            task = self.revalidator.spawn(self._read_erp(mine, source, generation))
            loop = asyncio.get_running_loop()
            futures: dict[Hashable, asyncio.Future[Held[V] | None]] = {k: loop.create_future() for k in mine}
            self.inflight.update(futures)
            task.add_done_callback(lambda t: self._settle(futures, t))
            waiting.update(futures)  # type: ignore[arg-type]
        done, pending = await asyncio.wait([asyncio.shield(f) for f in waiting.values()],
                                           timeout=deadline.remaining())
        if pending:
            lookup.degraded.add(ERP)
            self.metrics.erp_reads.labels(self.kind, "over_budget").inc()
        for key, future in waiting.items():
            if future.done() and not future.cancelled():
                held = future.result()
                if held is not None:
                    lookup.note(key, held, self.freshness.ttl, self.clock.wall_ms())
                elif self.gate.state != "closed" or not isinstance(self.l1.get(key), Missing):
                    lookup.degraded.add(ERP)

    def _settle(self, futures: dict[Hashable, asyncio.Future[Held[V] | None]], task: asyncio.Future[Any]) -> None:
        result: Mapping[Hashable, Held[V]] = {}
        if not task.cancelled() and task.exception() is None:
            result = task.result()
        for key, future in futures.items():
            self.inflight.pop(key, None)
            if not future.done():
                future.set_result(result.get(key))

    async def _read_erp(self, keys: list[K], source: Source[K, V], generation: int) -> dict[Hashable, Held[V]]:
        """Read keys from the ERP under their store locks: one read per key per refresh window across replicas.
        A key whose lock another replica holds is awaited in L2; one that a replica renewed while we were
        getting its lock comes from L2 too. Store down: every process reads for itself."""
        try:
            held_locks = await self.store.acquire([source.lock_name(k) for k in keys], ttl_ms=self.lock_ms)
        except StoreError:
            held_locks = {source.lock_name(k) for k in keys}
        mine = [k for k in keys if source.lock_name(k) in held_locks]
        theirs = [k for k in keys if source.lock_name(k) not in held_locks]
        result: dict[Hashable, Held[V]] = {}
        if mine:
            try:
                with contextlib.suppress(StoreError):
                    result.update(await self._renewed_in_store(mine, source, generation))
                todo = [k for k in mine if k not in result]
                if todo:
                    result.update(await self._fetch(todo, source, generation))
            finally:
                with contextlib.suppress(StoreError):  # else they expire by themselves
                    await self.store.release([source.lock_name(k) for k in mine])
        if theirs:
            result.update(await self._await_other_replica(theirs, source, generation))
        return result

    async def _renewed_in_store(self, keys: list[K], source: Source[K, V], generation: int) -> dict[Hashable, Held[V]]:
        """The keys another replica renewed (not due for a refresh), kept in L1."""
        stored = await source.from_store(keys)
        now = self.clock.wall_ms()
        renewed: dict[Hashable, Held[V]] = {k: held for k, held in stored.items() if not self._due(held, now)}
        for key, held in renewed.items():
            self._keep(key, held, generation)
        return renewed

    async def _fetch(self, keys: list[K], source: Source[K, V], generation: int) -> dict[Hashable, Held[V]]:
        self.metrics.erp_keys.labels(self.kind).inc(len(keys))
        try:
            values = await self.gate.call(self.kind, lambda: source.from_erp(keys))
        except (ErpError, OpenedState) as exc:
            if isinstance(exc, ErpError):
                self.metrics.erp_reads.labels(self.kind, "error").inc()
            log.warning("ERP read of %d %s keys failed: %s", len(keys), self.kind, exc)
            return {}
        stamp = self.clock.wall_ms()
        result: dict[Hashable, Held[V]] = {}
        for key in keys:
            value = values.get(key)
            if value is None:
                self._keep(key, Missing(self.clock.monotonic() + self.freshness.ttl), generation)
            else:
                result[key] = Held(value, stamp)
                self._keep(key, result[key], generation)
        try:
            await source.to_store({k: v for k, v in values.items()})
            if values:
                await self.announce(list(values))
        except StoreError as exc:
            log.warning("could not keep ERP %s records in the store (or announce them): %s", self.kind, exc)
        return result

    async def _await_other_replica(self, keys: list[K], source: Source[K, V],
                                   generation: int) -> dict[Hashable, Held[V]]:
        """Keys whose lock another process holds: it reads them from the ERP, writes them to the store and says
        so on the invalidation channel (``wake``) — then they are taken from the store, without polling it. A
        store check every ``RENEWAL_RECHECK`` seconds covers a lost message or a holder that died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(self.freshness.budget * 4, 1.0)
        result: dict[Hashable, Held[V]] = {}
        remaining = list(keys)
        while remaining:
            woken: asyncio.Future[None] = loop.create_future()
            for key in remaining:  # waiting before the check: a write announced after it wakes us
                self.waiting.setdefault(key, set()).add(woken)
            try:
                found = await self._renewed_in_store(remaining, source, generation)
                result.update(found)
                remaining = [k for k in remaining if k not in found]
                left = deadline - loop.time()
                if not remaining or left <= 0:
                    break
                await asyncio.wait([woken], timeout=min(left, RENEWAL_RECHECK))
            except StoreError:
                break
            finally:
                self._unwait(woken, keys)
        return result

    def _unwait(self, woken: asyncio.Future[None], keys: list[K]) -> None:
        for key in keys:
            waiters = self.waiting.get(key)
            if waiters is not None:
                waiters.discard(woken)
                if not waiters:
                    del self.waiting[key]

    def wake(self, keys: Iterable[Hashable]) -> None:
        """Some process wrote these keys from the ERP to the store: whoever here waits for them reads them now."""
        for key in keys:
            for woken in self.waiting.pop(key, ()):
                if not woken.done():
                    woken.set_result(None)

    # -- stale keys: serve now, refresh in the background ------------------------------------------
    def _refresh_later(self, keys: list[K], source: Source[K, V]) -> None:
        self.revalidator.start(keys, self._refresher(source))

    def _refresher(self, source: Source[K, V]) -> Callable[[list[Any]], Awaitable[set[Hashable]]]:
        return lambda keys: self._refresh(keys, source)

    @tracing.traced("records.refresh", detached=True)
    async def _refresh(self, keys: list[Any], source: Source[K, V]) -> set[Hashable]:
        """Renew ``keys``: those another replica renewed from the store as they are (no lock, no ERP read: with
        every replica refreshing the same hot keys, most of one's refreshes find them so), the rest under their
        locks (``_read_erp``); which were renewed — the others back off (``Revalidator``)."""
        before = {key: self.l1.get(key) for key in keys}
        generation = self.generation
        try:
            renewed = await self._renewed_in_store(keys, source, generation)
        except StoreError:
            renewed = {}
        rest = [key for key in keys if key not in renewed]
        if rest:
            renewed.update(await self._read_erp(rest, source, generation))
        # Only a changed value outdates the answers built on the old one; a refresh that confirms
        # the same value renews freshness and leaves them alone.
        changed: list[Any] = [k for k, held in renewed.items() if _differs(before[k], held)]
        if changed:
            self.on_refreshed(changed)
        return set(renewed)

    # -- after an outage: refresh what was read lately, hot first, at a bounded rate -------------------
    def recover(self) -> None:
        """The breaker closed again: forget every backoff and refresh the keys read in the last TTL."""
        self.revalidator.forgive()
        if self.recovering is None or self.recovering.done():
            self.recovering = self.revalidator.spawn(self._recover())

    async def _recover(self) -> None:
        since = time.monotonic() - self.freshness.ttl
        recent = sorted(((count, key, self.sources[source_id]) for key, (at, count, source_id)
                         in list(self.reads.items()) if at >= since), key=lambda r: -r[0])  # hot first
        now = self.clock.wall_ms()
        due = [(key, source) for _, key, source in recent
               if isinstance(held := self.l1.get(key), Held) and self._due(held, now)]
        for start in range(0, len(due), RECOVERY_BATCH):
            if self.gate.state != "closed":
                return  # failing again: the next successful probe starts over
            groups: dict[int, tuple[Source[Any, V], list[Any]]] = {}
            for key, source in due[start:start + RECOVERY_BATCH]:
                groups.setdefault(id(source), (source, []))[1].append(key)
            for source, group in groups.values():
                await self.revalidator.run(group, self._refresher(source))
            await asyncio.sleep(1 / RECOVERY_BATCHES_PER_SECOND)

    def drop(self, key: Hashable) -> bool:
        self.generation += 1
        return self.l1.pop(key, None) is not None

    def learn(self, key: Hashable, merge: Callable[[Held[V] | None], Held[V] | None]) -> None:
        """A record the store was just given (an ERP event's): ``merge`` says what L1 holds from now on, given
        what it holds (None: drop the key). Reads under way keep nothing they fetched, as after a drop."""
        self.generation += 1
        current = self.l1.get(key)
        merged = merge(current if isinstance(current, Held) else None)
        if merged is None:
            self.l1.pop(key, None)
        else:
            self.l1[key] = merged

    def drop_all(self) -> None:
        self.generation += 1
        self.l1.clear()


def _newer_price(held: Held[PriceRecord] | None, stored: Stored[PriceRecord]) -> Held[PriceRecord]:
    if held is not None and held.value.version >= stored.record.version:
        return held
    return Held(stored.record, stored.as_of_ms)


def _with_level(held: Held[StockByLocation] | None, stored: Stored[StockLevel]) -> Held[StockByLocation] | None:
    """The SKU's levels with ``stored``'s location replaced (if newer); its freshness stays the oldest level's.
    Nothing held: dropped (the other locations are not known here)."""
    if held is None:
        return None
    level = stored.record
    current = held.value.get(level.location_id)
    if current is not None and current.version >= level.version:
        return held
    return Held({**held.value, level.location_id: level}, min(held.as_of_ms, stored.as_of_ms))


def _differs(old: object, new: Held[Any]) -> bool:
    return not isinstance(old, Held) or old.value != new.value


@dataclass(frozen=True)
class PriceLookup:
    records: dict[str, PriceRecord]
    lookup: Lookup[Any, Any]


class RecordService:
    def __init__(self, store: Store, erp: ErpAdapter, metrics: EdgeMetrics, *, price_ttl: float = 60.0,
                 stock_ttl: float = 10.0, erp_budget: float = 0.15, l1_bytes: int = L1_BYTES,
                 breaker_threshold: int = 5, breaker_reset: float = 10.0,
                 on_refreshed: Callable[[str, list[Any]], None] = lambda kind, keys: None,
                 clock: Clock = SYSTEM_CLOCK, erp_timeout: float = 5.0) -> None:
        self.store = store
        self.erp = erp
        self.metrics = metrics
        self.clock = clock
        self.erp_budget = erp_budget
        self.gate = ErpGate(metrics, breaker_threshold, breaker_reset, erp_budget)
        self.l1 = L1(l1_bytes)  # prices and stock under one memory bound
        self._prices: _Tier[tuple[int, str, str], PriceRecord] = _Tier(
            "price", Freshness(price_ttl, erp_budget), self.l1, metrics, self.gate, store,
            lambda keys: on_refreshed("price", keys), clock, pack_price, unpack_price)
        self._stock: _Tier[str, StockByLocation] = _Tier(
            "stock", Freshness(stock_ttl, erp_budget), self.l1, metrics, self.gate, store,
            lambda keys: on_refreshed("stock", keys), clock, pack_levels, unpack_levels)
        for tier in (self._prices, self._stock):  # an ERP read may take up to its timeout: the lock outlives it
            tier.lock_ms = int((erp_timeout + LOCK_MARGIN) * 1000)
        self._prices.announce = lambda keys: self._announce(Invalidation(renewed_prices=keys))
        self._stock.announce = lambda keys: self._announce(Invalidation(renewed_stock=keys))
        self._price_sources: dict[tuple[int, str], Source[tuple[int, str, str], PriceRecord]] = {}
        self._stock_source = self._make_stock_source()
        self.gate.on_closed.append(self._recover)

    async def _announce(self, renewed: Invalidation) -> None:
        await self.store.publish(INVALIDATION, renewed.encode())

    def renewed(self, prices: Iterable[tuple[int, str, str]], stock: Iterable[str]) -> None:
        """Keys some process just wrote from the ERP (the invalidation channel's ``renewed_*``): reads here that
        wait for them take them from the store now."""
        self._prices.wake(prices)
        self._stock.wake(stock)

    def _recover(self) -> None:
        self._prices.recover()
        self._stock.recover()

    def deadline(self) -> ErpDeadline:
        """A request's one ERP budget, to pass to each of its lookups (armed by the first that waits)."""
        return ErpDeadline(self.erp_budget)

    @tracing.traced("records.price")
    async def price_lookup(self, price_list_id: int, currency: str, skus: Iterable[str],
                           deadline: ErpDeadline | None = None) -> Lookup[tuple[int, str, str], PriceRecord]:
        source = self._price_sources.get((price_list_id, currency))
        if source is None:
            source = self._price_sources[(price_list_id, currency)] = self._make_price_source(price_list_id, currency)
        return await self._prices.get([(price_list_id, currency, s) for s in dict.fromkeys(skus)], source, deadline)

    def _make_price_source(self, price_list_id: int, currency: str) -> Source[tuple[int, str, str], PriceRecord]:
        """How one price list's prices in one currency are read and kept (one per list and currency)."""

        async def from_store(wanted: list[tuple[int, str, str]]) -> dict[tuple[int, str, str], Held[PriceRecord]]:
            found = await self.store.prices_as_of(price_list_id, currency, [k[2] for k in wanted])
            return {(price_list_id, currency, sku): Held(s.record, s.as_of_ms) for sku, s in found.items()}

        async def from_erp(wanted: list[tuple[int, str, str]]) -> dict[tuple[int, str, str], PriceRecord]:
            found = await self.erp.get_prices(price_list_id, currency, [k[2] for k in wanted])
            return {(price_list_id, currency, sku): r for sku, r in found.items()}

        async def to_store(records: Mapping[tuple[int, str, str], PriceRecord]) -> None:
            await self.store.put_prices(list(records.values()), touch=True)  # one round trip, not one per record

        return Source(from_store, from_erp, to_store, lambda k: f"price:{k[0]}:{k[1]}:{k[2]}")

    @tracing.traced("records.stock")
    async def stock_lookup(self, skus: Iterable[str], deadline: ErpDeadline | None = None) -> Lookup[str, StockByLocation]:
        return await self._stock.get(list(dict.fromkeys(skus)), self._stock_source, deadline)

    def _make_stock_source(self) -> Source[str, StockByLocation]:
        async def from_store(wanted: list[str]) -> dict[str, Held[StockByLocation]]:
            return {sku: Held(s.levels, s.as_of_ms) for sku, s in (await self.store.stock_as_of(wanted)).items()}

        async def from_erp(wanted: list[str]) -> dict[str, StockByLocation]:
            found = await self.erp.get_stock(wanted)
            return {sku: {level.location_id: level for level in levels} for sku, levels in found.items() if levels}

        async def to_store(levels: Mapping[str, StockByLocation]) -> None:
            await self.store.put_stock_levels([level for by_location in levels.values() for level in by_location.values()])

        return Source(from_store, from_erp, to_store, lambda sku: f"stock:{sku}")

    async def prices(self, price_list_id: int, currency: str, skus: Iterable[str]) -> dict[str, PriceRecord]:
        found = (await self.price_lookup(price_list_id, currency, skus)).found
        return {key[2]: record for key, record in found.items()}

    async def stock(self, skus: Iterable[str]) -> dict[str, StockByLocation]:
        return (await self.stock_lookup(skus)).found

    def background(self) -> list[asyncio.Task[Any]]:
        """ERP reads still running for requests that have been answered: the edge cancels them at shutdown."""
        return [*self._prices.background, *self._stock.background]

    def drop_price(self, price_list_id: int, currency: str, sku: str) -> bool:
        return self._prices.drop((price_list_id, currency, sku))

    def reading_stock(self, skus: Iterable[str]) -> bool:
        """Whether an ERP read of any of these SKUs' stock is still under way in this process."""
        return any(sku in self._stock.inflight for sku in skus)

    def drop_stock(self, sku: str) -> bool:
        return self._stock.drop(sku)

    def changed(self, prices: Iterable[tuple[int, str, str]], stock: Iterable[str],
                learned: Iterable[Stored[PriceRecord] | Stored[StockLevel]] = ()) -> None:
        """Records an ERP event changed (the invalidation channel's): those it carries (``learned``, as the store
        now holds them) replace what L1 holds — newest version wins, a stock level joins its SKU's other
        locations only if L1 holds them all — and every other named key is dropped, to be read again."""
        kept: set[Hashable] = set()
        for stored in learned:
            record = stored.record
            if isinstance(record, PriceRecord):
                key: Hashable = (record.price_list_id, record.currency, record.sku)
                self._prices.learn(key, functools.partial(_newer_price, stored=Stored(record, stored.as_of_ms)))
            else:
                key = record.sku
                self._stock.learn(key, functools.partial(_with_level, stored=Stored(record, stored.as_of_ms)))
            kept.add(key)
        for price_key in prices:
            if price_key not in kept:
                self._prices.drop(price_key)
        for sku in stock:
            if sku not in kept:
                self._stock.drop(sku)

    def drop_all(self) -> None:
        """Invalidations may have been missed: every record is read again from the store."""
        self._prices.drop_all()
        self._stock.drop_all()
