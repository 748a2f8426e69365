"""Root queries of the simulated storefront: ``site.*``, ``customer`` and ``node``."""
from __future__ import annotations

from collections import Counter
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.dataset import Product
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.ids import global_id, parse_global_id
from pricing_edge.sim.storefront.resolvers import ctx, node_of, settings_dict

SITE: Any = object()
CATEGORY_SORTS = {"A_TO_Z", "Z_TO_A", "LOWEST_PRICE", "HIGHEST_PRICE", "NEWEST", "BEST_SELLING", "FEATURED",
                  "DEFAULT", "RELEVANCE", "BEST_REVIEWED"}


def site_product(_: Any, info: GraphQLResolveInfo, **args: Any) -> Product | None:
    c = ctx(info)
    if args.get("entityId") is not None:
        return c.catalog.product(args["entityId"], c.buyer)
    if args.get("variantEntityId") is not None:
        return c.catalog.by_variant(args["variantEntityId"], c.buyer)
    if args.get("sku"):
        return c.catalog.by_sku(args["sku"], c.buyer)
    if args.get("id"):
        parsed = parse_global_id(args["id"])
        if parsed is None or parsed[0] != "Product" or not (parsed[1].isascii() and parsed[1].isdigit()):
            raise GraphQLError(f"Invalid id: {args['id']!r}")
        return c.catalog.product(int(parsed[1]), c.buyer)
    raise GraphQLError("One of id, entityId, variantEntityId or sku is required.")


def site_products(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    ids = list(args.get("entityIds") or [])
    for value in args.get("ids") or []:
        parsed = parse_global_id(value)
        if parsed and parsed[0] == "Product" and parsed[1].isascii() and parsed[1].isdigit():
            ids.append(int(parsed[1]))
    if ids:
        wanted = set(ids)
        products = [p for p in c.catalog.products(c.buyer) if p.id in wanted]
    else:
        products = c.catalog.products(c.buyer)
    if args.get("hideOutOfStock"):
        products = [p for p in products if c.catalog.in_stock(p)]
    return connection(products, args)


def sort_products(products: list[Product], sort: str | None, info: GraphQLResolveInfo) -> list[Product]:
    c = ctx(info)
    if sort in ("A_TO_Z", "Z_TO_A"):
        return sorted(products, key=lambda p: p.name.lower(), reverse=sort == "Z_TO_A")
    if sort in ("LOWEST_PRICE", "HIGHEST_PRICE"):
        return sorted(products, key=lambda p: (c.catalog.sort_price(p, c.buyer), p.id), reverse=sort == "HIGHEST_PRICE")
    if sort == "NEWEST":
        return sorted(products, key=lambda p: -p.created_rank)
    if sort == "BEST_SELLING":
        return sorted(products, key=lambda p: -p.total_sold)
    if sort == "FEATURED":
        return sorted(products, key=lambda p: (not p.is_featured, p.id))
    return products


def category(_: Any, info: GraphQLResolveInfo, entityId: int) -> Any:  # noqa: N803
    c = ctx(info)
    if entityId in c.catalog.dataset.hidden_categories(c.buyer.group_id):
        return None
    return next((x for x in c.catalog.dataset.categories if x.id == entityId), None)


def category_products(source: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    products = [p for p in c.catalog.products(c.buyer) if source.id in p.category_ids]
    if args.get("hideOutOfStock"):
        products = [p for p in products if c.catalog.in_stock(p)]
    return connection(sort_products(products, args.get("sortBy"), info), args)


def brand(_: Any, info: GraphQLResolveInfo, entityId: int) -> Any:  # noqa: N803
    return next((x for x in ctx(info).catalog.dataset.brands if x.id == entityId), None)


def brand_products(source: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    products = [p for p in c.catalog.products(c.buyer) if p.brand_id == source.id]
    return connection(products, args)


def search_products(_: Any, info: GraphQLResolveInfo, filters: dict[str, Any], sort: str | None = None) -> dict[str, Any]:
    """Matches, then facets over the matches (brand, category, price), as BigCommerce's search does."""
    c = ctx(info)
    products = c.catalog.products(c.buyer)
    term = (filters.get("searchTerm") or "").strip().lower()
    if term:
        products = [p for p in products if term in p.name.lower() or term in p.sku.lower()]
    categories = set(filters.get("categoryEntityIds") or []) | (
        {filters["categoryEntityId"]} if filters.get("categoryEntityId") else set())
    if categories:
        products = [p for p in products if categories & set(p.category_ids)]
    if filters.get("brandEntityIds"):
        products = [p for p in products if p.brand_id in filters["brandEntityIds"]]
    price = filters.get("price") or {}
    if price.get("minPrice") is not None or price.get("maxPrice") is not None:
        low, high = price.get("minPrice"), price.get("maxPrice")
        products = [p for p in products
                    if (low is None or float(c.catalog.sort_price(p, c.buyer)) >= low)
                    and (high is None or float(c.catalog.sort_price(p, c.buyer)) <= high)]
    if filters.get("hideOutOfStock"):
        products = [p for p in products if c.catalog.in_stock(p)]
    products = sort_products(products, sort, info)
    return {"_products": products, "_filters": _facets(products, filters, info)}


def _facets(products: list[Product], filters: dict[str, Any], info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    c = ctx(info)
    brands = Counter(p.brand_id for p in products)
    categories = Counter(cid for p in products for cid in p.category_ids)
    hidden = c.catalog.dataset.hidden_categories(c.buyer.group_id)
    selected_brands = set(filters.get("brandEntityIds") or [])
    selected_categories = set(filters.get("categoryEntityIds") or [])
    price = filters.get("price") or {}
    return [
        {"__typename": "BrandSearchFilter", "name": "Brand", "displayName": "Brand", "isCollapsedByDefault": False,
         "displayProductCount": True,
         "_items": [{"entityId": b.id, "name": b.name, "isSelected": b.id in selected_brands, "productCount": brands[b.id]}
                    for b in c.catalog.dataset.brands if brands[b.id]]},
        {"__typename": "CategorySearchFilter", "name": "Category", "displayName": "Category",
         "isCollapsedByDefault": False, "displayProductCount": True,
         "_items": [{"entityId": x.id, "name": x.name, "isSelected": x.id in selected_categories,
                     "productCount": categories[x.id]}
                    for x in c.catalog.dataset.categories if categories[x.id] and x.id not in hidden]},
        {"__typename": "PriceSearchFilter", "name": "Price", "displayName": "Price", "isCollapsedByDefault": False,
         "selected": {"minPrice": price.get("minPrice"), "maxPrice": price.get("maxPrice")} if price else None},
    ]


def customer(_: Any, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    c = ctx(info)
    if c.buyer.customer_id is None:
        return None
    found = c.catalog.dataset.customer(c.buyer.customer_id)
    if found is None:
        return None
    company = c.catalog.dataset.company(found.company_id) if found.company_id else None
    group = c.catalog.dataset.group(found.customer_group_id)
    return {"entityId": found.id, "firstName": found.first_name, "lastName": found.last_name, "email": found.email,
            "phone": found.phone, "company": company.name if company else "", "customerGroupId": found.customer_group_id,
            "customerGroupName": group.name if group else None}


ROOT: dict[tuple[str, str], Any] = {
    ("Query", "site"): lambda _, i: SITE,
    ("Query", "customer"): customer,
    ("Query", "node"): lambda _, i, id: node_of(id, i),
    ("Site", "product"): site_product,
    ("Site", "products"): site_products,
    ("Site", "category"): category,
    ("Site", "brand"): brand,
    ("Site", "search"): lambda _, i: SITE,
    ("Site", "settings"): lambda _, i: settings_dict(1),
    ("SearchQueries", "searchProducts"): search_products,
    ("SearchProducts", "products"): lambda s, i, **a: connection(s["_products"], a),
    ("SearchProducts", "filters"): lambda s, i, **a: connection(s["_filters"], a),
    ("BrandSearchFilter", "brands"): lambda s, i, **a: connection(s["_items"], a),
    ("CategorySearchFilter", "categories"): lambda s, i, **a: connection(s["_items"], a),
    ("Category", "products"): category_products,
    ("Category", "id"): lambda s, i: global_id("Category", s.id),
    ("Category", "entityId"): lambda s, i: s.id,
    ("Category", "defaultProductSort"): lambda s, i: "DEFAULT",
    ("Brand", "id"): lambda s, i: global_id("Brand", s.id),
    ("Brand", "entityId"): lambda s, i: s.id,
    ("Brand", "products"): brand_products,
}
