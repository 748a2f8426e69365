"""Stock per SKU and location as the ERP states it, and what is available to sell from it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class StockLevel:
    sku: str
    location_id: int
    on_hand: int
    allocated: int = 0
    safety_stock: int = 0
    backorder: bool = False
    lead_time_days: int | None = None
    version: int = 0

    @property
    def available_to_sell(self) -> int:
        """On hand less allocated less safety stock, never negative."""
        return max(0, self.on_hand - self.allocated - self.safety_stock)


def total_available(levels: Iterable[StockLevel]) -> int:
    return sum(level.available_to_sell for level in levels)
