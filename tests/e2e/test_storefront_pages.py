"""Each storefront capability the simulator gained, through the edge: a route lookup that lands on a product
(prices overlaid), option selection, a listing with its facets, and a cart page with checkout totals."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricing_edge.domain.money import quantize
from pricing_edge.domain.pricing import view_of
from pricing_edge.sim.dataset import Dataset, build_dataset
from tests.e2e.catalyst import expected_prices
from tests.e2e.conftest import System, shared_redis_system
from tests.sim.storefront import documents as docs
from tests.sim.storefront import page_documents as pages

BUYER = "1"
SHOWCASE = 104


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("pages")), "pages", erp_budget_ms=30_000.0)


@pytest.fixture(scope="module")
def dataset(system: System) -> Dataset:
    return build_dataset(system.settings.seed)


def both(system: System, query: str, variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The edge's data and BigCommerce's, for the same buyer; neither has errors."""
    edge, upstream = system.query(query, BUYER, variables), system.upstream(query, BUYER, variables)
    assert "errors" not in edge and "errors" not in upstream, (edge, upstream)
    return edge["data"], upstream["data"]


def test_a_route_lookup_lands_on_the_product_with_the_buyers_erp_price(system: System, dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    price_list = system.buyer(BUYER)["price_list_id"]
    expected = expected_prices(dataset, product, price_list, "USD")["price"]
    for path, behavior in ((product.path, "IGNORE"), (f"/old{product.path}", "FOLLOW")):
        edge, upstream = both(system, pages.ROUTE, {"path": path, "behavior": behavior})
        node = edge["site"]["route"]["node"]
        assert node["entityId"] == SHOWCASE and Decimal(str(node["prices"]["price"]["value"])) == expected
        assert edge["site"]["route"]["redirect"] == upstream["site"]["route"]["redirect"]
    bigcommerce = next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 1)
                       and view_of(dataset.bc_prices.get(price_list, p.sku, "USD")).price  # type: ignore[arg-type]
                       != view_of(dataset.prices.get(price_list, p.sku, "USD")).price)  # type: ignore[arg-type]
    edge, upstream = both(system, pages.ROUTE, {"path": bigcommerce.path})
    assert edge["site"]["route"]["node"]["prices"] != upstream["site"]["route"]["node"]["prices"]  # the ERP's, not its copy


def test_option_selection_through_the_edge(system: System, dataset: Dataset) -> None:
    """The selected variant (its SKU, ``isSelected``) comes through; its variant's prices are the ERP's."""
    product = dataset.product_by_id[SHOWCASE]
    price_list = system.buyer(BUYER)["price_list_id"]
    query = """query Pick($id: Int!, $ids: [OptionValueId!]) { site { product(entityId: $id, optionValueIds: $ids,
      useDefaultOptionSelections: true) { sku productOptions(first: 2) { edges { node { entityId
      ... on MultipleChoiceOption { values { edges { node { entityId isSelected } } } } } } }
      variants(first: 5, optionValueIds: $ids) { edges { node { sku prices { price { value } } } } } } } }"""
    chosen = [{"optionEntityId": 1040, "valueEntityId": 10402}, {"optionEntityId": 1041, "valueEntityId": 10411}]
    edge, upstream = both(system, query, {"id": SHOWCASE, "ids": chosen})
    variant = next(v for v in product.variants if dict(v.option_values) == {"Color": "Yellow", "Size": "M"})
    picked = edge["site"]["product"]
    assert picked["sku"] == variant.sku
    assert picked["productOptions"] == upstream["site"]["product"]["productOptions"]
    selected = {v["node"]["entityId"] for o in picked["productOptions"]["edges"]
                for v in o["node"]["values"]["edges"] if v["node"]["isSelected"]}
    assert selected == {10402, 10411}
    [only] = picked["variants"]["edges"]
    record = dataset.prices.get(price_list, variant.sku, "USD")
    assert record is not None and only["node"]["sku"] == variant.sku
    assert Decimal(str(only["node"]["prices"]["price"]["value"])) == record.effective_price


def test_a_listing_with_facets_keeps_bigcommerces_facets_and_shows_erp_prices(system: System,
                                                                             dataset: Dataset) -> None:
    query = docs.SEARCH_WITH_FACETS
    filters = {"categoryEntityId": 1, "productAttributes": [{"attribute": "Material", "values": ["Steel"]}]}
    edge, upstream = both(system, query, {"filters": filters, "sort": "A_TO_Z"})
    mine, theirs = edge["site"]["search"]["searchProducts"], upstream["site"]["search"]["searchProducts"]
    assert mine["filters"] == theirs["filters"]
    assert mine["products"]["collectionInfo"] == theirs["products"]["collectionInfo"]
    price_list = system.buyer(BUYER)["price_list_id"]
    nodes = [e["node"] for e in mine["products"]["edges"]]
    assert nodes and [n["entityId"] for n in nodes] == [e["node"]["entityId"] for e in theirs["products"]["edges"]]
    for node in nodes:
        product = dataset.product_by_id[node["entityId"]]
        assert ("Material", "Steel") in product.custom_fields and 1 in product.category_ids
        assert Decimal(str(node["prices"]["price"]["value"])) == expected_prices(dataset, product, price_list, "USD")["price"]


def test_a_cart_page_through_the_edge_has_checkout_totals_that_add_up(system: System) -> None:
    product = system.fixtures["products"][3]
    created = system.query(docs.CREATE_CART, BUYER, {"lineItems": [{"productEntityId": product["entity_id"],
                                                                    "quantity": 2}]})
    assert "errors" not in created, created
    cart = created["data"]["cart"]["createCart"]["cart"]
    line = cart["lineItems"]["physicalItems"][0]["entityId"]
    address = {"countryCode": "US", "stateOrProvinceCode": "TX", "postalCode": "78701", "city": "Austin",
               "shouldSaveAddress": False}
    added = system.query(pages.ADD_CONSIGNMENT, BUYER, {"input": {"checkoutEntityId": cart["entityId"], "data": {
        "consignments": [{"address": address, "lineItems": [{"lineItemEntityId": line, "quantity": 2}]}]}}})
    consignment = added["data"]["checkout"]["addCheckoutShippingConsignments"]["checkout"]["shippingConsignments"][0]
    assert "errors" not in system.query(pages.SELECT_SHIPPING, BUYER, {"input": {
        "checkoutEntityId": cart["entityId"], "consignmentEntityId": consignment["entityId"],
        "data": {"shippingOptionEntityId": "us-flat"}}})
    assert "errors" not in system.query(pages.APPLY_COUPON, BUYER, {"input": {
        "checkoutEntityId": cart["entityId"], "data": {"couponCode": "WELCOME10"}}})
    edge, upstream = both(system, pages.CHECKOUT, {"cartId": cart["entityId"]})
    assert edge == upstream  # cart prices are BigCommerce's own: the edge passes the page through
    checkout = edge["site"]["checkout"]

    def value(money: dict[str, Any]) -> Decimal:
        return Decimal(str(money["value"]))

    subtotal, discounts = value(checkout["subtotal"]), value(edge["site"]["cart"]["discountedAmount"])
    coupons = sum((value(c["discountedAmount"]) for c in checkout["coupons"]), Decimal(0))
    assert coupons == quantize((subtotal - discounts) * Decimal("0.10"))
    assert value(checkout["grandTotal"]) == subtotal - discounts - coupons + value(checkout["shippingCostTotal"]) \
        + value(checkout["handlingCostTotal"]) + value(checkout["taxTotal"])
    assert value(checkout["shippingCostTotal"]) == Decimal("12.00")
