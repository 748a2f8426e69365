"""Catalog queries of ``site``: products (by id, by ids, featured, newest, best selling), categories and
their tree and breadcrumbs, brands, and ``node`` by global id — always what the buyer's group may see."""
from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.dataset import Brand, Category, Product
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx, image, seo
from pricing_edge.sim.storefront.ids import global_id, parse_global_id
from pricing_edge.sim.storefront.products import ProductRef, select

SITE: Any = object()


def _refs(products: list[Product]) -> list[ProductRef]:
    return [ProductRef(p) for p in products]


def site_product(_: Any, info: GraphQLResolveInfo, optionValueIds: list[dict[str, int]] | None = None,  # noqa: N803
                 useDefaultOptionSelections: bool | None = None, **args: Any) -> ProductRef | None:  # noqa: N803
    c = ctx(info)
    variant = None
    if args.get("entityId") is not None:
        product = c.catalog.product(args["entityId"], c.buyer)
    elif args.get("variantEntityId") is not None:
        product = c.catalog.by_variant(args["variantEntityId"], c.buyer)
        variant = c.catalog.dataset.variant_by_id[args["variantEntityId"]][1] if product else None
    elif args.get("sku"):
        product = c.catalog.by_sku(args["sku"], c.buyer)
        found = c.catalog.dataset.variant_by_sku.get(args["sku"])
        variant = found[1] if product and found and found[0].has_variants else None
    elif args.get("id"):
        parsed = parse_global_id(args["id"])
        if parsed is None or parsed[0] != "Product" or not (parsed[1].isascii() and parsed[1].isdigit()):
            raise GraphQLError(f"Invalid id: {args['id']!r}")
        product = c.catalog.product(int(parsed[1]), c.buyer)
    else:
        raise GraphQLError("One of id, entityId, variantEntityId or sku is required.")
    if product is None:
        return None
    return select(c.catalog, product, optionValueIds, useDefaultOptionSelections, variant)


def site_products(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    ids = list(args.get("entityIds") or [])
    for value in args.get("ids") or []:
        parsed = parse_global_id(value)
        if parsed and parsed[0] == "Product" and parsed[1].isascii() and parsed[1].isdigit():
            ids.append(int(parsed[1]))
    products = c.catalog.products(c.buyer)
    if ids:
        by_id = {p.id: p for p in products}
        products = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]  # in the order asked
    return _listing(products, args, info)


def _listing(products: list[Product], args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    if args.get("hideOutOfStock"):
        products = [p for p in products if ctx(info).catalog.in_stock(p)]
    return connection(_refs(products), args)


def featured_products(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    return _listing([p for p in c.catalog.products(c.buyer) if p.is_featured], args, info)


def newest_products(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    return _listing(sorted(c.catalog.products(c.buyer), key=lambda p: (-p.created_rank, p.id)), args, info)


def best_selling_products(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    return _listing(sorted(c.catalog.products(c.buyer), key=lambda p: (-p.total_sold, p.id)), args, info)


def sort_products(products: list[Product], sort: str | None, info: GraphQLResolveInfo) -> list[Product]:
    """BigCommerce's sorts; prices are the buyer's (its price list, USD), ratings the reviews' average."""
    c = ctx(info)
    if sort in ("A_TO_Z", "Z_TO_A"):
        return sorted(products, key=lambda p: p.name.lower(), reverse=sort == "Z_TO_A")
    if sort in ("LOWEST_PRICE", "HIGHEST_PRICE"):
        return sorted(products, key=lambda p: (c.catalog.sort_price(p, c.buyer), p.id), reverse=sort == "HIGHEST_PRICE")
    if sort == "NEWEST":
        return sorted(products, key=lambda p: (-p.created_rank, p.id))
    if sort == "BEST_SELLING":
        return sorted(products, key=lambda p: (-p.total_sold, p.id))
    if sort == "BEST_REVIEWED":
        return sorted(products, key=lambda p: (-c.catalog.average_rating(p), -len(c.catalog.reviews(p)), p.id))
    if sort == "FEATURED":
        return sorted(products, key=lambda p: (not p.is_featured, p.id))
    return products


def category(_: Any, info: GraphQLResolveInfo, entityId: int) -> Category | None:  # noqa: N803
    c = ctx(info)
    return c.catalog.category(entityId, c.buyer)


def category_products(source: Category, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    products = [p for p in c.catalog.dataset.products_in(source.id) if c.catalog.visible(p, c.buyer)]
    return _listing(sort_products(products, args.get("sortBy"), info), args, info)


def breadcrumbs(source: Category, info: GraphQLResolveInfo, depth: int, **args: Any) -> dict[str, Any]:
    """The path from the top level down to the category itself, its last ``depth`` steps."""
    if depth < 0:
        raise GraphQLError("Argument 'depth' must be a non-negative integer")
    chain = ctx(info).catalog.ancestry(source)[-depth:] if depth else []
    return connection([{"entityId": x.id, "name": x.name, "path": x.path} for x in chain], args)


def _tree_item(category: Category, info: GraphQLResolveInfo) -> dict[str, Any]:
    c = ctx(info)
    children = c.catalog.children(category.id, c.buyer)
    count = sum(1 for p in c.catalog.dataset.products_in(category.id) if c.catalog.visible(p, c.buyer))
    path = c.catalog.dataset.catalog_content.images.get(("Category", category.id))
    return {"entityId": category.id, "name": category.name, "path": category.path, "description": category.description,
            "productCount": count, "image": image(path, category.name) if path else None,
            "hasChildren": bool(children), "_children": children}


def category_tree(_: Any, info: GraphQLResolveInfo, rootEntityId: int | None = None) -> list[dict[str, Any]]:  # noqa: N803
    """The top-level categories with their children; from ``rootEntityId``, that one branch (or none)."""
    c = ctx(info)
    if rootEntityId is not None:
        root = c.catalog.category(rootEntityId, c.buyer)
        return [_tree_item(root, info)] if root else []
    return [_tree_item(x, info) for x in c.catalog.children(0, c.buyer)]


def brand(_: Any, info: GraphQLResolveInfo, entityId: int) -> Brand | None:  # noqa: N803
    return next((x for x in ctx(info).catalog.dataset.brands if x.id == entityId), None)


def brands(_: Any, info: GraphQLResolveInfo, productEntityIds: list[int] | None = None,  # noqa: N803
           entityIds: list[int] | None = None, **args: Any) -> dict[str, Any]:  # noqa: N803
    c = ctx(info)
    found = list(c.catalog.dataset.brands)
    if entityIds:
        found = [b for b in found if b.id in entityIds]
    if productEntityIds:
        owners = {p.brand_id for pid in productEntityIds if (p := c.catalog.product(pid, c.buyer)) is not None}
        found = [b for b in found if b.id in owners]
    return connection(found, args)


def brand_products(source: Brand, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    return _listing([p for p in c.catalog.products(c.buyer) if p.brand_id == source.id], args, info)


def _entity_image(kind: str) -> Any:
    def resolve(source: Category | Brand, info: GraphQLResolveInfo) -> dict[str, Any] | None:
        path = ctx(info).catalog.dataset.catalog_content.images.get((kind, source.id))
        return image(path, source.name, True) if path else None
    return resolve


def _entity_seo(kind: str) -> Any:
    return lambda s, i: seo(ctx(i).catalog.dataset.catalog_content.seo.get((kind, s.id)))


def node_of(value: str, info: GraphQLResolveInfo) -> Any:
    """``node(id:)``: a global id (base64 of ``Type:entityId``) of anything this buyer may see."""
    from pricing_edge.sim.storefront.content import node_of_content

    parsed = parse_global_id(value)
    if parsed is None:
        raise GraphQLError(f"Invalid id: {value!r}")
    kind, raw_id = parsed
    if kind in ("Cart", "Checkout"):  # a checkout is its cart: same id, same owner
        from pricing_edge.sim.storefront.cart import site_cart
        from pricing_edge.sim.storefront.orders import CheckoutNode
        found = site_cart(None, info, raw_id)
        return CheckoutNode(found) if kind == "Checkout" and found is not None else found
    if not (raw_id.isascii() and raw_id.isdigit()):
        return None
    c, entity_id = ctx(info), int(raw_id)
    if kind == "Order":
        from pricing_edge.sim.storefront.orders import order_node
        return order_node(entity_id, info)
    if kind == "Product":
        product = c.catalog.product(entity_id, c.buyer)
        return ProductRef(product) if product else None
    if kind == "Variant":
        product = c.catalog.by_variant(entity_id, c.buyer)
        return (product, c.catalog.dataset.variant_by_id[entity_id][1]) if product else None
    if kind == "Category":
        return c.catalog.category(entity_id, c.buyer)
    if kind == "Brand":
        return next((x for x in c.catalog.dataset.brands if x.id == entity_id), None)
    return node_of_content(kind, entity_id, info)


SITE_FIELDS: dict[tuple[str, str], Any] = {
    ("Query", "site"): lambda _, i: SITE,
    ("Query", "node"): lambda _, i, id: node_of(id, i),
    ("Site", "product"): site_product,
    ("Site", "products"): site_products,
    ("Site", "featuredProducts"): featured_products,
    ("Site", "newestProducts"): newest_products,
    ("Site", "bestSellingProducts"): best_selling_products,
    ("Site", "category"): category,
    ("Site", "categoryTree"): category_tree,
    ("Site", "brand"): brand,
    ("Site", "brands"): brands,
    ("CategoryTreeItem", "children"): lambda s, i: [_tree_item(x, i) for x in s["_children"]],
    ("Category", "id"): lambda s, i: global_id("Category", s.id),
    ("Category", "entityId"): lambda s, i: s.id,
    ("Category", "defaultImage"): _entity_image("Category"),
    ("Category", "breadcrumbs"): breadcrumbs,
    ("Category", "products"): category_products,
    ("Category", "seo"): _entity_seo("Category"),
    ("Category", "defaultProductSort"): lambda s, i: "DEFAULT",
    ("Brand", "id"): lambda s, i: global_id("Brand", s.id),
    ("Brand", "entityId"): lambda s, i: s.id,
    ("Brand", "defaultImage"): _entity_image("Brand"),
    ("Brand", "seo"): _entity_seo("Brand"),
    ("Brand", "searchKeywords"): lambda s, i: list(ctx(i).catalog.dataset.catalog_content.search_keywords.get(s.id, ())),
    ("Brand", "products"): brand_products,
}
