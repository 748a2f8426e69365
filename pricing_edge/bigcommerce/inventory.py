"""BigCommerce's inventory by location (``/v3/inventory/...``) on ``BigCommerceAdmin``'s request machinery:
locations, items with their per-location levels and settings, absolute adjustments, settings updates."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.price_lists import SKUS_PER_READ, v3_pages
from pricing_edge.domain.bc_mirror import MAX_ADJUSTMENTS_PER_PUT


class InventoryApi:
    def __init__(self, admin: BigCommerceAdmin) -> None:
        self.admin = admin

    async def locations(self) -> list[dict[str, Any]]:
        """The store's locations (``GET /v3/inventory/locations``): id, code, label, enabled..."""
        return await v3_pages(self.admin, "/v3/inventory/locations", {}, "locations")

    async def items(self, skus: Sequence[str]) -> list[dict[str, Any]]:
        """``GET /v3/inventory/items`` for ``skus``: each item's identity and its levels at every location."""
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), SKUS_PER_READ):
            chunk = unique[start:start + SKUS_PER_READ]
            found.extend(await v3_pages(self.admin, "/v3/inventory/items", {"sku:in": ",".join(chunk)},
                                        "inventory items"))
        return found

    async def set_absolute(self, items: Sequence[Mapping[str, Any]], reason: str) -> None:
        """``PUT /v3/inventory/adjustments/absolute``: ``[{location_id, sku, quantity}]``, up to 2,000."""
        if len(items) > MAX_ADJUSTMENTS_PER_PUT:
            raise ValueError(f"at most {MAX_ADJUSTMENTS_PER_PUT} adjustments per request, not {len(items)}")
        await self.admin._call("PUT", "/v3/inventory/adjustments/absolute",
                               body={"reason": reason, "items": [dict(item) for item in items]})

    async def update_settings(self, location_id: int, settings: Sequence[Mapping[str, Any]]) -> None:
        """``PUT /v3/inventory/locations/{id}/items``: ``[{identity: {sku}, safety_stock, is_in_stock}]``."""
        await self.admin._call("PUT", f"/v3/inventory/locations/{location_id}/items",
                               body={"settings": [dict(item) for item in settings]})
