"""Available-to-promise and the conservative stock rules for soft reservations (pure, no IO).

Why a separate rule set from ``inventory.available_to_sell``: a cart holds stock before the order
exists, so what the edge may *promise* to the next buyer is the ERP's sellable stock less every live
soft reservation. The store keeps the reservations (atomically); these functions decide the numbers.

Rules (DESIGN.md, "Conservative rules"):

* **ATP** = Σ over locations of max(0, on hand − allocated − safety stock) − live reservations,
  never negative. Locations are clamped one by one: one warehouse's deficit never eats another's
  stock. Reservations are per SKU, not per location: at cart time nobody knows which warehouse will
  ship, so they are taken from the SKU's total.
* **Backorder**: a SKU with ``backorder`` at any location may be promised beyond its stock, so its
  promisable quantity is unbounded (``None``). Reservations are still recorded (they show demand
  and release normally) but never refuse. Lead time only informs (``backorder_lead_time_days``,
  e.g. "ships in 5 days"); it never blocks a sale.
* **Stale stock** (last known, the ERP not confirming it): never more than last known minus
  reservations. Backorder is *not* honoured while stale: the truth is unknown, so the bound is the
  last known sellable stock.
* **Redis down**: the live reservations cannot be read, so add-to-cart passes only where the last
  known sellable stock covers the quantity ``factor`` times (default 5); else "Not enough stock:".
  A backorderable SKU with fresh stock passes: its promise never depended on reservations. The edge
  applies it to a running total per process (``edge/redis_down.py``), not to each request alone.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pricing_edge.domain.inventory import StockLevel

DEFAULT_REDIS_DOWN_FACTOR = 5.0
DEFAULT_RESERVATION_TTL_SECONDS = 30 * 60.0
NOT_ENOUGH_STOCK = "Not enough stock:"  # BigCommerce's prefix; storefronts match on it


@dataclass(frozen=True)
class KnownStock:
    """A SKU's last known levels, every location, and whether they are stale (the ERP did not confirm them)."""

    levels: tuple[StockLevel, ...]
    stale: bool = False

    @classmethod
    def of(cls, value: KnownStock | Sequence[StockLevel], *, stale: bool = False) -> KnownStock:
        """Accept either a ``KnownStock`` or a plain list of levels (taken as fresh unless told)."""
        return value if isinstance(value, KnownStock) else cls(tuple(value), stale)


def sellable(levels: Iterable[StockLevel]) -> int:
    """Σ per-location available-to-sell, each clamped at zero (one location's deficit is its own)."""
    return sum(level.available_to_sell for level in levels)


def backorderable(levels: Iterable[StockLevel]) -> bool:
    return any(level.backorder for level in levels)


def promisable(levels: Sequence[StockLevel], *, stale: bool = False) -> int | None:
    """What may be promised before reservations: ``None`` means unbounded (backorder, fresh stock)."""
    if backorderable(levels) and not stale:
        return None
    return sellable(levels)


def available_to_promise(levels: Sequence[StockLevel], reserved: int, *, stale: bool = False) -> int | None:
    """Promisable less live reservations, never negative; ``None`` (unbounded) for fresh backorder."""
    bound = promisable(levels, stale=stale)
    return None if bound is None else max(0, bound - max(0, reserved))


def available_to_show(levels: Sequence[StockLevel], reserved: int) -> int:
    """The stock figure a storefront may display: sellable less reservations, never more than last known.

    Unlike ATP it is a number even for backorder SKUs (a display shows stock, not the promise).
    """
    return max(0, sellable(levels) - max(0, reserved))


def less_reservations(levels: Sequence[StockLevel], reserved: int) -> tuple[StockLevel, ...]:
    """The levels with ``reserved`` units counted as allocated, location by location, so that what they
    show sums to ``available_to_show(levels, reserved)``: for displaying stale stock."""
    remaining = max(0, reserved)
    adjusted = []
    for level in levels:
        take = min(remaining, level.available_to_sell)
        remaining -= take
        # A level nothing is taken from is itself (a copy of every level of every SKU was most of a lookup).
        adjusted.append(replace(level, allocated=level.allocated + take) if take else level)
    return tuple(adjusted)


def can_reserve(levels: Sequence[StockLevel], reserved: int, quantity: int, *, stale: bool = False) -> bool:
    """Whether ``quantity`` more units fit: the same check the store's script makes atomically."""
    if quantity <= 0:
        return True
    atp = available_to_promise(levels, reserved, stale=stale)
    return atp is None or quantity <= atp


def backorder_lead_time_days(levels: Iterable[StockLevel]) -> int | None:
    """Shortest lead time among backorderable locations: informs the buyer, never blocks."""
    days = [level.lead_time_days for level in levels if level.backorder and level.lead_time_days is not None]
    return min(days) if days else None


def redis_down_limit(levels: Sequence[StockLevel], factor: float = DEFAULT_REDIS_DOWN_FACTOR,
                     *, stale: bool = False) -> int | None:
    """The largest quantity add-to-cart may take without Redis: ⌊last known sellable ÷ factor⌋.

    ``None`` (no limit) for fresh backorder stock. ``factor`` below 1 is treated as 1: the rule may
    only ever be stricter than the stock itself.
    """
    if backorderable(levels) and not stale:
        return None
    return math.floor(sellable(levels) / max(1.0, factor))


def redis_down_allows(levels: Sequence[StockLevel], quantity: int, factor: float = DEFAULT_REDIS_DOWN_FACTOR,
                      *, stale: bool = False) -> bool:
    """DESIGN.md's rule without Redis: pass only where last known stock covers ``quantity`` × factor."""
    if quantity <= 0:
        return True
    limit = redis_down_limit(levels, factor, stale=stale)
    return limit is None or quantity <= limit


def not_enough_stock_message(sku: str, available: int, name: str | None = None) -> str:
    """The refusal text, starting with BigCommerce's "Not enough stock:" (storefronts match on that prefix).

    Worded like the BigCommerce simulator's own refusal so a storefront sees one phrasing.
    """
    label = f"{name} ({sku})" if name else sku
    available = max(0, available)
    if available == 0:
        return f"{NOT_ENOUGH_STOCK} {label} is out of stock."
    return f"{NOT_ENOUGH_STOCK} {label} is limited to {available} units."


def stock_unconfirmed_message(label: str) -> str:
    """The refusal when stock cannot be confirmed in time (ERP over budget, store too busy): never sold blind."""
    return f"{NOT_ENOUGH_STOCK} {label} cannot be confirmed right now; please try again shortly."
