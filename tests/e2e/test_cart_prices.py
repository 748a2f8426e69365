"""The cart charges the price the buyer was shown. The simulator's price lists differ from the ERP (its own,
lagging copy; nothing pushes ERP prices to it), yet the simulator's own cart and checkout amounts equal the
price the edge shows: for every demo buyer, across a volume break, in two currencies, and right after an
ERP price change — because the edge overrides each line's ``list_price`` through the REST cart API."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricing_edge.config import Settings
from pricing_edge.demo import pristine_dataset
from tests.e2e.conftest import System, start_system
from tests.support.polling import wait_until

SHOWN = """query($id: Int!, $cur: currencyCode!) { site { product(entityId: $id) {
  prices(currencyCode: $cur) { price { value currencyCode } } } } }"""
CREATE = """mutation($pid: Int!, $qty: Int!, $cur: String) { cart { createCart(input: {currencyCode: $cur,
  lineItems: [{productEntityId: $pid, quantity: $qty}]}) { cart { entityId currencyCode amount { value }
  lineItems { physicalItems { entityId quantity listPrice { value } salePrice { value } extendedSalePrice { value } } } } } } }"""
UPDATE = """mutation($cart: String!, $line: String!, $pid: Int!, $qty: Int!) { cart { updateCartLineItem(input: {
  cartEntityId: $cart, lineItemEntityId: $line, data: {lineItem: {productEntityId: $pid, quantity: $qty}}}) {
  cart { ...Lines } } } }
fragment Lines on Cart { amount { value } lineItems { physicalItems { entityId quantity listPrice { value } salePrice { value } } } }"""
CURRENCY = """mutation($cart: String!, $cur: String!) { cart { updateCartCurrency(input: {cartEntityId: $cart,
  data: {currencyCode: $cur}}) { cart { currencyCode amount { value } lineItems { physicalItems { listPrice { value } } } } } } }"""
CHECKOUT = "query($id: String!) { site { checkout(entityId: $id) { subtotal { value } cart { amount { value } } } } }"
BUYERS = ("1", "2", "5", "13", "guest")


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    from tests.support.redis_server import delete_prefix, new_prefix

    prefix = new_prefix("cart-prices")
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=prefix, erp_budget_ms=10_000,
                       upstream_timeout=60.0)
    yield from start_system(settings, tmp_path_factory.mktemp("cart-prices"))
    delete_prefix(redis_url, prefix)


def shown(system: System, buyer: str, product_id: int, currency: str = "USD") -> Decimal:
    product = system.query(SHOWN, buyer, {"id": product_id, "cur": currency})["data"]["site"]["product"]
    assert product["prices"]["price"]["currencyCode"] == currency
    return Decimal(str(product["prices"]["price"]["value"]))


def create(system: System, buyer: str, product_id: int, quantity: int, currency: str = "USD") -> dict[str, Any]:
    answer = system.query(CREATE, buyer, {"pid": product_id, "qty": quantity, "cur": currency})
    assert "errors" not in answer, answer
    cart: dict[str, Any] = answer["data"]["cart"]["createCart"]["cart"]
    return cart


def amounts(cart: dict[str, Any]) -> tuple[Decimal, Decimal]:
    line = cart["lineItems"]["physicalItems"][0]
    return Decimal(str(line["listPrice"]["value"])), Decimal(str(cart["amount"]["value"]))


def checkout_subtotal(system: System, buyer: str, cart_id: str) -> Decimal:
    checkout = system.query(CHECKOUT, buyer, {"id": cart_id})["data"]["site"]["checkout"]
    return Decimal(str(checkout["subtotal"]["value"]))


def test_every_buyer_is_charged_the_price_shown(system: System) -> None:
    pid = 101  # buyer 2 is shown 147.94 (the ERP's); BigCommerce's own copy says 153.86
    upstream = system.upstream(SHOWN, "2", {"id": pid, "cur": "USD"})["data"]["site"]["product"]
    assert Decimal(str(upstream["prices"]["price"]["value"])) == Decimal("153.86")
    assert shown(system, "2", pid) == Decimal("147.94")
    cart = create(system, "2", pid, 2)
    assert amounts(cart) == (Decimal("147.94"), Decimal("295.88"))
    # Every other buyer's price list made to differ from BigCommerce's copy too (an ERP change, no push).
    sku = "PE-10000"
    for buyer in BUYERS:
        price_list = system.buyer(buyer)["price_list_id"]
        if price_list != system.buyer("2")["price_list_id"]:
            system.change_price(price_list_id=price_list, sku=sku, currency="USD", price=f"{100 + price_list}.25",
                                sale_price=None)
    for buyer in BUYERS:
        price_list = system.buyer(buyer)["price_list_id"]
        wanted = Decimal("147.94") if buyer == "2" else Decimal(f"{100 + price_list}.25")
        wait_until(lambda buyer=buyer, wanted=wanted: shown(system, buyer, pid) == wanted, timeout=30,
                   what=f"buyer {buyer} to be shown {wanted}")
        bigcommerce = system.upstream(SHOWN, buyer, {"id": pid, "cur": "USD"})["data"]["site"]["product"]
        assert Decimal(str(bigcommerce["prices"]["price"]["value"])) != wanted, buyer
        cart = create(system, buyer, pid, 2)
        assert amounts(cart) == (wanted, wanted * 2), buyer
        assert checkout_subtotal(system, buyer, cart["entityId"]) == wanted * 2


def test_a_second_currency_is_charged_as_shown(system: System) -> None:
    pid = 101
    price = shown(system, "2", pid, "EUR")
    cart = create(system, "2", pid, 1, "EUR")
    assert cart["currencyCode"] == "EUR"
    assert amounts(cart) == (price, price)


def test_a_currency_change_reprices_the_lines_in_the_new_currency(system: System) -> None:
    pid = 101
    cart = create(system, "2", pid, 2)
    assert amounts(cart)[0] == shown(system, "2", pid)
    answer = system.query(CURRENCY, "2", {"cart": cart["entityId"], "cur": "EUR"})
    assert "errors" not in answer, answer
    changed = answer["data"]["cart"]["updateCartCurrency"]["cart"]
    euros = shown(system, "2", pid, "EUR")
    assert changed["currencyCode"] == "EUR" and amounts(changed) == (euros, euros * 2)


def test_crossing_a_volume_break_reprices_the_line(system: System) -> None:
    dataset = pristine_dataset(system.settings.seed)
    price_list = system.buyer("2")["price_list_id"]
    product = next(p for p in dataset.products if len(p.variants) == 1 and p.id in dataset.product_by_id
                   and (r := dataset.prices.get(price_list, p.default_variant.sku, "USD")) is not None and r.bulk_tiers
                   and dataset.visible_to(p, dataset.customer(2).customer_group_id))  # type: ignore[union-attr]
    record = dataset.prices.get(price_list, product.default_variant.sku, "USD")
    assert record is not None
    tier = record.bulk_tiers[0]
    price = shown(system, "2", product.id)
    cart = create(system, "2", product.id, 1)
    assert amounts(cart)[0] == price
    line = cart["lineItems"]["physicalItems"][0]["entityId"]
    answer = system.query(UPDATE, "2", {"cart": cart["entityId"], "line": line, "pid": product.id,
                                        "qty": tier.min_quantity})
    assert "errors" not in answer, answer
    updated = answer["data"]["cart"]["updateCartLineItem"]["cart"]
    assert Decimal(str(updated["lineItems"]["physicalItems"][0]["listPrice"]["value"])) == tier.amount
    assert Decimal(str(updated["amount"]["value"])) == tier.amount * tier.min_quantity
    assert checkout_subtotal(system, "2", cart["entityId"]) == tier.amount * tier.min_quantity


ADD = """mutation($cart: String!, $pid: Int!, $qty: Int!) { cart { addCartLineItems(input: {cartEntityId: $cart,
  data: {lineItems: [{productEntityId: $pid, quantity: $qty}]}}) { cart { ...Lines } } } }
fragment Lines on Cart { amount { value } lineItems { physicalItems { entityId quantity listPrice { value } salePrice { value } } } }"""


def test_adding_more_of_a_line_across_a_break_reprices_it(system: System) -> None:
    dataset = pristine_dataset(system.settings.seed)
    price_list = system.buyer("1")["price_list_id"]
    group = dataset.customer(1).customer_group_id  # type: ignore[union-attr]
    product = next(p for p in dataset.products if len(p.variants) == 1 and dataset.visible_to(p, group)
                   and (r := dataset.prices.get(price_list, p.default_variant.sku, "USD")) is not None
                   and r.bulk_tiers and r.sale_price is None)
    record = dataset.prices.get(price_list, product.default_variant.sku, "USD")
    assert record is not None
    tier = record.bulk_tiers[0]
    cart = create(system, "1", product.id, 1)
    assert amounts(cart)[0] == shown(system, "1", product.id)
    answer = system.query(ADD, "1", {"cart": cart["entityId"], "pid": product.id, "qty": tier.min_quantity - 1})
    assert "errors" not in answer, answer
    lines = answer["data"]["cart"]["addCartLineItems"]["cart"]["lineItems"]["physicalItems"]
    assert [(line["quantity"], Decimal(str(line["listPrice"]["value"]))) for line in lines] == \
        [(tier.min_quantity, tier.amount)]  # one line, merged, at the break's price
    assert checkout_subtotal(system, "1", cart["entityId"]) == tier.amount * tier.min_quantity


def test_right_after_an_erp_price_change_the_cart_has_the_new_price(system: System) -> None:
    product = system.fixtures["products"][2]
    pid, sku = product["entity_id"], product["variants"][0]["sku"]
    system.change_price(price_list_id=system.buyer("1")["price_list_id"], sku=sku, currency="USD", price="42.42",
                        sale_price=None)
    wait_until(lambda: shown(system, "1", pid) == Decimal("42.42"), timeout=30, what="the edge to show the new price")
    cart = create(system, "1", pid, 3)
    assert amounts(cart) == (Decimal("42.42"), Decimal("127.26"))
    assert checkout_subtotal(system, "1", cart["entityId"]) == Decimal("127.26")


def test_a_rest_quota_spent_beyond_the_budget_fails_the_mutation_clearly(redis_url: str, redis_prefix: str,
                                                                         tmp_path: Path) -> None:
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, erp_budget_ms=10_000,
                       cart_price_budget=0.5)
    for system in start_system(settings, tmp_path):
        import httpx

        limit = httpx.post(system.bigcommerce.base_url + "/_sim/rate-limit", json={"quota": 1, "window_seconds": 60},
                           timeout=30)
        assert limit.status_code == 200
        with httpx.Client(base_url=system.settings.admin_url, timeout=30) as other_app:  # spends the window
            other_app.get(f"/stores/{system.settings.store_hash}/v2/order_statuses",
                          headers={"X-Auth-Token": system.settings.admin_token})
        answer = system.query(CREATE, "2", {"pid": 101, "qty": 1, "cur": "USD"})
        assert answer["data"]["cart"]["createCart"] is None
        assert "could not be set on the cart right now" in answer["errors"][0]["message"]
        assert answer["errors"][0]["path"] == ["cart", "createCart"]
