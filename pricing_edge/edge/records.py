"""ERP records for the overlay: L1 (this process) → L2 (the store) → one coalesced ERP read per key.

Concurrent requests needing the same missing key wait on the same read (promise 5: spare the ERP).
A key the ERP does not know is remembered as missing for the L1 TTL. When the ERP fails, the keys
are simply absent and the overlay keeps BigCommerce's own value for them.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from cachetools import TTLCache

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
MISSING: Any = object()
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

StockByLocation = dict[int, StockLevel]


class _Tier:
    """One record kind's L1 and in-flight reads."""

    def __init__(self, kind: str, ttl: float, size: int, metrics: EdgeMetrics) -> None:
        self.kind = kind
        self.l1: TTLCache[Hashable, Any] = TTLCache(maxsize=size, ttl=ttl)
        # Bumped by every invalidation: a read that started before one must not refill L1 with
        # what it fetched (it may be the state the invalidation replaced).
        self.generation = 0
        self.inflight: dict[Hashable, asyncio.Future[Any]] = {}
        self.metrics = metrics
        self.l1_hit = metrics.cache.labels("l1", kind, "hit")
        self.l1_miss = metrics.cache.labels("l1", kind, "miss")
        self.l2_hit = metrics.cache.labels("l2", kind, "hit")
        self.l2_miss = metrics.cache.labels("l2", kind, "miss")

    async def get(self, keys: list[K], from_store: Callable[[list[K]], Awaitable[Mapping[K, V]]],
                  from_erp: Callable[[list[K]], Awaitable[Mapping[K, V]]],
                  to_store: Callable[[V], Awaitable[Any]]) -> dict[K, V]:
        found: dict[K, V] = {}
        wanted: list[K] = []
        generation = self.generation
        for key in keys:
            value = self.l1.get(key)
            if value is None:
                wanted.append(key)
            elif value is not MISSING:
                found[key] = value
        self.l1_hit.inc(len(keys) - len(wanted))
        if not wanted:
            return found
        self.l1_miss.inc(len(wanted))
        try:
            stored = await from_store(wanted)
        except StoreError as exc:
            log.warning("store unavailable for %s: %s", self.kind, exc)
            stored = {}
        self.l2_hit.inc(len(stored))
        for key, value in stored.items():
            if self.generation == generation:
                self.l1[key] = value
            found[key] = value
        absent = [k for k in wanted if k not in stored]
        self.l2_miss.inc(len(absent))
        if absent:
            found.update(await self._read_through(absent, from_erp, to_store, generation))
        return found

    async def _read_through(self, keys: list[K], from_erp: Callable[[list[K]], Awaitable[Mapping[K, V]]],
                            to_store: Callable[[V], Awaitable[Any]], generation: int) -> dict[K, V]:
        waiting: dict[Any, asyncio.Future[Any]] = {k: self.inflight[k] for k in keys if k in self.inflight}
        mine = [k for k in keys if k not in waiting]
        if mine:
            loop = asyncio.get_running_loop()
            futures: dict[Any, asyncio.Future[Any]] = {k: loop.create_future() for k in mine}
            self.inflight.update(futures)
            try:
                result = await self._read_erp(mine, from_erp, to_store, generation)
                for key, future in futures.items():
                    future.set_result(result.get(key))
            finally:  # on failure or cancellation, waiters get "absent" rather than hang
                for key, future in futures.items():
                    self.inflight.pop(key, None)
                    if not future.done():
                        future.set_result(None)
            waiting.update(futures)
        found = {}
        for key, future in waiting.items():
            value = await asyncio.shield(future)
            if value is not None:
                found[key] = value
        return found

    async def _read_erp(self, keys: list[K], from_erp: Callable[[list[K]], Awaitable[Mapping[K, V]]],
                        to_store: Callable[[V], Awaitable[Any]], generation: int) -> Mapping[K, V]:
        self.metrics.erp_keys.labels(self.kind).inc(len(keys))
        try:
            result = await from_erp(keys)
        except ErpError as exc:
            self.metrics.erp_reads.labels(self.kind, "error").inc()
            log.warning("ERP read of %d %s keys failed: %s", len(keys), self.kind, exc)
            return {}
        self.metrics.erp_reads.labels(self.kind, "ok").inc()
        for key in keys:
            value = result.get(key)
            if self.generation == generation:
                self.l1[key] = MISSING if value is None else value
            if value is not None:
                try:
                    await to_store(value)
                except StoreError as exc:
                    log.warning("could not keep an ERP %s record in the store: %s", self.kind, exc)
        return result

    def drop(self, key: Hashable) -> bool:
        self.generation += 1
        return self.l1.pop(key, None) is not None


class RecordService:
    def __init__(self, store: Store, erp: ErpAdapter, metrics: EdgeMetrics, *, price_ttl: float = 60.0,
                 stock_ttl: float = 10.0, size: int = 500_000) -> None:
        self.store = store
        self.erp = erp
        self.metrics = metrics
        self._prices = _Tier("price", price_ttl, size, metrics)
        self._stock = _Tier("stock", stock_ttl, size, metrics)

    async def prices(self, price_list_id: int, currency: str, skus: Iterable[str]) -> dict[str, PriceRecord]:
        keys = [(price_list_id, currency, sku) for sku in dict.fromkeys(skus)]

        async def from_store(wanted: list[tuple[int, str, str]]) -> dict[tuple[int, str, str], PriceRecord]:
            found = await self.store.get_prices(price_list_id, currency, [k[2] for k in wanted])
            return {(price_list_id, currency, sku): r for sku, r in found.items()}

        async def from_erp(wanted: list[tuple[int, str, str]]) -> dict[tuple[int, str, str], PriceRecord]:
            found = await self.erp.get_prices(price_list_id, currency, [k[2] for k in wanted])
            return {(price_list_id, currency, sku): r for sku, r in found.items()}

        found = await self._prices.get(keys, from_store, from_erp, self.store.put_price)
        return {key[2]: record for key, record in found.items()}

    async def stock(self, skus: Iterable[str]) -> dict[str, StockByLocation]:
        keys = list(dict.fromkeys(skus))

        async def from_erp(wanted: list[str]) -> dict[str, StockByLocation]:
            found = await self.erp.get_stock(wanted)
            return {sku: {level.location_id: level for level in levels} for sku, levels in found.items() if levels}

        async def to_store(levels: StockByLocation) -> None:
            await self.store.put_stock_levels(list(levels.values()))

        return await self._stock.get(keys, self.store.get_stock, from_erp, to_store)

    def drop_price(self, price_list_id: int, currency: str, sku: str) -> bool:
        return self._prices.drop((price_list_id, currency, sku))

    def drop_stock(self, sku: str) -> bool:
        return self._stock.drop(sku)
