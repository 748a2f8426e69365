"""Catalog resolvers of the simulated storefront, bound to the SDL-first schema by (type, field).

Sources: ``Product`` and ``(Product, Variant)`` from the dataset; small dicts for everything else
(graphql-core's default resolver reads dict keys). Only what a storefront page needs is computed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.domain.money import format_money
from pricing_edge.domain.pricing import PriceView
from pricing_edge.sim.dataset import CDN_URL, STORE_HASH, STORE_NAME, STORE_URL, Product, Variant
from pricing_edge.sim.storefront.catalog import Buyer, StorefrontCatalog, UnsupportedCurrency
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.ids import global_id, parse_global_id

Resolver = Callable[..., Any]
DEFAULT_CURRENCY = "USD"


@dataclass
class Context:
    catalog: StorefrontCatalog
    buyer: Buyer
    state: dict[str, Any] = field(default_factory=dict)


def ctx(info: GraphQLResolveInfo) -> Context:
    context: Context = info.context
    return context


def money(value: Decimal | None, currency: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"currencyCode": currency, "value": value, "formattedV2": format_money(value, currency)}


def prices_dict(view: PriceView) -> dict[str, Any]:
    c = view.currency
    low, high = view.range
    retail = view.retail_price_range
    return {
        "price": money(view.price, c), "salePrice": money(view.sale_price, c), "basePrice": money(view.base_price, c),
        "retailPrice": money(view.retail_price, c), "mapPrice": money(view.map_price, c), "saved": money(view.saved, c),
        "priceRange": {"min": money(low, c), "max": money(high, c)},
        "retailPriceRange": {"min": money(retail[0], c), "max": money(retail[1], c)} if retail else None,
        "bulkPricing": [_tier(t) for t in view.bulk_tiers],
    }


def _tier(tier: Any) -> dict[str, Any]:
    amount_field = {"BulkPricingFixedPriceDiscount": "price", "BulkPricingPercentageDiscount": "percentOff",
                    "BulkPricingRelativePriceDiscount": "priceAdjustment"}[tier.kind.value]
    return {"__typename": tier.kind.value, "minimumQuantity": tier.min_quantity,
            "maximumQuantity": tier.max_quantity, amount_field: tier.amount}


def _currency(args: dict[str, Any]) -> str:
    return str(args.get("currencyCode") or DEFAULT_CURRENCY)


def _prices(info: GraphQLResolveInfo, compute: Callable[[str, bool], PriceView], args: dict[str, Any]) -> Any:
    try:
        return prices_dict(compute(_currency(args), bool(args.get("includeTax"))))
    except UnsupportedCurrency as exc:
        raise GraphQLError(str(exc)) from None


def image(path: str, alt: str, is_default: bool) -> dict[str, Any]:
    return {"path": path, "altText": alt, "isDefault": is_default}


def _image_url(source: dict[str, Any], info: GraphQLResolveInfo, width: int, height: int | None = None,
               lossy: bool | None = None) -> str:
    size = f"{width}x{height}" if height else f"{width}w"
    return f"{CDN_URL}/images/stencil/{size}/{source['path']}"


def _plain(product: Product, info: GraphQLResolveInfo, characterLimit: int = 120) -> str:  # noqa: N803
    text = re.sub(r"<[^>]+>", "", product.description)
    return text if len(text) <= characterLimit else text[: characterLimit - 3].rstrip() + "..."


def product_inventory(catalog: StorefrontCatalog, product: Product) -> dict[str, Any]:
    return {"isInStock": catalog.in_stock(product), "hasVariantInventory": product.has_variants,
            "aggregated": {"availableToSell": catalog.product_available(product), "warningLevel": 5}}


def variant_inventory(catalog: StorefrontCatalog, variant: Variant) -> dict[str, Any]:
    levels = catalog.stock(variant)
    total = sum(level.available_to_sell for level in levels)
    by_location = [
        {"locationEntityId": level.location_id, "availableToSell": level.available_to_sell, "warningLevel": 5,
         "isInStock": level.available_to_sell > 0 or level.backorder, "locationEntityTypeId": "PHYSICAL",
         "locationEntityCode": _location_code(catalog, level.location_id)}
        for level in levels
    ]
    return {"isInStock": total > 0 or any(level.backorder for level in levels),
            "aggregated": {"availableToSell": total, "warningLevel": 5}, "_locations": by_location}


def _location_code(catalog: StorefrontCatalog, location_id: int) -> str:
    return next(loc.code for loc in catalog.dataset.locations if loc.id == location_id)


def _by_location(source: dict[str, Any], info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    locations = source["_locations"]
    if args.get("locationEntityIds"):
        locations = [loc for loc in locations if loc["locationEntityId"] in args["locationEntityIds"]]
    if args.get("locationEntityCodes"):
        locations = [loc for loc in locations if loc["locationEntityCode"] in args["locationEntityCodes"]]
    if args.get("locationEntityTypeIds"):
        locations = [loc for loc in locations if loc["locationEntityTypeId"] in args["locationEntityTypeIds"]]
    return connection(locations, args)


def _option_ids(product: Product, variant: Variant) -> list[tuple[int, int]]:
    """(option entityId, value entityId) of each of the variant's option values."""
    ids = []
    for index, (_, value) in enumerate(variant.option_values):
        all_values = list(dict.fromkeys(v.option_values[index][1] for v in product.variants))
        ids.append((product.id * 10 + index, product.id * 100 + index * 10 + all_values.index(value)))
    return ids


def _options(pv: tuple[Product, Variant], info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    product, variant = pv
    options = []
    for (option_id, value_id), (name, value) in zip(_option_ids(product, variant), variant.option_values, strict=True):
        options.append({"entityId": option_id, "displayName": name, "isRequired": True,
                        "_values": [{"entityId": value_id, "label": value}]})
    return connection(options, args)


def _product_categories(product: Product, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    hidden = ctx(info).catalog.dataset.hidden_categories(ctx(info).buyer.group_id)
    categories = [c for c in ctx(info).catalog.dataset.categories if c.id in product.category_ids and c.id not in hidden]
    return connection(categories, args)


def _variants(product: Product, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    variants = list(product.variants)
    if args.get("entityIds"):
        variants = [v for v in variants if v.id in args["entityIds"]]
    if args.get("skus"):
        variants = [v for v in variants if v.sku in args["skus"]]
    if args.get("optionValueIds"):
        wanted = {(o["optionEntityId"], o["valueEntityId"]) for o in args["optionValueIds"]}
        variants = [v for v in variants if wanted <= set(_option_ids(product, v))]
    if args.get("isPurchasable") is False:  # every simulated variant is purchasable
        variants = []
    return connection([(product, v) for v in variants], args)


def _custom_fields(product: Product, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    fields = [{"entityId": product.id * 10 + i, "name": n, "value": v} for i, (n, v) in enumerate(product.custom_fields)]
    if args.get("names"):
        fields = [f for f in fields if f["name"] in args["names"]]
    return connection(fields, args)


def _related(product: Product, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    related = [p for pid in product.related_ids if (p := c.catalog.product(pid, c.buyer)) is not None]
    if args.get("hideOutOfStock"):
        related = [p for p in related if c.catalog.in_stock(p)]
    return connection(related, args)


def node_of(value: str, info: GraphQLResolveInfo) -> Any:
    parsed = parse_global_id(value)
    if parsed is None:
        raise GraphQLError(f"Invalid id: {value!r}")
    kind, raw_id = parsed
    if not (raw_id.isascii() and raw_id.isdigit()):
        return None
    c, entity_id = ctx(info), int(raw_id)
    if kind == "Product":
        return c.catalog.product(entity_id, c.buyer)
    if kind == "Variant":
        product = c.catalog.by_variant(entity_id, c.buyer)
        return (product, c.catalog.dataset.variant_by_id[entity_id][1]) if product else None
    if kind == "Category":
        hidden = c.catalog.dataset.hidden_categories(c.buyer.group_id)
        return next((x for x in c.catalog.dataset.categories if x.id == entity_id and x.id not in hidden), None)
    if kind == "Brand":
        return next((x for x in c.catalog.dataset.brands if x.id == entity_id), None)
    return None


PRODUCT: dict[str, Resolver] = {
    "id": lambda p, i: global_id("Product", p.id),
    "entityId": lambda p, i: p.id,
    "description": lambda p, i: p.description,
    "plainTextDescription": _plain,
    "warranty": lambda p, i: "",
    "addToCartUrl": lambda p, i: f"{STORE_URL}/cart.php?action=add&product_id={p.id}",
    "prices": lambda p, i, **a: _prices(i, lambda cur, tax: ctx(i).catalog.product_prices(p, ctx(i).buyer, cur, tax), a),
    "categories": _product_categories,
    "brand": lambda p, i: next((b for b in ctx(i).catalog.dataset.brands if b.id == p.brand_id), None),
    "variants": _variants,
    "customFields": _custom_fields,
    "images": lambda p, i, **a: connection([image(x.path, x.alt_text, x.is_default) for x in p.images], a),
    "defaultImage": lambda p, i: next((image(x.path, x.alt_text, True) for x in p.images if x.is_default), None),
    "relatedProducts": _related,
    "inventory": lambda p, i: product_inventory(ctx(i).catalog, p),
    "upc": lambda p, i: p.default_variant.upc,
    "mpn": lambda p, i: p.default_variant.mpn,
    "gtin": lambda p, i: None,
    "availabilityV2": lambda p, i: {"__typename": "ProductAvailable", "status": "Available", "description": ""},
    "type": lambda p, i: "Physical",
    "showCartAction": lambda p, i: True,
}
VARIANT: dict[str, Resolver] = {
    "id": lambda pv, i: global_id("Variant", pv[1].id),
    "entityId": lambda pv, i: pv[1].id,
    "sku": lambda pv, i: pv[1].sku,
    "options": _options,
    "defaultImage": lambda pv, i: PRODUCT["defaultImage"](pv[0], i),
    "prices": lambda pv, i, **a: _prices(
        i, lambda cur, tax: ctx(i).catalog.variant_prices(pv[0], pv[1], ctx(i).buyer, cur, tax), a),
    "inventory": lambda pv, i: variant_inventory(ctx(i).catalog, pv[1]),
    "upc": lambda pv, i: pv[1].upc,
    "mpn": lambda pv, i: pv[1].mpn,
    "gtin": lambda pv, i: None,
    "isPurchasable": lambda pv, i: True,
}
CATEGORY_OR_BRAND: dict[str, Resolver] = {
    "entityId": lambda c, i: c.id,
}


def settings_dict(channel_id: int) -> dict[str, Any]:
    return {"storeName": STORE_NAME, "storeHash": STORE_HASH, "channelId": channel_id}


OTHER: dict[tuple[str, str], Resolver] = {
    ("Image", "url"): _image_url,
    ("Image", "urlOriginal"): lambda s, i, **a: f"{CDN_URL}/images/stencil/original/{s['path']}",
    ("VariantInventory", "byLocation"): _by_location,
    ("ProductOption", "values"): lambda s, i, **a: connection(s["_values"], a),
}
