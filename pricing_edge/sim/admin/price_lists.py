"""Price lists and their records in the REST Admin simulator (``price_lists.v3.yml``): ``GET /v3/pricelists``,
``GET|PUT /v3/pricelists/{id}/records``. Records are BigCommerce's copy of the prices (``Dataset.bc_prices``),
which the simulated storefront and carts price from, so a record written here is what the storefront shows.

A subset of the real API: records are identified by SKU or variant id; an upsert with any invalid item is
refused whole (422 with ``batch_errors``) and nothing is written; more than two upserts at once on the store
answer 429, as BigCommerce's do. Every record written is counted (``GET /_sim/writes``), and replies to
upserts can be held after the records are stored (``POST /_sim/price-records/hold-replies {"seconds"}``), so
a test can kill a client that has written but not yet heard back.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind
from pricing_edge.jsonio import loads_exact
from pricing_edge.sim.admin.http import V3, AdminError, guarded, json_body, json_response, paging, parse_money, path_int
from pricing_edge.sim.admin.state import AdminState
from pricing_edge.sim.dataset import CURRENCIES, Dataset
from pricing_edge.sim.faults import SIM_PREFIX

MAX_UPSERT = 1000
MAX_CONCURRENT_UPSERTS = 2
CREATED = "2024-01-02T03:04:05Z"
TIER_KINDS = {"fixed": TierKind.FIXED_PRICE, "percent": TierKind.PERCENT_OFF, "price": TierKind.PRICE_ADJUSTMENT}
TIER_NAMES = {kind: name for name, kind in TIER_KINDS.items()}


@dataclass
class Writes:
    """What clients wrote: per record (``list:CUR:sku``), per inventory level and setting (``loc:sku``)."""

    price_records: Counter[str] = field(default_factory=Counter)
    inventory_levels: Counter[str] = field(default_factory=Counter)
    inventory_settings: Counter[str] = field(default_factory=Counter)
    upserts_in_flight: int = 0
    max_concurrent_upserts: int = 0
    hold_until: float = 0.0

    def describe(self) -> dict[str, Any]:
        return {"price_records": dict(self.price_records), "inventory_levels": dict(self.inventory_levels),
                "inventory_settings": dict(self.inventory_settings),
                "max_concurrent_upserts": self.max_concurrent_upserts}

    async def hold(self, request: Request) -> None:
        """Hold a reply while replies are held and its client is still there."""
        while time.monotonic() < self.hold_until and not await request.is_disconnected():
            await asyncio.sleep(0.05)


def paged(items: list[Any], page: int, limit: int) -> dict[str, Any]:
    """A v3 collection page's ``meta``."""
    total_pages = max(1, -(-len(items) // limit))
    return {"pagination": {"total": len(items), "count": len(items[(page - 1) * limit: page * limit]),
                           "per_page": limit, "current_page": page, "total_pages": total_pages}}


def id_list(request: Request, name: str) -> set[int] | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise AdminError(400, f"The query parameter '{name}' must be integers separated by commas.") from None


def text_list(request: Request, name: str) -> set[str] | None:
    raw = request.query_params.get(name)
    return None if raw is None or raw == "" else {part.strip() for part in raw.split(",") if part.strip()}


def record_view(dataset: Dataset, record: PriceRecord, include: set[str]) -> dict[str, Any]:
    product, variant = dataset.variant_by_sku[record.sku]
    view: dict[str, Any] = {"price_list_id": record.price_list_id, "variant_id": variant.id, "product_id": product.id,
                            "currency": record.currency.lower(), "price": record.price,
                            "calculated_price": record.effective_price, "date_created": CREATED,
                            "date_modified": CREATED}
    for name in ("sale_price", "retail_price", "map_price"):
        if getattr(record, name) is not None:
            view[name] = getattr(record, name)
    if "bulk_pricing_tiers" in include:
        view["bulk_pricing_tiers"] = [_tier_view(tier) for tier in record.bulk_tiers]
    if "sku" in include:
        view["sku"] = record.sku
    return view


def _tier_view(tier: BulkTier) -> dict[str, Any]:
    view: dict[str, Any] = {"quantity_min": tier.min_quantity, "type": TIER_NAMES[tier.kind], "amount": tier.amount}
    view["quantity_max"] = tier.max_quantity if tier.max_quantity is not None else 2_147_483_647
    return view


def parse_record(dataset: Dataset, price_list_id: int, item: Any) -> tuple[PriceRecord | None, dict[str, str]]:
    """A record from one upsert item, or the item's field errors."""
    if not isinstance(item, dict):
        return None, {"item": "must be an object"}
    errors: dict[str, str] = {}
    sku = item.get("sku")
    if sku is None and item.get("variant_id") is not None:
        found = dataset.variant_by_id.get(item["variant_id"]) if isinstance(item["variant_id"], int) else None
        sku = found[1].sku if found else None
        if found is None:
            errors["variant_id"] = f"no variant {item['variant_id']!r}"
    elif sku is None:
        errors["sku"] = "one of sku or variant_id is required"
    elif not isinstance(sku, str) or sku not in dataset.variant_by_sku:
        errors["sku"] = f"no variant with SKU {sku!r}"
    currency = item.get("currency")
    if not isinstance(currency, str) or currency.upper() not in CURRENCIES:
        errors["currency"] = f"must be one of {', '.join(c.lower() for c in CURRENCIES)}"
    amounts: dict[str, Decimal | None] = {}
    for name in ("price", "sale_price", "retail_price", "map_price"):
        if item.get(name) is None:
            amounts[name] = None
            continue
        try:
            amounts[name] = parse_money(item[name], name)
        except AdminError as exc:
            errors[name] = exc.message
    if amounts.get("price") is None and "price" not in errors:
        errors["price"] = "is required"
    tiers: list[BulkTier] = []
    for i, raw in enumerate(item.get("bulk_pricing_tiers") or []):
        try:
            kind = TIER_KINDS[raw["type"]]
            maximum = raw.get("quantity_max")
            tiers.append(BulkTier(int(raw["quantity_min"]), None if maximum is None or maximum >= 2_147_483_647
                                  else int(maximum), parse_money(raw["amount"], "amount"), kind))
        except (KeyError, TypeError, ValueError, AdminError):
            errors[f"bulk_pricing_tiers.{i}"] = "needs quantity_min, type (fixed, price, percent) and amount"
    unknown = set(item) - {"sku", "variant_id", "currency", "price", "sale_price", "retail_price", "map_price",
                           "bulk_pricing_tiers"}
    if unknown:
        errors[sorted(unknown)[0]] = "cannot be written to"
    if errors:
        return None, errors
    assert isinstance(sku, str) and isinstance(currency, str) and amounts["price"] is not None
    return PriceRecord(price_list_id, sku, currency.upper(), amounts["price"], amounts["sale_price"],
                       amounts["retail_price"], amounts["map_price"], tuple(tiers), dataset.next_version()), {}


def price_list_routes(state: AdminState, writes: Writes) -> list[Route]:
    v3 = guarded(V3, state.store_hash, state.admin_token)
    dataset = state.orders.dataset

    def known_list(request: Request) -> int:
        list_id = path_int(request, "price_list_id")
        if all(p.id != list_id for p in dataset.price_lists):
            raise AdminError(404, "The requested resource was not found.")
        return list_id

    @v3
    async def list_price_lists(request: Request) -> Response:
        page, limit = paging(request)
        wanted = id_list(request, "id:in")
        chosen = [{"id": p.id, "name": p.name, "date_created": CREATED, "date_modified": CREATED, "active": True}
                  for p in dataset.price_lists if wanted is None or p.id in wanted]
        return json_response({"data": chosen[(page - 1) * limit: page * limit], "meta": paged(chosen, page, limit)})

    @v3
    async def list_records(request: Request) -> Response:
        list_id = known_list(request)
        page, limit = paging(request)
        skus, variants = text_list(request, "sku:in"), id_list(request, "variant_id:in")
        currency = request.query_params.get("currency")
        include = text_list(request, "include") or set()
        chosen = []
        for (record_list, sku, record_currency), record in dataset.bc_prices.records.items():
            if record_list != list_id or (skus is not None and sku not in skus):
                continue
            if currency and record_currency != currency.upper():
                continue
            if variants is not None and dataset.variant_by_sku[sku][1].id not in variants:
                continue
            chosen.append(record)
        chosen.sort(key=lambda r: (dataset.variant_by_sku[r.sku][1].id, r.currency))
        shown = [record_view(dataset, r, include) for r in chosen[(page - 1) * limit: page * limit]]
        return json_response({"data": shown, "meta": paged(chosen, page, limit)})

    @v3
    async def upsert_records(request: Request) -> Response:
        list_id = known_list(request)
        try:
            items = loads_exact(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise AdminError(400, "The request body is not valid JSON.") from None
        if not isinstance(items, list) or len(items) > MAX_UPSERT:
            raise AdminError(422, f"The request body must be an array of at most {MAX_UPSERT} price records.")
        if writes.upserts_in_flight >= MAX_CONCURRENT_UPSERTS:
            raise AdminError(429, "Too many requests: only two price-record upserts may run at once on a store.")
        writes.upserts_in_flight += 1
        writes.max_concurrent_upserts = max(writes.max_concurrent_upserts, writes.upserts_in_flight)
        try:
            await asyncio.sleep(0)  # another upsert arriving now sees this one in flight
            parsed = [parse_record(dataset, list_id, item) for item in items]
            failed = [{"data": {"price_list_id": list_id, **{k: item[k] for k in ("sku", "variant_id", "currency")
                                                              if isinstance(item, dict) and k in item}},
                       "field_errors": errors} for item, (_, errors) in zip(items, parsed, strict=True) if errors]
            if failed:
                return json_response({"batch_errors": failed}, 422)
            for record, _ in parsed:
                assert record is not None
                dataset.bc_prices.put(record)
                writes.price_records[f"{list_id}:{record.currency}:{record.sku}"] += 1
        finally:
            writes.upserts_in_flight -= 1
        await writes.hold(request)
        return json_response({"data": {}, "meta": {}})

    root = "/stores/{store_hash}/v3/pricelists"
    return [
        Route(root, list_price_lists, methods=["GET"]),
        Route(f"{root}/{{price_list_id}}/records", list_records, methods=["GET"]),
        Route(f"{root}/{{price_list_id}}/records", upsert_records, methods=["PUT"]),
    ]


def writes_routes(writes: Writes) -> list[Route]:
    """``GET /_sim/writes`` (counts) and ``POST /_sim/price-records/hold-replies {"seconds": n}`` (0: release)."""

    async def get_writes(request: Request) -> Response:
        return json_response(writes.describe() | {"at": datetime.now(UTC).isoformat()})

    async def hold_replies(request: Request) -> Response:
        body = await json_body(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, Decimal)) or not 0 <= seconds <= 600:
            return json_response({"error": "give {\"seconds\": 0..600}"}, 400)
        writes.hold_until = time.monotonic() + float(seconds)
        return json_response({"held_for": float(seconds)})

    return [Route(f"{SIM_PREFIX}/writes", get_writes, methods=["GET"]),
            Route(f"{SIM_PREFIX}/price-records/hold-replies", hold_replies, methods=["POST"])]
