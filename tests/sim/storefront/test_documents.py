"""The simulator answers realistic storefront documents with the shapes BigCommerce gives: keys in
selection order under their aliases, duplicate selections merged, the right ``__typename``s,
``null`` (or omission from lists) for what the buyer's customer group may not see, and prices and
stock from BigCommerce's own lagging copy — not the ERP's truth."""
from __future__ import annotations

import base64
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

from pricing_edge.domain.pricing import PriceView, TierKind
from pricing_edge.sim.dataset import Dataset, Product, build_dataset
from tests.sim.storefront import documents as docs
from tests.sim.storefront.helpers import (
    CONTRACTOR_EXCLUSIVES,
    EDUCATION,
    TRADE_COUNTER,
    WHOLESALE,
    assert_exactly,
    bc_available,
    bc_product_view,
    bc_variant_view,
    data_of,
    erp_available,
    guest,
    impersonating,
    make_app,
    nodes,
    post,
    price_list_of,
)

GUEST_LIST = 1
AMOUNT_FIELD = {TierKind.FIXED_PRICE: "price", TierKind.PERCENT_OFF: "percentOff",
                TierKind.PRICE_ADJUSTMENT: "priceAdjustment"}
PRICES_KEYS = ["price", "basePrice", "salePrice", "retailPrice", "mapPrice", "saved", "priceRange",
               "retailPriceRange", "bulkPricing"]


def global_id(kind: str, entity_id: int) -> str:
    return base64.b64encode(f"{kind}:{entity_id}".encode()).decode()


def only_in(dataset: Dataset, category_id: int) -> Product:
    return next(p for p in dataset.products if p.category_ids == (category_id,))


def value(money: dict[str, Any] | None) -> Decimal | None:
    return None if money is None else money["value"]


def assert_prices(prices: dict[str, Any], view: PriceView) -> None:
    """A ``Prices`` answer (selected with PricesFields) states exactly this view, in its currency."""
    assert list(prices) == PRICES_KEYS
    assert value(prices["price"]) == view.price
    assert value(prices["basePrice"]) == view.base_price
    assert value(prices["salePrice"]) == view.sale_price
    assert value(prices["retailPrice"]) == view.retail_price
    assert value(prices["mapPrice"]) == view.map_price
    assert value(prices["saved"]) == view.saved
    assert (value(prices["priceRange"]["min"]), value(prices["priceRange"]["max"])) == view.range
    retail_range = prices["retailPriceRange"]
    assert (None if retail_range is None else (value(retail_range["min"]), value(retail_range["max"]))) \
        == view.retail_price_range
    moneys = [prices[k] for k in ("price", "basePrice", "salePrice", "retailPrice", "mapPrice", "saved")]
    moneys += [r[end] for r in (prices["priceRange"], retail_range) if r for end in ("min", "max")]
    for money in filter(None, moneys):
        assert list(money) == ["currencyCode", "value", "formattedV2"]
        assert money["currencyCode"] == view.currency
    assert_tiers(prices["bulkPricing"], view)


def assert_tiers(tiers: list[dict[str, Any]], view: PriceView) -> None:
    """Each tier carries its concrete type's amount field, and only that one (inline fragments)."""
    assert [list(t) for t in tiers] == [["__typename", "minimumQuantity", "maximumQuantity", AMOUNT_FIELD[t.kind]]
                                        for t in view.bulk_tiers]
    assert [(t["__typename"], t["minimumQuantity"], t["maximumQuantity"], t[AMOUNT_FIELD[TierKind(t["__typename"])]])
            for t in tiers] == [(t.kind.value, t.min_quantity, t.max_quantity, t.amount) for t in view.bulk_tiers]


# -- product page ------------------------------------------------------------------------------
async def test_a_product_page_with_variants_options_and_bulk_tiers_has_bigcommerces_shape(
        client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = next(p for p in dataset.products if len(p.option_names) == 2 and p.catalog_tiers)
    data = await data_of(client, docs.PRODUCT_PAGE, {"entityId": product.id})
    page = data["site"]["product"]

    assert list(page) == ["__typename", "id", "entityId", "name", "sku", "path", "plainTextDescription", "warranty",
                          "addToCartUrl", "showCartAction", "type", "upc", "mpn", "minPurchaseQuantity",
                          "maxPurchaseQuantity", "availabilityV2", "brand", "defaultImage", "images", "customFields",
                          "categories", "prices", "inventory", "variants", "relatedProducts"]
    assert page["__typename"] == "Product"
    assert page["id"] == global_id("Product", product.id)
    assert (page["entityId"], page["name"], page["sku"], page["path"]) == (product.id, product.name, product.sku,
                                                                           product.path)
    assert len(page["plainTextDescription"]) <= 60 and "<" not in page["plainTextDescription"]
    assert_exactly(page["availabilityV2"], {"__typename": "ProductAvailable", "status": "Available", "description": ""})
    assert page["brand"]["entityId"] == product.brand_id
    assert "/640w/" in page["defaultImage"]["url"] and page["defaultImage"]["isDefault"] is True
    assert all("/320x320/" in image["url"] for image in nodes(page["images"]))
    assert [(f["name"], f["value"]) for f in nodes(page["customFields"])] == list(product.custom_fields)
    assert [c["entityId"] for c in nodes(page["categories"])] == list(product.category_ids)

    assert_prices(page["prices"], bc_product_view(dataset, product, GUEST_LIST))
    assert_exactly(page["inventory"], {"isInStock": True, "hasVariantInventory": True, "aggregated": {
        "availableToSell": sum(bc_available(dataset, v.sku) for v in product.variants), "warningLevel": 5}})

    variants = nodes(page["variants"])
    assert page["variants"]["pageInfo"]["hasNextPage"] is False
    assert [v["sku"] for v in variants] == [v.sku for v in product.variants]
    option_value_ids: dict[tuple[str, str], int] = {}
    for answered, variant in zip(variants, product.variants, strict=True):
        assert answered["__typename"] == "Variant"
        assert answered["id"] == global_id("Variant", variant.id)
        options = nodes(answered["options"])
        assert [(o["displayName"], nodes(o["values"])[0]["label"]) for o in options] == list(variant.option_values)
        for option in options:  # one value id per (option, label), the same on every variant
            label = nodes(option["values"])[0]["label"]
            key = (option["displayName"], label)
            assert option_value_ids.setdefault(key, nodes(option["values"])[0]["entityId"]) == \
                nodes(option["values"])[0]["entityId"]
        assert_prices(answered["prices"], bc_variant_view(dataset, product, variant, GUEST_LIST))
        assert answered["inventory"]["aggregated"]["availableToSell"] == bc_available(dataset, variant.sku)
    assert len(set(option_value_ids.values())) == len(option_value_ids)


async def test_bulk_tiers_come_as_the_three_concrete_types(client: httpx.AsyncClient, dataset: Dataset) -> None:
    """Fixed prices from a price list's volume breaks; percentage and relative ones from the catalog."""
    wholesale_list = price_list_of(dataset, WHOLESALE)

    def simple_with(kind: TierKind, price_list: int) -> Product:
        return next(p for p in dataset.products if not p.has_variants
                    and {t.kind for t in bc_product_view(dataset, p, price_list).bulk_tiers} == {kind})

    cases = [(simple_with(TierKind.FIXED_PRICE, wholesale_list), impersonating(WHOLESALE), wholesale_list),
             (simple_with(TierKind.PERCENT_OFF, GUEST_LIST), guest(), GUEST_LIST),
             (simple_with(TierKind.PRICE_ADJUSTMENT, GUEST_LIST), guest(), GUEST_LIST)]
    for product, headers, price_list in cases:
        data = await data_of(client, docs.PRODUCT_PAGE, {"entityId": product.id}, headers)
        prices = data["site"]["product"]["prices"]
        view = bc_product_view(dataset, product, price_list)
        assert view.bulk_tiers, product.id
        assert_prices(prices, view)


# -- category page -----------------------------------------------------------------------------
async def test_a_category_page_of_24_cards_built_from_named_fragments(client: httpx.AsyncClient,
                                                                      dataset: Dataset) -> None:
    category_id = 1
    listed = [p for p in dataset.products if category_id in p.category_ids and dataset.visible_to(p, 0)]
    assert len(listed) > 48
    data = await data_of(client, docs.CATEGORY_PAGE, {"categoryId": category_id})
    category = data["site"]["category"]
    assert list(category) == ["entityId", "name", "path", "products"]
    products = category["products"]
    assert list(products) == ["pageInfo", "collectionInfo", "edges"]
    assert products["collectionInfo"] == {"totalItems": len(listed)}
    assert list(products["pageInfo"]) == ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]
    assert products["pageInfo"]["hasNextPage"] is True and products["pageInfo"]["hasPreviousPage"] is False
    cards = nodes(products)
    assert [c["entityId"] for c in cards] == [p.id for p in listed[:24]]
    assert products["pageInfo"]["endCursor"] == products["edges"][-1]["cursor"]
    for card, product in zip(cards, listed, strict=False):
        assert list(card) == ["entityId", "name", "path", "sku", "brand", "defaultImage", "prices", "inventory"]
        assert list(card["brand"]) == ["name", "path"] and list(card["defaultImage"]) == ["url", "altText"]
        view = bc_product_view(dataset, product, GUEST_LIST)
        prices = card["prices"]
        assert list(prices) == ["price", "basePrice", "salePrice", "retailPrice", "priceRange", "retailPriceRange",
                                "bulkPricing"]
        assert value(prices["price"]) == view.price and value(prices["salePrice"]) == view.sale_price
        assert (value(prices["priceRange"]["min"]), value(prices["priceRange"]["max"])) == view.range
        assert_tiers(prices["bulkPricing"], view)
        assert card["inventory"]["aggregated"]["availableToSell"] == sum(bc_available(dataset, v.sku)
                                                                          for v in product.variants)

    following = await data_of(client, docs.CATEGORY_PAGE, {"categoryId": category_id,
                                                           "after": products["pageInfo"]["endCursor"]})
    second = following["site"]["category"]["products"]
    assert [c["entityId"] for c in nodes(second)] == [p.id for p in listed[24:48]]
    assert second["pageInfo"]["hasPreviousPage"] is True


async def test_a_category_page_sorted_by_lowest_price_sorts_by_the_buyers_price(client: httpx.AsyncClient,
                                                                                dataset: Dataset) -> None:
    data = await data_of(client, docs.CATEGORY_PAGE, {"categoryId": 2, "sortBy": "LOWEST_PRICE"},
                         impersonating(WHOLESALE))
    prices = [card["prices"]["price"]["value"] for card in nodes(data["site"]["category"]["products"])]
    assert len(prices) == 24 and prices == sorted(prices)


# -- what a group may not see ------------------------------------------------------------------
async def test_a_product_the_buyers_group_cannot_see_is_null_and_left_out_of_every_list(
        client: httpx.AsyncClient, dataset: Dataset) -> None:
    hidden = only_in(dataset, CONTRACTOR_EXCLUSIVES)  # Education may not see Contractor Exclusives
    shown = next(p for p in dataset.products if p.category_ids == (1,))
    term = hidden.name.rsplit(" ", 2)[-2] + " " + hidden.name.rsplit(" ", 1)[-1]  # e.g. "Glove 107"
    education, wholesale = impersonating(EDUCATION), impersonating(WHOLESALE)

    for headers, visible in ((education, False), (wholesale, True)):
        page = await data_of(client, docs.PRODUCT_PAGE, {"entityId": hidden.id}, headers)
        assert (page["site"]["product"] is not None) is visible
        found = await data_of(client, docs.NODES, {"productId": global_id("Product", hidden.id),
                                                   "variantId": global_id("Variant", hidden.default_variant.id)},
                              headers)
        assert (found["product"] is not None, found["variant"] is not None) == (visible, visible)
        compared = await data_of(client, docs.COMPARE_BY_IDS, {"entityIds": [hidden.id, shown.id]}, headers)
        assert sorted(n["entityId"] for n in nodes(compared["site"]["products"])) == \
            sorted([shown.id] + ([hidden.id] if visible else []))
        searched = await data_of(client, docs.SEARCH_WITH_FACETS, {"filters": {"searchTerm": term}}, headers)
        results = searched["site"]["search"]["searchProducts"]
        assert (hidden.id in [n["entityId"] for n in nodes(results["products"])]) is visible
        facet = next(f for f in nodes(results["filters"]) if f["__typename"] == "CategorySearchFilter")
        assert (CONTRACTOR_EXCLUSIVES in [c["entityId"] for c in nodes(facet["categories"])]) is visible
        category = await data_of(client, docs.CATEGORY_PAGE, {"categoryId": CONTRACTOR_EXCLUSIVES}, headers)
        assert (category["site"]["category"] is not None) is visible


async def test_a_guest_cannot_see_trade_counter_products_an_education_buyer_can(client: httpx.AsyncClient,
                                                                                dataset: Dataset) -> None:
    trade_only = only_in(dataset, TRADE_COUNTER)
    as_guest = await data_of(client, docs.PRICE_FOR_BUYER, {"entityId": trade_only.id}, guest())
    assert_exactly(as_guest, {"customer": None, "site": {"product": None}})
    category = await data_of(client, docs.CATEGORY_PAGE, {"categoryId": TRADE_COUNTER}, guest())
    assert category == {"site": {"category": None}}
    as_education = await data_of(client, docs.PRICE_FOR_BUYER, {"entityId": trade_only.id}, impersonating(EDUCATION))
    assert as_education["site"]["product"]["entityId"] == trade_only.id


# -- prices and stock are BigCommerce's copy -----------------------------------------------------
async def test_prices_are_bigcommerces_lagging_copy_not_the_erps_truth(client: httpx.AsyncClient,
                                                                       dataset: Dataset) -> None:
    for customer_id in (None, EDUCATION):
        price_list = price_list_of(dataset, customer_id)
        lagging = next(p for p in dataset.products if not p.has_variants
                       and dataset.bc_prices.get(price_list, p.sku, "USD") != dataset.prices.get(price_list, p.sku, "USD"))
        truth = dataset.prices.get(price_list, lagging.sku, "USD")
        assert truth is not None
        copy = bc_product_view(dataset, lagging, price_list)
        assert copy.price != truth.effective_price
        headers = guest() if customer_id is None else impersonating(customer_id)
        data = await data_of(client, docs.PRODUCT_PAGE, {"entityId": lagging.id}, headers)
        assert data["site"]["product"]["prices"]["price"]["value"] == copy.price
        assert_prices(data["site"]["product"]["prices"], copy)


async def test_stock_is_bigcommerces_copy_per_location_and_aggregated(client: httpx.AsyncClient,
                                                                      dataset: Dataset) -> None:
    product = next(p for p in dataset.products if not p.has_variants and erp_available(dataset, p.sku) == 10)
    sku = product.sku
    assert bc_available(dataset, sku) != 10  # BigCommerce has not caught up with the ERP
    data = await data_of(client, docs.VARIANT_STOCK, {"entityId": product.id})
    answered = data["site"]["product"]
    assert answered["inventory"]["aggregated"] == {"availableToSell": bc_available(dataset, sku), "warningLevel": 5}
    variant = nodes(answered["variants"])[0]
    assert variant["inventory"]["aggregated"]["availableToSell"] == bc_available(dataset, sku)
    levels = dataset.stock_for(sku, bigcommerce=True)
    codes = {loc.id: loc.code for loc in dataset.locations}
    assert_exactly(nodes(variant["inventory"]["byLocation"]), [
        {"locationEntityId": level.location_id, "locationEntityCode": codes[level.location_id],
         "locationEntityTypeId": "PHYSICAL", "availableToSell": level.available_to_sell, "warningLevel": 5,
         "isInStock": level.available_to_sell > 0 or level.backorder}
        for level in levels])

    east = await data_of(client, docs.VARIANT_STOCK, {"entityId": product.id, "locationCodes": ["EAST-WH"]})
    by_location = nodes(nodes(east["site"]["product"]["variants"])[0]["inventory"]["byLocation"])
    assert [loc["locationEntityCode"] for loc in by_location] == ["EAST-WH"]
    for types, expected in ((["PHYSICAL"], len(levels)), (["VIRTUAL"], 0)):
        typed = await data_of(client, docs.VARIANT_STOCK, {"entityId": product.id, "locationTypes": types})
        assert len(nodes(nodes(typed["site"]["product"]["variants"])[0]["inventory"]["byLocation"])) == expected


# -- currencies, money formatting, exact digits --------------------------------------------------
def eur_format(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") + " €"


async def test_aliases_ask_for_usd_eur_and_tax_inclusive_prices_in_one_request(client: httpx.AsyncClient,
                                                                              dataset: Dataset) -> None:
    product = next(p for p in dataset.products if any(
        bc_variant_view(dataset, p, v, GUEST_LIST, "EUR").price >= 1000 for v in p.variants))
    data = await data_of(client, docs.PRICES_IN_CURRENCIES, {"entityId": product.id})
    answered = data["site"]["product"]
    assert list(answered) == ["entityId", "usd", "eur", "usdWithTax", "variants"]
    usd, eur = bc_product_view(dataset, product, GUEST_LIST), bc_product_view(dataset, product, GUEST_LIST, "EUR")
    gross = bc_product_view(dataset, product, GUEST_LIST, include_tax=True)
    assert_exactly(answered["usd"]["price"], {"currencyCode": "USD", "value": usd.price,
                                              "formattedV2": f"${usd.price:,.2f}"})
    assert_exactly(answered["eur"]["price"], {"currencyCode": "EUR", "value": eur.price,
                                              "formattedV2": eur_format(eur.price)})
    assert answered["usdWithTax"]["price"]["value"] == gross.price > usd.price
    thousands = 0
    for node, variant in zip(nodes(answered["variants"]), product.variants, strict=True):
        assert list(node) == ["sku", "usd", "eur"]
        eur_price = bc_variant_view(dataset, product, variant, GUEST_LIST, "EUR").price
        assert_exactly(node["eur"]["price"], {"value": eur_price, "formattedV2": eur_format(eur_price)})
        thousands += eur_price >= 1000
    assert thousands  # e.g. "2.470,14 €": a dot between thousands, a comma before the cents
    assert any("." in n["eur"]["price"]["formattedV2"] for n in nodes(answered["variants"]))


async def test_money_values_keep_their_exact_digits_in_the_raw_response(client: httpx.AsyncClient,
                                                                        dataset: Dataset) -> None:
    """BigDecimal goes out as a JSON number with the decimal's own digits: 376.50 stays 376.50."""
    product = next(p for p in dataset.products if not p.has_variants
                   and str(bc_product_view(dataset, p, GUEST_LIST).price).endswith("0"))
    price = bc_product_view(dataset, product, GUEST_LIST).price
    response = await post(client, docs.PRICE_IN_CURRENCY, {"entityId": product.id, "currencyCode": "USD"})
    assert response.status_code == 200
    assert re.search(rb'"value":' + re.escape(str(price).encode()) + rb'[,}]', response.content), response.text
    assert not re.search(rb'"value":' + re.escape(str(price.normalize()).encode()) + rb'[,}]', response.content)


# -- merging, directives, nodes, lookups ---------------------------------------------------------
async def test_compare_by_ids_merges_duplicate_selections_in_first_selected_order(client: httpx.AsyncClient,
                                                                                  dataset: Dataset) -> None:
    chosen = [p for p in dataset.products if dataset.visible_to(p, 0)][:3]
    data = await data_of(client, docs.COMPARE_BY_IDS, {"entityIds": [p.id for p in reversed(chosen)]})
    answered = nodes(data["site"]["products"])
    assert sorted(n["entityId"] for n in answered) == sorted(p.id for p in chosen)
    for node in answered:
        product = dataset.product_by_id[node["entityId"]]
        view = bc_product_view(dataset, product, GUEST_LIST)
        assert list(node) == ["entityId", "name", "prices", "brand", "sku"]
        assert list(node["prices"]) == ["price", "basePrice"]
        assert_exactly(node["prices"]["price"], {"currencyCode": "USD", "value": view.price,
                                                 "formattedV2": f"${view.price:,.2f}"})
        assert node["name"] == product.name and node["sku"] == product.sku


async def test_skip_and_include_follow_the_variables(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = dataset.products[1]
    shown = await data_of(client, docs.CARD_WITH_DIRECTIVES,
                          {"entityId": product.id, "withPrices": True, "hideStock": False})
    assert list(shown["site"]["product"]) == ["entityId", "prices", "inventory", "sku", "name"]
    hidden = await data_of(client, docs.CARD_WITH_DIRECTIVES,
                           {"entityId": product.id, "withPrices": False, "hideStock": True, "withBrand": True})
    brand = next(b for b in dataset.brands if b.id == product.brand_id)
    assert_exactly(hidden["site"]["product"], {"entityId": product.id, "brand": {"name": brand.name},
                                               "name": product.name})


async def test_node_finds_a_product_and_a_variant_by_global_id(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = next(p for p in dataset.products if p.has_variants and dataset.visible_to(p, 0))
    variant = product.variants[1]
    data = await data_of(client, docs.NODES, {"productId": global_id("Product", product.id),
                                              "variantId": global_id("Variant", variant.id)})
    assert_exactly(data["product"], {
        "__typename": "Product", "id": global_id("Product", product.id), "entityId": product.id, "name": product.name,
        "prices": {"price": {"value": bc_product_view(dataset, product, GUEST_LIST).price}}})
    view = bc_variant_view(dataset, product, variant, GUEST_LIST)
    assert_exactly(data["variant"], {
        "__typename": "Variant", "id": global_id("Variant", variant.id), "entityId": variant.id, "sku": variant.sku,
        "prices": {"price": {"value": view.price}, "basePrice": {"value": view.base_price}},
        "inventory": {"aggregated": {"availableToSell": bc_available(dataset, variant.sku)}}})


async def test_a_product_is_found_by_a_variant_sku_and_by_a_variant_id(client: httpx.AsyncClient,
                                                                       dataset: Dataset) -> None:
    product = next(p for p in dataset.products if p.has_variants and dataset.visible_to(p, 0))
    data = await data_of(client, docs.PRODUCT_LOOKUPS, {"sku": product.variants[1].sku,
                                                        "variantEntityId": product.variants[2].id})
    # BigCommerce's variant overlay: the product answers with the variant's SKU (and prices)
    assert_exactly(data, {"bySku": {"product": {"entityId": product.id, "sku": product.variants[1].sku}},
                          "byVariant": {"product": {"entityId": product.id, "sku": product.variants[2].sku}}})


async def test_the_customer_query_names_the_buyer_and_is_null_for_a_guest(client: httpx.AsyncClient,
                                                                          dataset: Dataset) -> None:
    customer = dataset.customer(EDUCATION)
    assert customer is not None and customer.company_id is not None
    company = dataset.company(customer.company_id)
    assert company is not None
    data = await data_of(client, docs.CUSTOMER, headers=impersonating(EDUCATION))
    assert_exactly(data, {"customer": {
        "entityId": EDUCATION, "firstName": customer.first_name, "lastName": customer.last_name,
        "email": customer.email, "phone": customer.phone, "company": company.name, "customerGroupId": 5,
        "customerGroupName": "Education"}})
    assert await data_of(client, docs.CUSTOMER) == {"customer": None}


async def test_store_settings(client: httpx.AsyncClient) -> None:
    data = await data_of(client, docs.STORE_SETTINGS)
    assert_exactly(data, {"site": {"settings": {"storeName": "Pricing Edge Demo Supply", "storeHash": "pe-demo",
                                                "channelId": 1}}})


async def test_option_value_ids_select_the_variants_with_those_options(client: httpx.AsyncClient,
                                                                       dataset: Dataset) -> None:
    product = next(p for p in dataset.products if p.option_names == ("Color", "Size") and dataset.visible_to(p, 0))
    everything = nodes((await data_of(client, docs.VARIANT_BY_OPTIONS, {"entityId": product.id}))
                       ["site"]["product"]["variants"])
    assert len(everything) == len(product.variants)
    ids = {(o["displayName"], nodes(o["values"])[0]["label"]): (o["entityId"], nodes(o["values"])[0]["entityId"])
           for v in everything for o in nodes(v["options"])}

    def chosen(*picks: tuple[str, str]) -> list[dict[str, int]]:
        return [{"optionEntityId": ids[pick][0], "valueEntityId": ids[pick][1]} for pick in picks]

    color, size = product.variants[-1].option_values
    one = await data_of(client, docs.VARIANT_BY_OPTIONS, {"entityId": product.id,
                                                          "optionValueIds": chosen(color, size)})
    assert [v["sku"] for v in nodes(one["site"]["product"]["variants"])] == [product.variants[-1].sku]
    same_color = await data_of(client, docs.VARIANT_BY_OPTIONS, {"entityId": product.id,
                                                                 "optionValueIds": chosen(color)})
    assert [v["sku"] for v in nodes(same_color["site"]["product"]["variants"])] == \
        [v.sku for v in product.variants if v.option_values[0] == color]


async def test_hide_out_of_stock_leaves_out_what_bigcommerces_copy_says_is_sold_out() -> None:
    """A dataset of this test's own, in which BigCommerce's copy has one product sold out everywhere."""
    dataset = build_dataset()
    page = dataset.products[0]
    sold_out = dataset.product_by_id[page.related_ids[0]]
    for variant in sold_out.variants:
        for location in dataset.locations:
            key = (variant.sku, location.id)
            dataset.bc_stock[key] = replace(dataset.bc_stock[key], on_hand=0, backorder=False)
    category_id = sold_out.category_ids[0]
    assert sold_out.id in [p.id for p in dataset.products if category_id in p.category_ids][:50]
    variables = {"entityId": page.id, "entityIds": [page.id, sold_out.id], "categoryId": category_id,
                 "term": sold_out.name}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(dataset)),
                                 base_url="http://bigcommerce.test") as client:
        for hide in (False, True):
            site = (await data_of(client, docs.IN_STOCK_ONLY, {**variables, "hide": hide}))["site"]
            lists = [nodes(site["product"]["relatedProducts"]), nodes(site["products"]),
                     nodes(site["category"]["products"]), nodes(site["search"]["searchProducts"]["products"])]
            assert [sold_out.id in [n["entityId"] for n in found] for found in lists] == [not hide] * 4
        related = nodes((await data_of(client, docs.IN_STOCK_ONLY, {**variables, "hide": False}))
                        ["site"]["product"]["relatedProducts"])
        assert related[0] == {"entityId": sold_out.id, "inventory": {"isInStock": False}}


async def test_search_with_brand_category_and_price_filters_and_their_facets(client: httpx.AsyncClient,
                                                                             dataset: Dataset) -> None:
    term, brands, categories, low, high = "wrench", [1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7, 8], 20.0, 250.0
    matches = [p for p in dataset.products if dataset.visible_to(p, 0) and term in p.name.lower()
               and p.brand_id in brands and set(p.category_ids) & set(categories)
               and low <= bc_product_view(dataset, p, GUEST_LIST).price <= high]
    assert 3 <= len(matches) <= 50
    data = await data_of(client, docs.SEARCH_WITH_FACETS, {"filters": {
        "searchTerm": term, "brandEntityIds": brands, "categoryEntityIds": categories,
        "price": {"minPrice": low, "maxPrice": high}}, "sort": "LOWEST_PRICE"})
    results = data["site"]["search"]["searchProducts"]
    found = nodes(results["products"])
    assert sorted(n["entityId"] for n in found) == sorted(p.id for p in matches)
    assert results["products"]["collectionInfo"] == {"totalItems": len(matches)}
    prices = [n["prices"]["price"]["value"] for n in found]
    assert prices == sorted(prices)
    assert all(n["prices"]["price"]["value"] == bc_product_view(dataset, dataset.product_by_id[n["entityId"]],
                                                                  GUEST_LIST).price for n in found)

    # Facets are disjunctive: each counts the products matching every *other* filter.
    facets = {f["__typename"]: f for f in nodes(results["filters"])}
    assert list(facets)[:3] == ["CategorySearchFilter", "BrandSearchFilter", "PriceSearchFilter"]
    assert list(facets["BrandSearchFilter"]) == ["__typename", "name", "displayName", "isCollapsedByDefault",
                                                 "displayProductCount", "brands"]
    assert list(facets["PriceSearchFilter"]) == ["__typename", "name", "displayName", "isCollapsedByDefault",
                                                 "selected"]

    def matching(*, any_brand: bool = False, any_category: bool = False) -> list[Product]:
        return [p for p in dataset.products if dataset.visible_to(p, 0) and term in p.name.lower()
                and (any_brand or p.brand_id in brands) and (any_category or set(p.category_ids) & set(categories))
                and low <= bc_product_view(dataset, p, GUEST_LIST).price <= high]

    brand_counts = {b["entityId"]: (b["productCount"], b["isSelected"])
                    for b in nodes(facets["BrandSearchFilter"]["brands"])}
    other_brands = matching(any_brand=True)
    assert brand_counts == {b: (sum(p.brand_id == b for p in other_brands), b in brands)  # selected ones stay listed
                            for b in {p.brand_id for p in other_brands} | set(brands)}
    assert len(brand_counts) > len({p.brand_id for p in matches})  # brands not selected are offered too
    category_counts = {c["entityId"]: (c["productCount"], c["isSelected"])
                       for c in nodes(facets["CategorySearchFilter"]["categories"])}
    other_categories = matching(any_category=True)
    top_level = {c.id for c in dataset.categories if c.parent_id == 0}
    assert category_counts == {c: (sum(c in p.category_ids for p in other_categories), c in categories)
                               for c in {c for p in other_categories for c in p.category_ids if c in top_level}}
    facets = [facets["BrandSearchFilter"], facets["CategorySearchFilter"], facets["PriceSearchFilter"]]
    assert facets[2]["selected"] == {"minPrice": Decimal("20.0"), "maxPrice": Decimal("250.0")}
