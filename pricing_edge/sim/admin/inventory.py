"""Inventory by location in the REST Admin simulator (``inventory.v3.yml``, ``locations.v3.yml``):
``GET /v3/inventory/locations``, ``GET /v3/inventory/items``, ``PUT /v3/inventory/adjustments/absolute`` and
``PUT /v3/inventory/locations/{id}/items`` (settings). Levels are BigCommerce's copy of the stock
(``Dataset.bc_stock``), which the simulated storefront shows, so what is written here is what shoppers see.

BigCommerce keeps no "allocated": its on-hand for a level is the copy's on hand less allocated, and an
absolute adjustment sets it (allocated 0). ``is_in_stock`` ("available independent of quantity") is the
level's backorder flag. A subset: items are identified by SKU or variant id; a request with any invalid item
is refused whole (422) and changes nothing. Every level and setting written is counted (``/_sim/writes``).
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.sim.admin.http import V3, AdminError, guarded, json_body, json_response, paging, path_int
from pricing_edge.sim.admin.price_lists import CREATED, Writes, id_list, paged, text_list
from pricing_edge.sim.admin.state import AdminState
from pricing_edge.sim.dataset import Dataset

MAX_ITEMS = 2000


def _level(dataset: Dataset, sku: str, location_id: int) -> StockLevel:
    return dataset.bc_stock.get((sku, location_id)) or StockLevel(sku, location_id, 0)


def _on_hand(level: StockLevel) -> int:
    return max(0, level.on_hand - level.allocated)


def _sku_of(dataset: Dataset, item: Any, where: str) -> str:
    """The variant SKU an item names by ``sku``, ``variant_id`` or (a product without options) ``product_id``."""
    if not isinstance(item, dict):
        raise AdminError(422, f"{where} must be an object")
    nested = item.get("identity")
    identity: dict[str, Any] = nested if isinstance(nested, dict) else item
    if isinstance(identity.get("sku"), str) and identity["sku"] in dataset.variant_by_sku:
        return str(identity["sku"])
    if isinstance(identity.get("variant_id"), int) and identity["variant_id"] in dataset.variant_by_id:
        return dataset.variant_by_id[identity["variant_id"]][1].sku
    product_id = identity.get("product_id")
    product = dataset.product_by_id.get(product_id) if isinstance(product_id, int) else None
    if product is not None and not product.has_variants:
        return product.default_variant.sku
    raise AdminError(422, f"{where}: no inventory item with that sku, variant_id or product_id")


async def _batch(request: Request, name: str) -> list[Any]:
    """The request's list ``name`` of 1 to 2,000 items (anything else is a 422)."""
    items = (await json_body(request, status=422)).get(name)
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise AdminError(422, f"{name} must be a list of 1 to {MAX_ITEMS} items")
    return items


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise AdminError(422, f"{where} must be an integer of at least {minimum}, got {value!r}")
    return value


def inventory_routes(state: AdminState, writes: Writes) -> list[Route]:
    v3 = guarded(V3, state.store_hash, state.admin_token)
    dataset = state.orders.dataset
    location_ids = {loc.id for loc in dataset.locations}

    def location_view(location: Any) -> dict[str, Any]:
        return {"id": location.id, "code": location.code, "label": location.name, "description": "",
                "managed_by_external_source": False, "type_id": location.type_id, "enabled": True,
                "time_zone": "UTC", "created_at": CREATED, "updated_at": CREATED}

    @v3
    async def list_locations(request: Request) -> Response:
        page, limit = paging(request)
        wanted = id_list(request, "location_id:in")
        chosen = [location_view(loc) for loc in dataset.locations if wanted is None or loc.id in wanted]
        return json_response({"data": chosen[(page - 1) * limit: page * limit], "meta": paged(chosen, page, limit)})

    @v3
    async def list_items(request: Request) -> Response:
        page, limit = paging(request)
        skus, variants = text_list(request, "sku:in"), id_list(request, "variant_id:in")
        products, locations = id_list(request, "product_id:in"), id_list(request, "location_id:in")
        chosen = [(p, v) for p in dataset.products for v in p.variants
                  if (skus is None or v.sku in skus) and (variants is None or v.id in variants)
                  and (products is None or p.id in products)]
        shown = []
        for product, variant in chosen[(page - 1) * limit: page * limit]:
            levels = []
            for location in dataset.locations:
                if locations is not None and location.id not in locations:
                    continue
                level = _level(dataset, variant.sku, location.id)
                levels.append({"location_id": location.id, "location_code": location.code,
                               "location_name": location.name, "location_enabled": True,
                               "total_inventory_onhand": _on_hand(level),
                               "available_to_sell": max(0, _on_hand(level) - level.safety_stock),
                               "settings": {"safety_stock": level.safety_stock, "is_in_stock": level.backorder,
                                            "warning_level": 0, "bin_picking_number": ""}})
            shown.append({"identity": {"sku": variant.sku, "variant_id": variant.id, "product_id": product.id},
                          "locations": levels})
        return json_response({"data": shown, "meta": paged(chosen, page, limit)})

    @v3
    async def absolute(request: Request) -> Response:
        changes = []
        for i, item in enumerate(await _batch(request, "items")):
            sku = _sku_of(dataset, item, f"items.{i}")
            location_id = _int(item.get("location_id"), f"items.{i}.location_id", 1)
            if location_id not in location_ids:
                raise AdminError(422, f"items.{i}.location_id: no location {location_id}")
            changes.append((sku, location_id, _int(item.get("quantity"), f"items.{i}.quantity")))
        for sku, location_id, quantity in changes:
            level = _level(dataset, sku, location_id)
            dataset.bc_stock[(sku, location_id)] = replace(level, on_hand=quantity, allocated=0,
                                                           version=dataset.next_version())
            writes.inventory_levels[f"{location_id}:{sku}"] += 1
        return json_response({"transaction_id": uuid.uuid4().hex})

    @v3
    async def location_settings(request: Request) -> Response:
        location_id = path_int(request, "location_id")
        if location_id not in location_ids:
            raise AdminError(404, "The requested resource was not found.")
        changes = []
        for i, item in enumerate(await _batch(request, "settings")):
            sku = _sku_of(dataset, item, f"settings.{i}")
            if not {"safety_stock", "is_in_stock", "warning_level", "bin_picking_number"} & set(item):
                raise AdminError(422, f"settings.{i}.settings: At least one setting must be specified: "
                                      "warning_level, is_in_stock or safety_stock")
            safety = None if "safety_stock" not in item else _int(item["safety_stock"], f"settings.{i}.safety_stock")
            in_stock = item.get("is_in_stock")
            if in_stock is not None and not isinstance(in_stock, bool):
                raise AdminError(422, f"settings.{i}.is_in_stock must be a boolean")
            changes.append((sku, safety, in_stock))
        for sku, safety, in_stock in changes:
            level = _level(dataset, sku, location_id)
            dataset.bc_stock[(sku, location_id)] = replace(
                level, safety_stock=level.safety_stock if safety is None else safety,
                backorder=level.backorder if in_stock is None else in_stock)
            writes.inventory_settings[f"{location_id}:{sku}"] += 1
        return json_response({"transaction_id": uuid.uuid4().hex})

    root = "/stores/{store_hash}/v3/inventory"
    return [
        Route(f"{root}/locations", list_locations, methods=["GET"]),
        Route(f"{root}/items", list_items, methods=["GET"]),
        Route(f"{root}/adjustments/absolute", absolute, methods=["PUT"]),
        Route(f"{root}/locations/{{location_id}}/items", location_settings, methods=["PUT"]),
    ]
