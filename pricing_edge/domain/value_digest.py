"""A digest of what a record shows, for telling a renewed record from a changed one (issue 20).

Why: a kept answer renewed ahead of its end (its records near their TTL) looks every record up again; only
the owned fields whose records now show another value need projecting again. A record's ``version`` cannot
say so — an ERP may stamp it at read time, so the same value comes back with a new version — and its as-of
time changes on every refresh. The digest covers every field a projection reads and nothing else: money by
its exact digits (``Decimal("10.0") == Decimal("10.00")``, but the answer shows them differently), stock as
shown (after reservations), never the version.

A digest is Python's ``hash`` of those fields: stable within the process that keeps the answers, which is
the only place it is compared.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord


def _exact(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def price_digest(record: PriceRecord) -> int:
    """The price record's shown value: its amounts (exact digits) and volume breaks."""
    tiers = tuple((t.min_quantity, t.max_quantity, str(t.amount), t.kind) for t in record.bulk_tiers)
    return hash((str(record.price), _exact(record.sale_price), _exact(record.retail_price), _exact(record.map_price),
                 tiers))


def stock_digest(levels: Mapping[int, StockLevel]) -> int:
    """A SKU's stock as shown, location by location (in the order a projection meets them)."""
    return hash(tuple((location_id, level.on_hand, level.allocated, level.safety_stock, level.backorder,
                       level.lead_time_days) for location_id, level in levels.items()))
