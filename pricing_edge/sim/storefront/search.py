"""``site.search.searchProducts``: every filter of ``SearchProductsFiltersInput``, every sort, and the six
facet kinds (category with sub-categories, brand, price, rating, product attributes, other).

Facets are disjunctive, as faceted search is: a facet's counts are over the products matching every
*other* filter, so selecting one brand still lists the others with what they would add. Prices are the
buyer's (its price list, USD), ratings the average of a product's reviews.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.dataset import Product
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx
from pricing_edge.sim.storefront.products import ProductRef
from pricing_edge.sim.storefront.site import sort_products

FACETED_CUSTOM_FIELDS = ("Material", "Country of Origin")
Predicate = Callable[[Product], bool]


def _attributes(product: Product, info: GraphQLResolveInfo) -> dict[str, set[str]]:
    """A product's filterable attributes: its variant options' values and some custom fields."""
    found: dict[str, set[str]] = {}
    for option in ctx(info).catalog.options(product):
        if option.is_variant_option:
            found[option.name] = {v.label for v in option.values}
    for name, value in product.custom_fields:
        if name in FACETED_CUSTOM_FIELDS:
            found.setdefault(name, set()).add(value)
    return found


def _matches_term(product: Product, words: list[str], info: GraphQLResolveInfo) -> int:
    """A relevance score (0: no match): every word must be in the name, a SKU, the description or the brand."""
    brand = next((b.name.lower() for b in ctx(info).catalog.dataset.brands if b.id == product.brand_id), "")
    name, description = product.name.lower(), product.description.lower()
    skus = " ".join(v.sku.lower() for v in product.variants)
    score = 0
    for word in words:
        if word in name:
            score += 3
        elif word in skus:
            score += 2
        elif word in description or word in brand:
            score += 1
        else:
            return 0
    return score


def _category_ids(filters: dict[str, Any], info: GraphQLResolveInfo) -> tuple[set[int], str]:
    c = ctx(info)
    wanted = set(filters.get("categoryEntityIds") or [])
    if filters.get("categoryEntityId") is not None:
        wanted.add(filters["categoryEntityId"])
    behavior = "OR"
    ids_filter = filters.get("categoryIdsFilter")
    if ids_filter:
        wanted |= set(ids_filter["entityIds"])
        behavior = ids_filter.get("matchBehavior") or "OR"
    if wanted and filters.get("searchSubCategories"):
        wanted |= {d for cid in list(wanted) for d in c.catalog.descendants(cid, c.buyer)}
    return wanted, behavior


def _has_attribute(name: str, values: set[str], info: GraphQLResolveInfo) -> Predicate:
    return lambda p: bool(_attributes(p, info).get(name, set()) & values)


def _predicates(filters: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Predicate]:
    """One test per filter given, by facet name (a facet's counts leave its own test out)."""
    c = ctx(info)
    tests: dict[str, Predicate] = {}
    words = (filters.get("searchTerm") or "").strip().lower().split()
    if words:
        tests["term"] = lambda p: _matches_term(p, words, info) > 0
    categories, behavior = _category_ids(filters, info)
    if categories:
        if behavior == "AND":
            tests["category"] = lambda p: categories <= set(p.category_ids)
        else:
            tests["category"] = lambda p: bool(categories & set(p.category_ids))
    if filters.get("brandEntityIds"):
        brands = set(filters["brandEntityIds"])
        tests["brand"] = lambda p: p.brand_id in brands
    price = filters.get("price")
    if price is not None:
        low, high = price.get("minPrice"), price.get("maxPrice")
        if low is None and high is None:
            raise GraphQLError("Search by price range needs at least a minPrice or a maxPrice.")
        tests["price"] = lambda p: ((low is None or float(c.catalog.sort_price(p, c.buyer)) >= low)
                                    and (high is None or float(c.catalog.sort_price(p, c.buyer)) <= high))
    rating = filters.get("rating")
    if rating is not None:
        least, most = rating.get("minRating"), rating.get("maxRating")
        if least is None and most is None:
            raise GraphQLError("Filter by rating needs at least a minRating or a maxRating.")
        tests["rating"] = lambda p: ((least is None or c.catalog.average_rating(p) >= least)
                                     and (most is None or c.catalog.average_rating(p) <= most))
    for attribute in filters.get("productAttributes") or []:
        name, values = attribute["attribute"], set(attribute["values"])
        if values:
            tests[f"attribute:{name}"] = _has_attribute(name, values, info)
    if filters.get("isFreeShipping") is not None:
        tests["freeShipping"] = lambda p: p.free_shipping == filters["isFreeShipping"]
    if filters.get("isFeatured") is not None:
        tests["isFeatured"] = lambda p: p.is_featured == filters["isFeatured"]
    if filters.get("hideOutOfStock"):
        tests["isInStock"] = c.catalog.in_stock
    return tests


def search_products(_: Any, info: GraphQLResolveInfo, filters: dict[str, Any], sort: str | None = None) -> dict[str, Any]:
    c = ctx(info)
    tests = _predicates(filters, info)
    visible = c.catalog.products(c.buyer)

    def matching(leave_out: str | None = None) -> list[Product]:
        return [p for p in visible if all(test(p) for name, test in tests.items() if name != leave_out)]

    products = matching()
    words = (filters.get("searchTerm") or "").strip().lower().split()
    if sort is None or sort == "RELEVANCE":
        if words:
            products = sorted(products, key=lambda p: (-_matches_term(p, words, info), p.id))
        elif sort is None:  # no term: Featured is the default sort
            products = sort_products(products, "FEATURED", info)
    else:
        products = sort_products(products, sort, info)
    return {"_products": [ProductRef(p) for p in products], "_facets": lambda: _facets(filters, matching, info)}


def _facets(filters: dict[str, Any], matching: Callable[[str | None], list[Product]],
            info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    facets = [_category_facet(filters, matching("category"), info), _brand_facet(filters, matching("brand"), info),
              _price_facet(filters), _rating_facet(filters, matching("rating"), info)]
    selected = {a["attribute"]: set(a["values"]) for a in filters.get("productAttributes") or []}
    names = sorted({n for p in matching(None) for n in _attributes(p, info)} | set(selected))
    for name in names:
        facets.append(_attribute_facet(name, selected.get(name, set()), matching(f"attribute:{name}"), info))
    facets.append(_other_facet(filters, matching, info))
    return [f for f in facets if f is not None]


def _base(typename: str, name: str) -> dict[str, Any]:
    return {"__typename": typename, "name": name, "displayName": name, "isCollapsedByDefault": False,
            "displayProductCount": True}


def _category_facet(filters: dict[str, Any], products: list[Product], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    c = ctx(info)
    counts = Counter(cid for p in products for cid in set(p.category_ids))
    selected = set(filters.get("categoryEntityIds") or []) | set((filters.get("categoryIdsFilter") or {}).get("entityIds", []))

    def item(category_id: int, name: str) -> dict[str, Any]:
        children = [x for x in c.catalog.children(category_id, c.buyer) if counts[x.id]]
        return {"entityId": category_id, "name": name, "isSelected": category_id in selected,
                "productCount": counts[category_id], "_children": [item(x.id, x.name) for x in children]}

    top = [item(x.id, x.name) for x in c.catalog.children(0, c.buyer) if counts[x.id]]
    return {**_base("CategorySearchFilter", "Category"), "_items": top} if top else None


def _brand_facet(filters: dict[str, Any], products: list[Product], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    counts = Counter(p.brand_id for p in products)
    selected = set(filters.get("brandEntityIds") or [])
    items = [{"entityId": b.id, "name": b.name, "isSelected": b.id in selected, "productCount": counts[b.id]}
             for b in ctx(info).catalog.dataset.brands if counts[b.id] or b.id in selected]
    return {**_base("BrandSearchFilter", "Brand"), "_items": items} if items else None


def _price_facet(filters: dict[str, Any]) -> dict[str, Any]:
    price = filters.get("price")
    selected = {"minPrice": price.get("minPrice"), "maxPrice": price.get("maxPrice")} if price else None
    return {**_base("PriceSearchFilter", "Price"), "selected": selected}


def _rating_facet(filters: dict[str, Any], products: list[Product], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    """"N stars & up": products whose average rating is at least N."""
    catalog = ctx(info).catalog
    ratings = [catalog.average_rating(p) for p in products]
    chosen = (filters.get("rating") or {}).get("minRating")
    items = [{"value": str(stars), "isSelected": chosen is not None and float(chosen) == stars,
              "productCount": sum(1 for r in ratings if r >= stars)} for stars in (5, 4, 3, 2, 1)]
    items = [i for i in items if i["productCount"] or i["isSelected"]]
    return {**_base("RatingSearchFilter", "Rating"), "_items": items} if items else None


def _attribute_facet(name: str, selected: set[str], products: list[Product],
                     info: GraphQLResolveInfo) -> dict[str, Any] | None:
    counts = Counter(value for p in products for value in _attributes(p, info).get(name, ()))
    items = [{"value": value, "isSelected": value in selected, "productCount": counts[value]}
             for value in sorted(set(counts) | selected)]
    if not items:
        return None
    return {**_base("ProductAttributeSearchFilter", name), "filterName": name, "filterKey": name, "_items": items}


def _other_facet(filters: dict[str, Any], matching: Callable[[str | None], list[Product]],
                 info: GraphQLResolveInfo) -> dict[str, Any] | None:
    catalog = ctx(info).catalog

    def item(label: str, key: str, test: Predicate, selected: bool) -> dict[str, Any] | None:
        count = sum(1 for p in matching(key) if test(p))
        return {"displayName": label, "isSelected": selected, "productCount": count} if count or selected else None

    found = {
        "freeShipping": item("Free Shipping", "freeShipping", lambda p: p.free_shipping,
                             filters.get("isFreeShipping") is True),
        "isFeatured": item("Featured", "isFeatured", lambda p: p.is_featured, filters.get("isFeatured") is True),
        "isInStock": item("In Stock", "isInStock", catalog.in_stock, bool(filters.get("hideOutOfStock"))),
    }
    if not any(found.values()):
        return None
    return {**_base("OtherSearchFilter", "Other"), **found}


SEARCH: dict[tuple[str, str], Any] = {
    ("Site", "search"): lambda _, i: {},
    ("SearchQueries", "searchProducts"): search_products,
    ("SearchProducts", "products"): lambda s, i, **a: connection(s["_products"], a),
    ("SearchProducts", "filters"): lambda s, i, **a: connection(s["_facets"](), a),
    ("BrandSearchFilter", "brands"): lambda s, i, **a: connection(s["_items"], a),
    ("CategorySearchFilter", "categories"): lambda s, i, **a: connection(s["_items"], a),
    ("CategorySearchFilterItem", "subCategories"): lambda s, i, **a: connection(s["_children"], a),
    ("SubCategorySearchFilterItem", "subCategories"): lambda s, i, **a: connection(s["_children"], a),
    ("ProductAttributeSearchFilter", "attributes"): lambda s, i, **a: connection(s["_items"], a),
    ("RatingSearchFilter", "ratings"): lambda s, i, **a: connection(s["_items"], a),
}
