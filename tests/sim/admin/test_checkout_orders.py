"""Orders as a checkout leaves them (``POST /_sim/orders``): a coupon spread over the lines, two consignments
with their own shipping, a modifier option that adds to the price, a tax-inclusive store — and every answer
still BigCommerce's shape (``orders.v2.oas2.yml``, openapi-core), its totals adding up to the cent."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import BILLING, ORDERS_SPEC, SHIPPING, Sim, check, simple_product

TRANSACTIONS_SPEC = "bigcommerce/rest/orders.v3.yml"
SECOND = {**SHIPPING, "first_name": "Rob", "street_1": "9 Dock Road", "city": "Dallas", "zip": "75201"}


def place(sim: Sim, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(sim.server.base_url + "/_sim/orders", content=dumps(body), timeout=30)


def checkout_body(dataset: Dataset) -> dict[str, Any]:
    a, b = simple_product(dataset, 0), simple_product(dataset, 1)
    return {"customer_id": 1, "status_id": 11, "billing_address": BILLING,
            "shipping_addresses": [{**SHIPPING, "shipping_method": "Ground", "cost_ex_tax": "7.50"},
                                   {**SECOND, "shipping_method": "Express", "cost_ex_tax": "12.25"}],
            "products": [{"product_id": a.id, "quantity": 2, "price_inc_tax": "33.00"},
                         {"product_id": b.id, "quantity": 1, "address_index": 1,
                          "product_options": [{"id": 9001, "value": 9102}]}],
            "coupons": [{"code": "SPRING10", "amount": "10.00"}]}


def test_a_checkout_order_carries_coupons_consignments_and_options_and_adds_up(sim: Sim, dataset: Dataset) -> None:
    assert httpx.post(sim.server.base_url + "/_sim/store", json={"tax_inclusive": True}).json() == \
        {"tax_inclusive": True, "sign_webhooks": True}
    placed = place(sim, checkout_body(dataset))
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    with sim.rest() as rest:
        order = rest.get(f"/v2/orders/{order_id}")
        check(ORDERS_SPEC, order)
        lines = rest.get(f"/v2/orders/{order_id}/products")
        check(ORDERS_SPEC, lines)
        addresses = rest.get(f"/v2/orders/{order_id}/shipping_addresses")
        check(ORDERS_SPEC, addresses)
        coupons = rest.get(f"/v2/orders/{order_id}/coupons")
        check(ORDERS_SPEC, coupons)
    head, products, ships = loads_exact(order.content), loads_exact(lines.content), loads_exact(addresses.content)
    assert head["is_tax_inclusive_pricing"] is True
    assert [(c["code"], Decimal(c["amount"])) for c in loads_exact(coupons.content)] == [("SPRING10", 10)]
    assert Decimal(head["coupon_discount"]) == 10
    # The coupon is on the lines, all of it.
    assert sum(Decimal(d["amount"]) for p in products for d in p["applied_discounts"]) == 10
    # Two consignments, each line in its own, each with its own shipping.
    assert [(s["shipping_method"], Decimal(s["cost_ex_tax"])) for s in ships] == [("Ground", Decimal("7.50")),
                                                                             ("Express", Decimal("12.25"))]
    assert [p["order_address_id"] for p in products] == [s["id"] for s in ships]
    assert Decimal(head["shipping_cost_ex_tax"]) == Decimal("19.75")
    # The modifier is an option of the line and part of its price.
    engraved = products[1]
    assert ("Engraving", "Engraved") in [(o["display_name"], o["display_value"]) for o in engraved["product_options"]]
    # Tax-inclusive: the given gross price is the price; the net is derived.
    assert Decimal(products[0]["price_inc_tax"]) == Decimal("33.00")
    assert Decimal(products[0]["price_ex_tax"]) == Decimal("30.0000")
    lines_gross = sum(Decimal(p["total_inc_tax"]) for p in products)
    assert Decimal(head["total_inc_tax"]) == lines_gross + Decimal("19.75") - 10


def test_fees_are_part_of_the_order_and_listed_as_the_spec_shows(sim: Sim, dataset: Dataset) -> None:
    body = {**checkout_body(dataset), "coupons": [], "fees": [
        {"type": "custom_fee", "display_name_customer": "Insurance", "cost_ex_tax": "3.00", "cost_tax": "0.30"},
        {"display_name_merchant": "Handling fee", "cost_ex_tax": "1.00", "cost_inc_tax": "1.00"}]}
    without = loads_exact(place(sim, {**body, "fees": []}).content)
    placed = place(sim, body)
    assert placed.status_code == 201, placed.text
    head = loads_exact(placed.content)
    assert Decimal(head["total_inc_tax"]) - Decimal(without["total_inc_tax"]) == Decimal("4.30")
    with sim.rest() as rest:
        fees = rest.get(f"/v2/orders/{head['id']}/fees")
        check(ORDERS_SPEC, fees)
        created = rest.post("/v2/orders", content=dumps({**order_body_for_fees(dataset), "fees": body["fees"]}))
        assert created.status_code == 200, created.text
        check(ORDERS_SPEC, created)
        bad = rest.post("/v2/orders", content=dumps({**order_body_for_fees(dataset),
                                                       "fees": [{"display_name_customer": "X", "cost_tax": "1"}]}))
        assert bad.status_code == 400 and "two of" in bad.text
    assert [(f["display_name_customer"], Decimal(f["cost_ex_tax"]), Decimal(f["cost_tax"]))
            for f in loads_exact(fees.content)["fees"]] == [("Insurance", Decimal("3.00"), Decimal("0.30")),
                                                             ("Handling fee", Decimal("1.00"), Decimal("0"))]


def order_body_for_fees(dataset: Dataset) -> dict[str, Any]:
    return {"customer_id": 1, "status_id": 11, "billing_address": BILLING, "shipping_addresses": [SHIPPING],
            "products": [{"product_id": simple_product(dataset, 3).id, "quantity": 1}]}


def test_taxes_and_consignments_are_listed_as_the_spec_shows(sim: Sim, dataset: Dataset) -> None:
    placed = place(sim, checkout_body(dataset))
    order_id = placed.json()["id"]
    with sim.rest() as rest:
        taxes, consignments = rest.get(f"/v2/orders/{order_id}/taxes"), rest.get(f"/v2/orders/{order_id}/consignments")
        check(ORDERS_SPEC, taxes)
        check(ORDERS_SPEC, consignments)
        products = loads_exact(rest.get(f"/v2/orders/{order_id}/products").content)
    assert sum(Decimal(row["line_amount"]) for row in loads_exact(taxes.content)) == \
        sum(Decimal(p["total_tax"]) for p in products) > 0
    shipping = loads_exact(consignments.content)["shipping"]
    assert [(c["shipping_method"], len(c["line_items"])) for c in shipping] == [("Ground", 1), ("Express", 1)]
    assert shipping[1]["line_items"][0]["resource"] == f"/orders/{order_id}/products/{products[1]['id']}"


def test_a_modifier_adds_its_price_to_the_catalog_price(sim: Sim, dataset: Dataset) -> None:
    product = simple_product(dataset, 2)
    body = {**checkout_body(dataset), "coupons": [], "shipping_addresses": [SHIPPING],
            "products": [{"product_id": product.id, "quantity": 1}]}
    plain = loads_exact(place(sim, body).content)["subtotal_ex_tax"]
    body["products"][0]["product_options"] = [{"id": 9001, "value": "9102"}, {"id": 9002, "value": 9202}]
    engraved = loads_exact(place(sim, body).content)["subtotal_ex_tax"]
    assert Decimal(engraved) - Decimal(plain) == Decimal("6.75")


def test_a_bad_checkout_is_refused_and_leaves_no_order(sim: Sim, dataset: Dataset) -> None:
    before = len(sim.admin.orders.orders)
    for change, problem in (
            ({"coupons": [{"code": "HUGE", "amount": "100000"}]}, "coupons"),
            ({"coupons": [{"code": "X"}]}, "coupons[0]"),
            ({"products": [{"product_id": simple_product(dataset).id, "quantity": 1, "address_index": 5}]},
             "address_index"),
            ({"products": [{"product_id": simple_product(dataset).id, "quantity": 1,
                            "product_options": [{"id": 1, "value": 2}]}]}, "product_options"),
            ({"shipping_cost_ex_tax": "3.00"}, "not both")):
        response = place(sim, {**checkout_body(dataset), **change})
        assert response.status_code == 400, (change, response.text)
        assert problem in response.json()["error"], (change, response.text)
    assert len(sim.admin.orders.orders) == before


def test_a_checkout_s_payment_is_its_transaction_and_api_orders_have_none(sim: Sim, dataset: Dataset) -> None:
    on_account = place(sim, {**checkout_body(dataset), "payment_method": "Purchase Order"}).json()
    by_card = place(sim, {**checkout_body(dataset), "payment_method": "Credit Card"}).json()
    with sim.rest() as rest:
        api_order = rest.post("/v2/orders", content=dumps(order_body_for_fees(dataset))).json()
        answers = {o["id"]: rest.get(f"/v3/orders/{o['id']}/transactions") for o in (on_account, by_card, api_order)}
    for answer in answers.values():
        check(TRANSACTIONS_SPEC, answer)
    pending, purchase, none = (loads_exact(answers[o["id"]].content)["data"] for o in (on_account, by_card, api_order))
    assert [(t["event"], t["method"], t["amount"]) for t in pending] == \
        [("pending", "offline", Decimal(on_account["total_inc_tax"]))]
    assert [(t["event"], t["method"]) for t in purchase] == [("purchase", "credit_card")]
    assert none == []
