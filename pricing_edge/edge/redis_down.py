"""DESIGN.md's Redis-down stock rule with a memory: what this process promised while Redis was unreachable.

Why a running total: checked per request, "last known stock covers the quantity by the factor" lets every
request through (200 of 200 carts for a 10-unit SKU), and it ignored the reservations already held (94 of
94 for a SKU fully reserved). So each process keeps, per SKU, the live reservations it last saw in Redis
plus what it has promised since Redis went away, and lets a line through only while that total stays
within ⌊last known sellable ÷ factor⌋. No process can see another's total, so N processes promise at most
N × (known ÷ factor) — the bound the factor is chosen for.

What was promised while down is written back as real holds once Redis answers again (holder = the cart
BigCommerce named), unbounded: the units were promised, so the holds must exist for the next buyer's check.
Only then does the running total restart from what Redis says.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pricing_edge.domain.reservations import KnownStock, redis_down_limit
from pricing_edge.store.base import StoreError
from pricing_edge.store.reservations import ReservationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownHold:
    holder: str
    sku: str
    quantity: int


class RedisDownTotals:
    def __init__(self, factor: float, max_skus: int = 200_000) -> None:
        self.factor = factor
        self.max_skus = max_skus
        self.last_seen: dict[str, int] = {}  # sku -> live reservations last read from Redis
        self.promised: dict[str, int] = {}  # sku -> promised by this process since Redis went away
        self.pending: list[DownHold] = []  # promised and accepted by BigCommerce, to write back

    def seen(self, totals: Mapping[str, int]) -> None:
        """Redis answered these live totals: what a later outage starts from."""
        if len(self.last_seen) > self.max_skus:
            self.last_seen.clear()
        self.last_seen.update(totals)

    def room(self, sku: str, known: KnownStock) -> int | None:
        """How many more units this process may promise on ``sku`` without Redis (None: no limit)."""
        limit = redis_down_limit(known.levels, self.factor, stale=known.stale)
        if limit is None:
            return None
        return max(0, limit - self.last_seen.get(sku, 0) - self.promised.get(sku, 0))

    def promise(self, quantities: Mapping[str, int], stock: Mapping[str, KnownStock]) -> tuple[str, int] | None:
        """Promise every line or none: None when all fit (and are now counted), else (sku, room) refused.

        No await inside: one step for this process's event loop, so concurrent requests cannot both fit.
        """
        for sku, quantity in quantities.items():
            known = stock.get(sku)
            if known is None or not known.levels:
                return sku, 0
            room = self.room(sku, known)
            if room is not None and quantity > room:
                return sku, room
        for sku, quantity in quantities.items():
            self.promised[sku] = self.promised.get(sku, 0) + quantity
        return None

    def withdraw(self, quantities: Iterable[tuple[str, int]]) -> None:
        """BigCommerce refused what was promised: it no longer counts."""
        for sku, quantity in quantities:
            self.promised[sku] = max(0, self.promised.get(sku, 0) - quantity)

    def taken(self, holder: str, quantities: Iterable[tuple[str, int]]) -> None:
        """BigCommerce accepted the promise into cart ``holder``: to be held in Redis when it is back."""
        self.pending.extend(DownHold(holder, sku, quantity) for sku, quantity in quantities if quantity > 0)

    async def write_back(self, reservations: ReservationStore, ttl: float) -> int:
        """Hold in Redis what was promised while it was down; the running total restarts once all are held.

        Returns how many holds were written. Raises ``StoreError`` while Redis is still unreachable
        (the rest stays pending)."""
        written = 0
        while self.pending:
            hold = self.pending[0]
            _, total = await reservations.reserve_counted(hold.sku, hold.holder, hold.quantity, None, ttl)
            self.pending.pop(0)
            written += 1
            self.last_seen[hold.sku] = total
        if self.promised:  # Redis answers again: restart from what it holds (it now has every written hold)
            self.seen(await reservations.reserved_many(list(self.promised)))
            self.promised.clear()
        if written:
            log.info("wrote back %d reservation(s) taken while Redis was unreachable", written)
        return written

    async def try_write_back(self, reservations: ReservationStore, ttl: float) -> None:
        if not self.pending and not self.promised:
            return
        try:
            await self.write_back(reservations, ttl)
        except StoreError as exc:
            log.debug("Redis still unreachable, %d hold(s) wait to be written back: %s", len(self.pending), exc)
