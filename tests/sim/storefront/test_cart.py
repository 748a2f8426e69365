"""Carts the way BigCommerce keeps them: the five mutations storefronts use, priced from BigCommerce's
copy of the buyer's price list (volume breaks included), refusing more than its copy of the stock,
private to the buyer who made them, and gone when their last line item is."""
from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import httpx

from pricing_edge.sim.dataset import Dataset, Product
from tests.sim.storefront import documents as docs
from tests.sim.storefront.helpers import (
    CONTRACTOR_EXCLUSIVES,
    DISTRIBUTOR,
    EDUCATION,
    WHOLESALE,
    bc_available,
    bc_product_view,
    data_of,
    erp_available,
    gql,
    guest,
    impersonating,
    price_list_of,
)


def lagging_simple(dataset: Dataset, price_list: int) -> Product:
    """A product without variants or volume breaks whose price BigCommerce's copy has not caught up on."""
    return next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 0)
                and not bc_product_view(dataset, p, price_list).bulk_tiers
                and dataset.bc_prices.get(price_list, p.sku, "USD") != dataset.prices.get(price_list, p.sku, "USD"))


def with_fixed_breaks(dataset: Dataset, price_list: int) -> Product:
    return next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 0)
                and (record := dataset.bc_prices.get(price_list, p.sku, "USD")) is not None and record.bulk_tiers
                and not record.on_sale and bc_available(dataset, p.sku) >= 10)


def line(product: Product, quantity: int) -> dict[str, Any]:
    return {"productEntityId": product.id, "quantity": quantity}


def money(amount: Decimal) -> dict[str, Any]:
    return {"currencyCode": "USD", "value": amount, "formattedV2": f"${amount:,.2f}"}


async def create(client: httpx.AsyncClient, headers: dict[str, str], *lines: dict[str, Any],
                 currency: str | None = None) -> dict[str, Any]:
    data = await data_of(client, docs.CREATE_CART, {"lineItems": list(lines), "currencyCode": currency}, headers)
    cart: dict[str, Any] = data["cart"]["createCart"]["cart"]
    return cart


async def read(client: httpx.AsyncClient, headers: dict[str, str], cart_id: str | None) -> Any:
    return (await data_of(client, docs.GET_CART, {"cartEntityId": cart_id}, headers))["site"]["cart"]


async def test_a_cart_from_create_to_the_deletion_of_its_last_line_item(client: httpx.AsyncClient,
                                                                        dataset: Dataset) -> None:
    buyer = impersonating(WHOLESALE)
    price_list = price_list_of(dataset, WHOLESALE)
    plain, breaks = lagging_simple(dataset, price_list), with_fixed_breaks(dataset, price_list)
    plain_price = bc_product_view(dataset, plain, price_list).price
    truth = dataset.prices.get(price_list, plain.sku, "USD")
    assert truth is not None and truth.effective_price != plain_price  # the copy, not the ERP, prices carts

    cart = await create(client, buyer, line(plain, 2))
    cart_id = cart["entityId"]
    assert cart["__typename"] == "Cart"
    assert cart["id"] == base64.b64encode(f"Cart:{cart_id}".encode()).decode()
    assert (cart["currencyCode"], cart["isTaxIncluded"]) == ("USD", False)
    assert cart["amount"] == money(plain_price * 2)
    [plain_line] = cart["lineItems"]["physicalItems"]
    assert (plain_line["productEntityId"], plain_line["variantEntityId"], plain_line["sku"], plain_line["quantity"]) \
        == (plain.id, plain.default_variant.id, plain.sku, 2)
    assert plain_line["salePrice"] == money(plain_price)
    assert plain_line["extendedSalePrice"] == money(plain_price * 2)

    # Ten of a product with volume breaks: the buyer's price list's 10+ break prices the line.
    record = dataset.bc_prices.get(price_list, breaks.sku, "USD")
    assert record is not None
    tier = next(t for t in record.bulk_tiers if t.covers(10))
    added = (await data_of(client, docs.ADD_CART_LINE_ITEMS, {"cartEntityId": cart_id, "lineItems": [line(breaks, 10)]},
                           buyer))["cart"]["addCartLineItems"]["cart"]
    breaks_line = added["lineItems"]["physicalItems"][1]
    assert breaks_line["salePrice"]["value"] == tier.amount < record.effective_price
    assert breaks_line["listPrice"]["value"] == record.price
    assert added["lineItems"]["totalQuantity"] == 12
    assert added["amount"]["value"] == plain_price * 2 + tier.amount * 10

    updated = (await data_of(client, docs.UPDATE_CART_LINE_ITEM, {
        "cartEntityId": cart_id, "lineItemEntityId": plain_line["entityId"],
        "lineItem": {"productEntityId": plain.id, "quantity": 3}}, buyer))["cart"]["updateCartLineItem"]["cart"]
    assert updated["lineItems"]["physicalItems"][0]["quantity"] == 3
    assert updated["amount"]["value"] == plain_price * 3 + tier.amount * 10
    assert await read(client, buyer, cart_id) == updated

    deleted = (await data_of(client, docs.DELETE_CART_LINE_ITEM, {
        "cartEntityId": cart_id, "lineItemEntityId": plain_line["entityId"]}, buyer))["cart"]["deleteCartLineItem"]
    assert deleted["deletedLineItemEntityId"] == plain_line["entityId"]
    assert deleted["deletedCartEntityId"] is None
    assert [i["productEntityId"] for i in deleted["cart"]["lineItems"]["physicalItems"]] == [breaks.id]

    last = (await data_of(client, docs.DELETE_CART_LINE_ITEM, {
        "cartEntityId": cart_id, "lineItemEntityId": breaks_line["entityId"]}, buyer))["cart"]["deleteCartLineItem"]
    assert last == {"deletedLineItemEntityId": breaks_line["entityId"], "deletedCartEntityId": cart_id, "cart": None}
    assert await read(client, buyer, cart_id) is None


async def test_each_buyer_is_priced_from_their_own_price_list(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 0)
                   and len({bc_product_view(dataset, p, price_list_of(dataset, c)).price
                            for c in (None, WHOLESALE, DISTRIBUTOR)}) == 3
                   and not any(bc_product_view(dataset, p, price_list_of(dataset, c)).bulk_tiers
                               for c in (None, WHOLESALE, DISTRIBUTOR)))
    for customer_id in (None, WHOLESALE, DISTRIBUTOR):
        headers = guest() if customer_id is None else impersonating(customer_id)
        cart = await create(client, headers, line(product, 1))
        assert cart["amount"]["value"] == bc_product_view(dataset, product, price_list_of(dataset, customer_id)).price


async def test_a_euro_cart_is_priced_from_the_euro_copy_and_an_unsupported_currency_is_refused(
        client: httpx.AsyncClient, dataset: Dataset) -> None:
    buyer = impersonating(DISTRIBUTOR)
    product = lagging_simple(dataset, price_list_of(dataset, DISTRIBUTOR))
    eur = bc_product_view(dataset, product, price_list_of(dataset, DISTRIBUTOR), "EUR").price
    cart = await create(client, buyer, line(product, 2), currency="EUR")
    assert cart["currencyCode"] == "EUR"
    assert cart["amount"]["currencyCode"] == "EUR" and cart["amount"]["value"] == eur * 2
    assert cart["amount"]["formattedV2"].endswith(" €")

    body = await gql(client, docs.CREATE_CART, {"lineItems": [line(product, 1)], "currencyCode": "GBP"}, buyer)
    assert [e["message"] for e in body["errors"]] == ["Currency GBP is not enabled for this channel."]
    assert body["data"] == {"cart": {"createCart": None}}


async def test_more_than_bigcommerces_copy_of_the_stock_is_refused(client: httpx.AsyncClient,
                                                                   dataset: Dataset) -> None:
    """Stock checks use BigCommerce's copy: the ERP says 10 left, the copy still says more."""
    product = next(p for p in dataset.products if not p.has_variants and erp_available(dataset, p.sku) == 10)
    available = bc_available(dataset, product.sku)
    assert available > 10
    assert not any(level.backorder for level in dataset.stock_for(product.sku, bigcommerce=True))
    buyer = impersonating(WHOLESALE)

    refused = await gql(client, docs.CREATE_CART, {"lineItems": [line(product, available + 1)]}, buyer)
    assert refused["errors"][0]["message"].startswith("Not enough stock:")
    assert refused["data"] == {"cart": {"createCart": None}}

    cart = await create(client, buyer, line(product, available - 1))  # more than the ERP has: the copy allows it
    cart_id, item = cart["entityId"], cart["lineItems"]["physicalItems"][0]
    over = await gql(client, docs.ADD_CART_LINE_ITEMS, {"cartEntityId": cart_id, "lineItems": [line(product, 2)]},
                     buyer)
    assert over["errors"][0]["message"].startswith("Not enough stock:")
    too_many = await gql(client, docs.UPDATE_CART_LINE_ITEM, {
        "cartEntityId": cart_id, "lineItemEntityId": item["entityId"],
        "lineItem": {"productEntityId": product.id, "quantity": available + 1}}, buyer)
    assert too_many["errors"][0]["message"].startswith("Not enough stock:")
    assert (await read(client, buyer, cart_id))["lineItems"]["totalQuantity"] == available - 1  # unchanged

    exact = await data_of(client, docs.ADD_CART_LINE_ITEMS, {"cartEntityId": cart_id, "lineItems": [line(product, 1)]},
                          buyer)
    assert exact["cart"]["addCartLineItems"]["cart"]["lineItems"]["totalQuantity"] == available


async def test_another_buyer_can_neither_see_nor_change_a_cart(client: httpx.AsyncClient, dataset: Dataset) -> None:
    owner = impersonating(WHOLESALE)
    product = lagging_simple(dataset, price_list_of(dataset, WHOLESALE))
    cart = await create(client, owner, line(product, 1))
    cart_id, item_id = cart["entityId"], cart["lineItems"]["physicalItems"][0]["entityId"]

    for stranger in (impersonating(DISTRIBUTOR), guest()):
        assert await read(client, stranger, cart_id) is None
        for document, variables in (
                (docs.ADD_CART_LINE_ITEMS, {"cartEntityId": cart_id, "lineItems": [line(product, 1)]}),
                (docs.UPDATE_CART_LINE_ITEM, {"cartEntityId": cart_id, "lineItemEntityId": item_id,
                                              "lineItem": {"productEntityId": product.id, "quantity": 5}}),
                (docs.DELETE_CART_LINE_ITEM, {"cartEntityId": cart_id, "lineItemEntityId": item_id}),
                (docs.DELETE_CART, {"cartEntityId": cart_id})):
            body = await gql(client, document, variables, stranger)
            assert [e["message"] for e in body["errors"]] == [f"Cart {cart_id} not found."]
    assert await read(client, owner, cart_id) == cart  # untouched


async def test_a_customers_cart_is_found_without_an_id_and_a_guest_has_none(client: httpx.AsyncClient,
                                                                            dataset: Dataset) -> None:
    buyer = impersonating(EDUCATION)
    product = lagging_simple(dataset, price_list_of(dataset, EDUCATION))
    cart = await create(client, buyer, line(product, 1))
    assert await read(client, buyer, None) == cart
    assert (await data_of(client, docs.GET_CART, {}, guest()))["site"]["cart"] is None


async def test_delete_cart_deletes_it(client: httpx.AsyncClient, dataset: Dataset) -> None:
    buyer = impersonating(DISTRIBUTOR)
    product = lagging_simple(dataset, price_list_of(dataset, DISTRIBUTOR))
    cart_id = (await create(client, buyer, line(product, 1)))["entityId"]
    data = await data_of(client, docs.DELETE_CART, {"cartEntityId": cart_id}, buyer)
    assert data == {"cart": {"deleteCart": {"deletedCartEntityId": cart_id}}}
    assert await read(client, buyer, cart_id) is None
    again = await gql(client, docs.DELETE_CART, {"cartEntityId": cart_id}, buyer)
    assert [e["message"] for e in again["errors"]] == [f"Cart {cart_id} not found."]


async def test_a_product_the_buyers_group_cannot_see_cannot_be_added(client: httpx.AsyncClient,
                                                                     dataset: Dataset) -> None:
    hidden = next(p for p in dataset.products if p.category_ids == (CONTRACTOR_EXCLUSIVES,))
    body = await gql(client, docs.CREATE_CART, {"lineItems": [line(hidden, 1)]}, impersonating(EDUCATION))
    assert [e["message"] for e in body["errors"]] == [f"Product {hidden.id} not found."]
    allowed = await create(client, impersonating(WHOLESALE), line(hidden, 1))
    assert allowed["lineItems"]["physicalItems"][0]["productEntityId"] == hidden.id
