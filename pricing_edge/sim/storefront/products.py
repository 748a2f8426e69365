"""``Product`` and ``Variant`` of the simulated storefront, bound to the SDL by (type, field).

A product is answered as a ``ProductRef``: the product and, when the query selected options
(``optionValueIds``, ``useDefaultOptionSelections``, ``sku``, ``variantEntityId``), the selection —
BigCommerce's "variant overlay": the selected variant's SKU, identifiers, weight and prices stand for
the product's, and the selected values answer ``isSelected: true``. A variant is ``(Product, Variant)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.domain.pricing import PriceView
from pricing_edge.sim.catalog_content import ProductDetails, ProductOption
from pricing_edge.sim.dataset import STORE_URL, Product, Variant
from pricing_edge.sim.storefront.catalog import StorefrontCatalog, UnsupportedCurrency
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx, image, money, plain_text, seo, when
from pricing_edge.sim.storefront.ids import global_id

Resolver = Callable[..., Any]


@dataclass(frozen=True)
class ProductRef:
    """A product as one query sees it: with the variant its option selection resolved to, if any."""

    product: Product
    variant: Variant | None = None
    values: frozenset[int] = frozenset()  # selected option value ids

    @property
    def current(self) -> Variant:
        return self.variant or self.product.default_variant


def variant_values(options: Iterable[ProductOption], variant: Variant) -> dict[int, int]:
    """``{option id: value id}`` of a variant's variant-option values."""
    chosen = dict(variant.option_values)
    return {o.id: v.id for o in options if o.is_variant_option for v in o.values if chosen.get(o.name) == v.label}


def select(catalog: StorefrontCatalog, product: Product, option_value_ids: list[dict[str, int]] | None = None,
           use_defaults: bool | None = None, variant: Variant | None = None) -> ProductRef:
    """The product with BigCommerce's overlay: a variant picked by id/SKU, else defaults (if asked) overridden
    by ``optionValueIds``; the overlay variant is the one all variant options' selected values name."""
    options = catalog.options(product)
    if variant is not None:
        return ProductRef(product, variant, frozenset(variant_values(options, variant).values()))
    selected: dict[int, int] = {}
    if use_defaults:
        selected = {o.id: v.id for o in options for v in o.values if v.is_default}
    for pair in option_value_ids or []:
        option = next((o for o in options if o.id == pair["optionEntityId"]), None)
        if option is None or option.value(pair["valueEntityId"]) is None:
            raise GraphQLError(f"Option value {pair['valueEntityId']} of option {pair['optionEntityId']} "
                               f"is not an option value of product {product.id}.")
        selected[option.id] = pair["valueEntityId"]
    if not selected:
        return ProductRef(product)
    wanted = {o.id: selected[o.id] for o in options if o.is_variant_option and o.id in selected}
    overlay = None
    if len(wanted) == sum(1 for o in options if o.is_variant_option):
        overlay = next((v for v in product.variants if variant_values(options, v) == wanted), None)
    return ProductRef(product, overlay, frozenset(selected.values()))


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


def _prices(info: GraphQLResolveInfo, compute: Callable[[str, bool], PriceView], args: Mapping[str, Any]) -> Any:
    try:
        c = ctx(info)
        currency = str(args.get("currencyCode") or c.catalog.default_currency(c.buyer))
        return prices_dict(compute(currency, bool(args.get("includeTax"))))
    except UnsupportedCurrency as exc:
        raise GraphQLError(str(exc)) from None


def product_prices(ref: ProductRef, info: GraphQLResolveInfo, **args: Any) -> Any:
    c = ctx(info)

    def compute(currency: str, include_tax: bool) -> PriceView:
        whole = c.catalog.product_prices(ref.product, c.buyer, currency, include_tax)
        if ref.variant is None:
            return whole
        own = c.catalog.variant_prices(ref.product, ref.variant, c.buyer, currency, include_tax)
        return PriceView(own.currency, own.price, own.base_price, own.sale_price, own.retail_price, own.map_price,
                         own.bulk_tiers, whole.price_range, whole.retail_price_range)

    return _prices(info, compute, args)


def product_inventory(catalog: StorefrontCatalog, product: Product, variant: Variant | None = None) -> dict[str, Any]:
    """The product's stock — or, with a variant selected (the variant overlay), that variant's."""
    if variant is not None:
        available = catalog.available(variant)
        in_stock = available > 0 or any(level.backorder for level in catalog.stock(variant))
    else:
        available, in_stock = catalog.product_available(product), catalog.in_stock(product)
    return {"isInStock": in_stock, "hasVariantInventory": product.has_variants,
            "aggregated": {"availableToSell": available, "warningLevel": 5}}


def variant_inventory(catalog: StorefrontCatalog, variant: Variant) -> dict[str, Any]:
    levels = catalog.stock(variant)
    total = sum(level.available_to_sell for level in levels)
    codes = {loc.id: loc.code for loc in catalog.dataset.locations}
    by_location = [
        {"locationEntityId": level.location_id, "availableToSell": level.available_to_sell, "warningLevel": 5,
         "isInStock": level.available_to_sell > 0 or level.backorder, "locationEntityTypeId": "PHYSICAL",
         "locationEntityCode": codes[level.location_id]}
        for level in levels
    ]
    return {"isInStock": total > 0 or any(level.backorder for level in levels),
            "aggregated": {"availableToSell": total, "warningLevel": 5}, "_locations": by_location}


def by_location(source: dict[str, Any], info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    locations = source["_locations"]
    if args.get("locationEntityIds"):
        locations = [loc for loc in locations if loc["locationEntityId"] in args["locationEntityIds"]]
    if args.get("locationEntityCodes"):
        locations = [loc for loc in locations if loc["locationEntityCode"] in args["locationEntityCodes"]]
    if args.get("locationEntityTypeIds"):
        locations = [loc for loc in locations if loc["locationEntityTypeId"] in args["locationEntityTypeIds"]]
    return connection(locations, args)


def default_image(product: Product) -> dict[str, Any] | None:
    return next((image(x.path, x.alt_text, True) for x in product.images if x.is_default), None)


def _details(ref: ProductRef, info: GraphQLResolveInfo) -> ProductDetails:
    return ctx(info).catalog.dataset.catalog_content.details.get(ref.product.id) or ProductDetails()


def _measure(value: Decimal | None, unit: str) -> dict[str, Any] | None:
    return None if value is None else {"value": float(value), "unit": unit}


def _dimension(index: int) -> Resolver:
    def resolve(ref: ProductRef, info: GraphQLResolveInfo) -> dict[str, Any] | None:
        dims = _details(ref, info).dimensions
        return _measure(dims[index], ctx(info).catalog.dataset.site.settings.length_unit) if dims else None
    return resolve


def _weight(product: Product, variant: Variant | None, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    """A pack of n weighs n times the unit."""
    unit = ctx(info).catalog.dataset.site.settings.weight_unit
    return _measure(product.weight * (variant.uom_factor if variant else 1), unit)


def _availability(ref: ProductRef, info: GraphQLResolveInfo) -> dict[str, Any]:
    release = _details(ref, info).preorder_release
    if release is not None:
        return {"__typename": "ProductPreOrder", "status": "Preorder", "description": "Ships on release",
                "message": "Expected release date is %%DATE%%", "willBeReleasedAt": when(release)}
    return {"__typename": "ProductAvailable", "status": "Available", "description": ""}


def _categories(ref: ProductRef, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    found = [cat for cid in ref.product.category_ids if (cat := c.catalog.category(cid, c.buyer)) is not None]
    return connection(found, args)


def _variants(ref: ProductRef, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    product = ref.product
    variants = list(product.variants)
    if args.get("entityIds"):
        variants = [v for v in variants if v.id in args["entityIds"]]
    if args.get("skus"):
        variants = [v for v in variants if v.sku in args["skus"]]
    if args.get("optionValueIds"):
        options = ctx(info).catalog.options(product)
        wanted = {(o["optionEntityId"], o["valueEntityId"]) for o in args["optionValueIds"]}
        variants = [v for v in variants if wanted <= set(variant_values(options, v).items())]
    if args.get("isPurchasable") is False:  # every simulated variant is purchasable
        variants = []
    return connection([(product, v) for v in variants], args)


def _custom_fields(ref: ProductRef, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    product = ref.product
    fields = [{"entityId": product.id * 10 + i, "name": n, "value": v} for i, (n, v) in enumerate(product.custom_fields)]
    if args.get("names"):
        fields = [f for f in fields if f["name"] in args["names"]]
    return connection(fields, args)


def _related(ref: ProductRef, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    related = [p for pid in ref.product.related_ids if (p := c.catalog.product(pid, c.buyer)) is not None]
    if args.get("hideOutOfStock"):
        related = [p for p in related if c.catalog.in_stock(p)]
    return connection([ProductRef(p) for p in related], args)


def _review_summary(ref: ProductRef, info: GraphQLResolveInfo) -> dict[str, Any]:
    catalog = ctx(info).catalog
    reviews = catalog.reviews(ref.product)
    return {"numberOfReviews": len(reviews), "summationOfRatings": sum(r.rating for r in reviews),
            "averageRating": catalog.average_rating(ref.product)}


def _reviews(ref: ProductRef, info: GraphQLResolveInfo, sort: str | None = None,
             filters: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
    reviews = list(ctx(info).catalog.reviews(ref.product))  # newest first
    rating = (filters or {}).get("rating") or {}
    if rating.get("minRating") is not None:
        reviews = [r for r in reviews if r.rating >= rating["minRating"]]
    if rating.get("maxRating") is not None:
        reviews = [r for r in reviews if r.rating <= rating["maxRating"]]
    if sort == "OLDEST":
        reviews.reverse()
    elif sort in ("HIGHEST_RATING", "LOWEST_RATING"):
        reviews.sort(key=lambda r: r.rating, reverse=sort == "HIGHEST_RATING")
    return connection([{"entityId": r.id, "author": {"name": r.author}, "title": r.title, "text": r.text,
                        "rating": r.rating, "createdAt": when(r.created_at)} for r in reviews], args)


def _brand(ref: ProductRef, info: GraphQLResolveInfo) -> Any:
    return next((b for b in ctx(info).catalog.dataset.brands if b.id == ref.product.brand_id), None)


PRODUCT: dict[str, Resolver] = {
    "id": lambda r, i: global_id("Product", r.product.id),
    "entityId": lambda r, i: r.product.id,
    "sku": lambda r, i: r.current.sku if r.variant else r.product.sku,
    "path": lambda r, i: r.product.path,
    "name": lambda r, i: r.product.name,
    "description": lambda r, i: r.product.description,
    "plainTextDescription": lambda r, i, characterLimit=120: plain_text(r.product.description, characterLimit),
    "warranty": lambda r, i: _details(r, i).warranty,
    "minPurchaseQuantity": lambda r, i: r.product.min_purchase_quantity,
    "maxPurchaseQuantity": lambda r, i: r.product.max_purchase_quantity,
    "addToCartUrl": lambda r, i: f"{STORE_URL}/cart.php?action=add&product_id={r.product.id}",
    "prices": product_prices,
    "weight": lambda r, i: _weight(r.product, r.variant, i),
    "height": _dimension(0), "width": _dimension(1), "depth": _dimension(2),
    "reviewSummary": _review_summary,
    "reviews": _reviews,
    "type": lambda r, i: "Physical",
    "availabilityV2": _availability,
    "categories": _categories,
    "brand": _brand,
    "variants": _variants,
    "customFields": _custom_fields,
    "images": lambda r, i, **a: connection([image(x.path, x.alt_text, x.is_default) for x in r.product.images], a),
    "defaultImage": lambda r, i: default_image(r.product),
    "relatedProducts": _related,
    "inventory": lambda r, i: product_inventory(ctx(i).catalog, r.product, r.variant),
    "upc": lambda r, i: r.current.upc,
    "mpn": lambda r, i: r.current.mpn,
    "gtin": lambda r, i: _details(r, i).gtin,
    "seo": lambda r, i: seo(ctx(i).catalog.dataset.catalog_content.seo.get(("Product", r.product.id))),
    "condition": lambda r, i: _details(r, i).condition,
    "showCartAction": lambda r, i: _details(r, i).preorder_release is None,
}
VARIANT: dict[str, Resolver] = {
    "id": lambda pv, i: global_id("Variant", pv[1].id),
    "entityId": lambda pv, i: pv[1].id,
    "sku": lambda pv, i: pv[1].sku,
    "weight": lambda pv, i: _weight(pv[0], pv[1], i),
    "height": lambda pv, i: _dimension(0)(ProductRef(pv[0]), i),
    "width": lambda pv, i: _dimension(1)(ProductRef(pv[0]), i),
    "depth": lambda pv, i: _dimension(2)(ProductRef(pv[0]), i),
    "defaultImage": lambda pv, i: default_image(pv[0]),
    "prices": lambda pv, i, **a: _prices(
        i, lambda cur, tax: ctx(i).catalog.variant_prices(pv[0], pv[1], ctx(i).buyer, cur, tax), a),
    "inventory": lambda pv, i: variant_inventory(ctx(i).catalog, pv[1]),
    "upc": lambda pv, i: pv[1].upc,
    "mpn": lambda pv, i: pv[1].mpn,
    "gtin": lambda pv, i: None,
    "isPurchasable": lambda pv, i: True,
}
OTHER: dict[tuple[str, str], Resolver] = {
    ("VariantInventory", "byLocation"): by_location,
}
