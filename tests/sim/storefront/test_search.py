"""``searchProducts`` as a listing page uses it: each filter of ``SearchProductsFiltersInput``, the sorts, and
the six facet kinds — categories with their sub-categories, brands, price, rating, product attributes and
"other" (free shipping, featured, in stock) — counted disjunctively, as faceted search counts."""
from __future__ import annotations

from typing import Any

import httpx

from pricing_edge.sim.dataset import Dataset, Product
from tests.sim.storefront import page_documents as pages
from tests.sim.storefront.helpers import bc_available, data_of, gql, nodes

FACET_KINDS = ["CategorySearchFilter", "BrandSearchFilter", "PriceSearchFilter", "RatingSearchFilter",
               "ProductAttributeSearchFilter", "OtherSearchFilter"]


async def search(client: httpx.AsyncClient, filters: dict[str, Any], sort: str | None = None) -> dict[str, Any]:
    data = await data_of(client, pages.FACETED_SEARCH, {"filters": filters, "sort": sort})
    found: dict[str, Any] = data["site"]["search"]["searchProducts"]
    return found


def ids(result: dict[str, Any]) -> list[int]:
    return [n["entityId"] for n in nodes(result["products"])]


def facets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in nodes(result["filters"])}


def visible(dataset: Dataset) -> list[Product]:
    return [p for p in dataset.products if dataset.visible_to(p, 0)]


def bc_in_stock(dataset: Dataset, product: Product) -> bool:
    return any(bc_available(dataset, v.sku) > 0 or any(lv.backorder for lv in dataset.stock_for(v.sku, bigcommerce=True))
               for v in product.variants)


def rating(dataset: Dataset, product: Product) -> float:
    reviews = dataset.catalog_content.reviews.get(product.id, ())
    return round(sum(r.rating for r in reviews) / len(reviews), 2) if reviews else 0.0


async def test_a_category_listing_has_all_six_facet_kinds_with_nested_sub_categories(client: httpx.AsyncClient,
                                                                                     dataset: Dataset) -> None:
    result = await search(client, {"categoryEntityId": 1})
    in_category = [p for p in visible(dataset) if 1 in p.category_ids]
    assert result["products"]["collectionInfo"] == {"totalItems": len(in_category)}
    kinds = [f["__typename"] for f in nodes(result["filters"])]
    assert [k for k in dict.fromkeys(kinds)] == FACET_KINDS
    categories = nodes(facets(result)["Category"]["categories"])
    fasteners = next(c for c in categories if c["entityId"] == 1)
    assert fasteners["productCount"] == len(in_category)
    bolts = next(s for s in nodes(fasteners["subCategories"]) if s["entityId"] == 21)
    assert bolts["productCount"] == sum(1 for p in in_category if 21 in p.category_ids)
    assert {s["entityId"] for s in nodes(bolts["subCategories"])} <= {34, 35}
    attributes = {f["filterName"]: f for f in nodes(result["filters"]) if f["__typename"] == "ProductAttributeSearchFilter"}
    assert "Material" in attributes
    steel = next(a for a in nodes(attributes["Material"]["attributes"]) if a["value"] == "Steel")
    assert steel["productCount"] == sum(1 for p in in_category if ("Material", "Steel") in p.custom_fields)
    other = facets(result)["Other"]
    assert other["freeShipping"]["productCount"] == sum(1 for p in in_category if p.free_shipping)
    stars = {r["value"]: r["productCount"] for r in nodes(facets(result)["Rating"]["ratings"])}
    assert stars.get("4", 0) == sum(1 for p in in_category if rating(dataset, p) >= 4)
    assert facets(result)["Price"]["selected"] is None


async def test_sub_categories_are_searched_only_when_asked(client: httpx.AsyncClient, dataset: Dataset) -> None:
    drills = [p.id for p in visible(dataset) if 26 in p.category_ids]
    cordless = [p.id for p in visible(dataset) if 36 in p.category_ids]
    assert sorted(ids(await search(client, {"categoryEntityId": 26}))) == sorted(drills)
    deep = ids(await search(client, {"categoryEntityId": 26, "searchSubCategories": True}))
    assert sorted(deep) == sorted(set(drills) | set(cordless))


async def test_every_filter_narrows_and_facets_count_the_other_filters(client: httpx.AsyncClient,
                                                                      dataset: Dataset) -> None:
    products = visible(dataset)
    both = await search(client, {"categoryIdsFilter": {"entityIds": [1, 21], "matchBehavior": "AND"}})
    assert sorted(ids(both)) == sorted(p.id for p in products if {1, 21} <= set(p.category_ids))
    featured = await search(client, {"isFeatured": True, "isFreeShipping": False})
    assert sorted(ids(featured)) == sorted(p.id for p in products if p.is_featured and not p.free_shipping)
    in_stock = await search(client, {"categoryEntityId": 2, "hideOutOfStock": True})
    expected_in_stock = [p.id for p in products if 2 in p.category_ids and bc_in_stock(dataset, p)]
    assert in_stock["products"]["collectionInfo"] == {"totalItems": len(expected_in_stock)}
    assert set(ids(in_stock)) <= set(expected_in_stock)
    # (that a sold-out product is left out: test_documents' hideOutOfStock test, on a dataset with one)
    rated = await search(client, {"rating": {"minRating": 4.5}})
    well_rated = {p.id for p in products if rating(dataset, p) >= 4.5}
    assert rated["products"]["collectionInfo"] == {"totalItems": len(well_rated)} and set(ids(rated)) <= well_rated
    black = await search(client, {"productAttributes": [{"attribute": "Color", "values": ["Black"]}]})
    expected = [p.id for p in products if ("Color", "Black") in (ov for v in p.variants for ov in v.option_values)]
    assert black["products"]["collectionInfo"] == {"totalItems": len(expected)}
    colors = {a["value"]: (a["productCount"], a["isSelected"])
              for f in nodes(black["filters"]) if f.get("filterName") == "Color" for a in nodes(f["attributes"])}
    assert colors["Black"] == (len(expected), True)
    assert colors["Orange"][0] > 0 and colors["Orange"][1] is False  # the other colours stay offered
    by_sku = await search(client, {"searchTerm": dataset.product_by_id[104].variants[5].sku})
    assert ids(by_sku) == [104]


async def test_sorts_and_the_default_order(client: httpx.AsyncClient, dataset: Dataset) -> None:
    in_category = [p for p in visible(dataset) if 3 in p.category_ids]
    best = ids(await search(client, {"categoryEntityId": 3}, "BEST_REVIEWED"))
    assert best == [p.id for p in sorted(in_category, key=lambda p: (
        -rating(dataset, p), -len(dataset.catalog_content.reviews.get(p.id, ())), p.id))][:50]
    newest = ids(await search(client, {"categoryEntityId": 3}, "NEWEST"))
    assert newest == [p.id for p in sorted(in_category, key=lambda p: (-p.created_rank, p.id))][:50]
    default = ids(await search(client, {"categoryEntityId": 3}))
    assert default == [p.id for p in sorted(in_category, key=lambda p: (not p.is_featured, p.id))][:50]
    relevant = ids(await search(client, {"searchTerm": "wrench"}))
    assert all("wrench" in dataset.product_by_id[i].name.lower() for i in relevant)


async def test_a_price_or_rating_filter_without_bounds_is_refused(client: httpx.AsyncClient) -> None:
    for filters, message in (({"price": {}}, "Search by price range needs at least a minPrice or a maxPrice."),
                             ({"rating": {}}, "Filter by rating needs at least a minRating or a maxRating.")):
        body = await gql(client, pages.FACETED_SEARCH, {"filters": filters})
        assert body["errors"][0]["message"] == message
