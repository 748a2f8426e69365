"""The catalog as storefront pages walk it: the category tree and breadcrumbs, brands, featured / newest /
best-selling lists, product options of every kind with BigCommerce's option selection (defaults,
``optionValueIds``, a variant by SKU), and reviews."""
from __future__ import annotations

from typing import Any

import httpx

from pricing_edge.sim.catalog_content import OptionKind
from pricing_edge.sim.dataset import Dataset
from tests.sim.storefront import documents as docs
from tests.sim.storefront import page_documents as pages
from tests.sim.storefront.helpers import (
    CONTRACTOR_EXCLUSIVES,
    TRADE_COUNTER,
    WHOLESALE,
    bc_variant_view,
    data_of,
    gql,
    impersonating,
    nodes,
    price_list_of,
)

SHOWCASE = 104


async def test_the_category_tree_its_branches_and_breadcrumbs(client: httpx.AsyncClient, dataset: Dataset) -> None:
    data = await data_of(client, pages.CATEGORIES_AND_BRANDS, {"category": 34})
    tree = data["site"]["tree"]
    assert [c["entityId"] for c in tree] == list(range(1, 19))  # guests see neither 19 nor 20
    fasteners = tree[0]
    assert fasteners["hasChildren"] and [c["name"] for c in fasteners["children"]] == ["Bolts", "Screws", "Anchors"]
    assert [c["name"] for c in fasteners["children"][0]["children"]] == ["Hex Bolts", "Carriage Bolts"]
    assert fasteners["productCount"] == sum(1 for p in dataset.products if 1 in p.category_ids)
    assert "{:size}" in fasteners["image"]["urlTemplate"]
    hex_bolts = data["site"]["category"]
    assert hex_bolts["seo"] == {"pageTitle": ""}  # no SEO title set: storefronts fall back to the name
    assert [(b["entityId"], b["path"]) for b in nodes(hex_bolts["breadcrumbs"])] == [
        (1, "/fasteners/"), (21, "/fasteners/bolts/"), (34, "/fasteners/bolts/hex-bolts/")]
    branch = (await data_of(client, pages.CATEGORIES_AND_BRANDS, {"root": 3, "category": 3}))["site"]["tree"]
    assert [(c["entityId"], [x["name"] for x in c["children"]]) for c in branch] == [(3, ["Drills", "Saws"])]
    hidden = await data_of(client, pages.CATEGORIES_AND_BRANDS, {"root": CONTRACTOR_EXCLUSIVES, "category": 1})
    assert hidden["site"]["tree"] == []
    seen = await data_of(client, pages.CATEGORIES_AND_BRANDS, {"category": 1}, impersonating(WHOLESALE))
    assert {CONTRACTOR_EXCLUSIVES, TRADE_COUNTER} <= {c["entityId"] for c in seen["site"]["tree"]}


async def test_brands_are_listed_and_filtered_by_the_products_they_make(client: httpx.AsyncClient,
                                                                        dataset: Dataset) -> None:
    every = nodes((await data_of(client, pages.CATEGORIES_AND_BRANDS, {"category": 1}))["site"]["brands"])
    assert [b["entityId"] for b in every] == [b.id for b in dataset.brands]
    assert every[0]["seo"]["pageTitle"] == "Ironclad tools and supplies" and every[1]["seo"]["pageTitle"] == ""
    assert every[0]["searchKeywords"] == ["ironclad", "ironclad"] and every[0]["defaultImage"]["urlTemplate"]
    owners = nodes((await data_of(client, pages.CATEGORIES_AND_BRANDS, {"category": 1, "productIds": [101, 102]}))
                   ["site"]["brands"])
    assert [b["entityId"] for b in owners] == sorted({dataset.product_by_id[101].brand_id,
                                                      dataset.product_by_id[102].brand_id})


async def test_featured_newest_and_best_selling_products(client: httpx.AsyncClient, dataset: Dataset) -> None:
    site = (await data_of(client, pages.COLLECTIONS))["site"]
    visible = [p for p in dataset.products if dataset.visible_to(p, 0)]
    featured = [p.id for p in visible if p.is_featured]
    assert [n["entityId"] for n in nodes(site["featuredProducts"])] == featured
    assert site["featuredProducts"]["collectionInfo"] == {"totalItems": len(featured)}
    assert [n["entityId"] for n in nodes(site["newestProducts"])] == \
        [p.id for p in sorted(visible, key=lambda p: (-p.created_rank, p.id))][:5]
    assert [n["entityId"] for n in nodes(site["bestSellingProducts"])] == \
        [p.id for p in sorted(visible, key=lambda p: (-p.total_sold, p.id))][:5]


async def options_of(client: httpx.AsyncClient, variables: dict[str, Any]) -> dict[str, Any]:
    product: dict[str, Any] = (await data_of(client, pages.OPTIONS, variables))["site"]["product"]
    return product


async def test_every_option_and_modifier_kind_answers_in_its_own_type(client: httpx.AsyncClient,
                                                                      dataset: Dataset) -> None:
    options = nodes((await options_of(client, {"entityId": SHOWCASE}))["productOptions"])
    assert [o["__typename"] for o in options] == ["MultipleChoiceOption"] * 3 + [
        kind.value for kind in OptionKind if kind is not OptionKind.MULTIPLE_CHOICE]
    color, size, accessory, gift_wrap, length, engraving, instructions, delivery, logo = options
    assert (color["displayStyle"], color["isVariantOption"], color["isRequired"]) == ("Swatch", True, True)
    swatches = nodes(color["values"])
    assert swatches[0] == {"__typename": "SwatchOptionValue", "entityId": 10400, "label": "Black", "isDefault": True,
                           "isSelected": False, "hexColors": ["#1B1B1B"]}
    assert [v["__typename"] for v in nodes(size["values"])] == ["MultipleChoiceOptionValue"] * 4
    assert accessory["displayStyle"] == "ProductPickList" and not accessory["isVariantOption"]
    picks = nodes(accessory["values"])
    assert [v["productId"] for v in picks] == [105, 106]
    assert picks[0]["defaultImage"]["altText"].startswith(dataset.product_by_id[105].name)
    assert gift_wrap == {"__typename": "CheckboxOption", "entityId": 1043, "displayName": "Gift wrap",
                         "isRequired": False, "isVariantOption": False, "checkedByDefault": False,
                         "label": "Wrap it for me", "checkedOptionValueEntityId": 10430,
                         "uncheckedOptionValueEntityId": 10431}
    assert (length["defaultValue"], length["lowest"], length["highest"], length["isIntegerOnly"],
            length["limitNumberBy"], length["isRequired"]) == (1, 1, 100, True, "RANGE", False)
    assert (engraving["maxLength"], instructions["maxLines"]) == (30, 5)
    assert (delivery["earliest"], delivery["limitDateBy"]) == ("2026-01-01T00:00:00Z", "RANGE")
    assert (logo["maxFileSize"], logo["fileTypes"]) == (2048, ["png", "jpg", "svg"])


async def test_option_selection_overlays_the_selected_variant(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    price_list = price_list_of(dataset, None)
    base = await options_of(client, {"entityId": SHOWCASE})
    assert base["sku"] == product.sku  # no selection: the base product
    assert not any(v["isSelected"] for o in nodes(base["productOptions"]) if "values" in o for v in nodes(o["values"]))
    defaults = await options_of(client, {"entityId": SHOWCASE, "useDefaults": True})
    assert defaults["sku"] == product.default_variant.sku
    chosen = {"entityId": SHOWCASE, "useDefaults": True,
              "optionValueIds": [{"optionEntityId": 1041, "valueEntityId": 10413}]}  # Size XL over the default S
    picked = await options_of(client, chosen)
    variant = next(v for v in product.variants if dict(v.option_values) == {"Color": "Black", "Size": "XL"})
    assert picked["sku"] == variant.sku
    assert picked["prices"]["price"]["value"] == bc_variant_view(dataset, product, variant, price_list).price
    low = min(bc_variant_view(dataset, product, v, price_list).price for v in product.variants)
    assert picked["prices"]["priceRange"]["min"]["value"] == low  # the range stays the product's
    selected = {v["entityId"] for o in nodes(picked["productOptions"]) if "values" in o
                for v in nodes(o["values"]) if v["isSelected"]}
    assert selected == {10400, 10413}  # the default Black, and XL
    half = await options_of(client, {"entityId": SHOWCASE,
                                     "optionValueIds": [{"optionEntityId": 1041, "valueEntityId": 10413}]})
    assert half["sku"] == product.sku  # one of two variant options chosen: no variant yet
    wrong = await gql(client, pages.OPTIONS, {"entityId": SHOWCASE,
                                              "optionValueIds": [{"optionEntityId": 1041, "valueEntityId": 10400}]})
    assert wrong["errors"][0]["message"] == "Option value 10400 of option 1041 is not an option value of product 104."


async def test_reviews_summarise_page_sort_and_filter(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product_id, reviews = max(dataset.catalog_content.reviews.items(), key=lambda item: len(item[1]))
    assert len(reviews) >= 6
    data = (await data_of(client, pages.REVIEWS, {"entityId": product_id, "first": 3}))["site"]["product"]
    total = sum(r.rating for r in reviews)
    assert data["reviewSummary"] == {"numberOfReviews": len(reviews), "summationOfRatings": total,
                                     "averageRating": round(total / len(reviews), 2)}
    first = nodes(data["reviews"])
    assert [r["entityId"] for r in first] == [r.id for r in reviews[:3]]  # newest first
    assert first[0]["createdAt"]["utc"].endswith("Z") and first[0]["author"]["name"]
    rest = (await data_of(client, pages.REVIEWS, {"entityId": product_id, "first": 50,
                                                  "after": data["reviews"]["pageInfo"]["endCursor"]}))
    assert [r["entityId"] for r in nodes(rest["site"]["product"]["reviews"])] == [r.id for r in reviews[3:]]
    best = (await data_of(client, pages.REVIEWS, {"entityId": product_id, "sort": "LOWEST_RATING",
                                                  "filters": {"rating": {"minRating": 4}}}))["site"]["product"]
    ratings = [r["rating"] for r in nodes(best["reviews"])]
    assert ratings == sorted(r.rating for r in reviews if r.rating >= 4)
    none = next(p for p in dataset.products if p.id not in dataset.catalog_content.reviews)
    empty = (await data_of(client, pages.REVIEWS, {"entityId": none.id}))["site"]["product"]
    assert empty["reviewSummary"] == {"numberOfReviews": 0, "averageRating": 0.0, "summationOfRatings": 0}


async def test_a_product_with_variants_is_found_by_its_own_sku_too(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    data = await data_of(client, docs.PRODUCT_LOOKUPS, {"sku": product.sku, "variantEntityId": product.variants[0].id})
    assert data["bySku"] == {"product": {"entityId": SHOWCASE, "sku": product.sku}}  # the base product: no overlay
