"""Orders carry everything the buyer agreed to: a coupon, two ship-to addresses with their own shipping, a fee, a
tax-inclusive store and an option with a price modifier land in the ERP — whose total, computed from the
lines and charges it received, equals BigCommerce's to the cent. Over real HTTP and a real Redis."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from pricing_edge.config import Settings
from tests.e2e.orders_system import ADDRESS, OrderSystem, order_system
from tests.support.polling import wait_until

BUYER = 1
SECOND = {**ADDRESS, "first_name": "Rob", "street_1": "9 Dock Road", "city": "Dallas", "zip": "75201"}


@pytest.fixture
def system(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[OrderSystem]:
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix)
    with order_system(settings, tmp_path) as running:
        yield running


def checkout(system: OrderSystem, body: dict[str, Any]) -> dict[str, Any]:
    """A shopper's completed checkout, as the BigCommerce simulator records it."""
    response = system.http.post(f"{system.bigcommerce.base_url}/_sim/orders", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def checkout_with_everything(system: OrderSystem, offset: int = 2) -> dict[str, Any]:
    """A tax-inclusive store's checkout with a coupon, two ship-tos with their own shipping, a fee and an option
    that adds to the price (the SKUs from ``offset`` in the catalog)."""
    assert system.http.post(f"{system.bigcommerce.base_url}/_sim/store", json={"tax_inclusive": True}).is_success
    sku_a, sku_b = system.skus(2, offset=offset)
    plain = system.line(sku_a, 3, BUYER)
    plain.pop("price_ex_tax")  # tax-inclusive: the shown (gross) price is the one given
    engraved = {k: v for k, v in system.line(sku_b, 1, BUYER).items() if not k.startswith("price")}
    return checkout(system, {
        "customer_id": BUYER, "status_id": 11, "billing_address": ADDRESS,
        "payment_method": "Purchase Order", "customer_message": "PO-4411",
        "shipping_addresses": [{**ADDRESS, "shipping_method": "Ground", "cost_ex_tax": "7.50"},
                               {**SECOND, "shipping_method": "Express", "cost_ex_tax": "12.25"}],
        "products": [plain, {**engraved, "address_index": 1, "product_options": [{"id": 9001, "value": 9102}]}],
        "coupons": [{"code": "SPRING10", "amount": "10.00"}],
        "fees": [{"display_name_merchant": "Insurance", "cost_ex_tax": "3.00", "cost_tax": "0.30"}]})


def test_a_coupon_two_ship_tos_tax_inclusive_and_an_option_modifier_arrive_with_equal_totals(
        system: OrderSystem) -> None:
    order = checkout_with_everything(system)
    entry = system.wait_synced(order["id"])
    (posted,) = system.erp_orders(system.reference(order["id"]))

    bigcommerce_total = Decimal(system.order(order["id"])["total_inc_tax"]).quantize(Decimal("0.01"))
    assert Decimal(posted["total"]).quantize(Decimal("0.01")) == bigcommerce_total
    assert orjson.loads(entry["detail"])["totals"] == {"bigcommerce": str(bigcommerce_total),
                                                       "erp": str(bigcommerce_total), "equal": True}
    # Everything arrived, each where it belongs.
    assert (posted["reference"], posted["po_number"]) == (system.reference(order["id"]), "PO-4411")
    assert posted["coupons"] == ["SPRING10"] and posted["tax_inclusive"] is True
    assert sum(Decimal(line["discount"]) for line in posted["lines"]) == Decimal("10.00")
    assert [(c["ship_to"]["street_1"], c["method"]) for c in posted["consignments"]] == \
        [("1 Main St", "Ground"), ("9 Dock Road", "Express")]
    assert [line["consignment"] for line in posted["lines"]] == [0, 1]
    assert sorted((c["kind"], Decimal(c["amount"]), Decimal(c["tax"]), c["consignment"] or 0)
                  for c in posted["charges"]) == [("fee", Decimal("3.00"), Decimal("0.30"), 0),
                                                  ("shipping", Decimal("7.50"), 0, 0),
                                                  ("shipping", Decimal("12.25"), 0, 1)]
    assert {"name": "Engraving", "value": "Engraved"} in posted["lines"][1]["options"]
    assert all(Decimal(line["tax"]) > 0 for line in posted["lines"])
    products = system.admin("GET", f"/v2/orders/{order['id']}/products").json()
    assert [line["line_id"] for line in posted["lines"]] == [p["id"] for p in products]
    metrics = system.ops("GET", "/metrics").text
    assert "pricing_edge_order_total_mismatches_total 0.0" in metrics


def test_shipments_go_back_to_their_lines_by_id_partially_then_fully_across_both_consignments(
        system: OrderSystem) -> None:
    """The same SKU on two lines, one per ship-to: each ERP shipment line names the order product it was posted
    as, so BigCommerce gets one shipment per address with the right line — not the first line with the SKU."""
    (sku,) = system.skus(1, offset=9)
    line = system.line(sku, 2, BUYER)
    order = checkout(system, {
        "customer_id": BUYER, "status_id": 11, "billing_address": ADDRESS,
        "shipping_addresses": [{**ADDRESS, "shipping_method": "Ground", "cost_ex_tax": "5.00"},
                               {**SECOND, "shipping_method": "Ground", "cost_ex_tax": "5.00"}],
        "products": [line, {**line, "quantity": 3, "address_index": 1}]})
    number = system.wait_synced(order["id"])["erp_id"]
    products = system.admin("GET", f"/v2/orders/{order['id']}/products").json()
    addresses = system.admin("GET", f"/v2/orders/{order['id']}/shipping_addresses").json()

    system.erp_sim(f"/sales-orders/{number}/ship", {"carrier": "UPS", "tracking_number": "1Z-PART",
                                                   "lines": [{"sku": sku, "quantity": 3}]})
    wait_until(lambda: system.order(order["id"])["status_id"] == 3, what="BigCommerce order partially shipped")
    shipments = system.admin("GET", f"/v2/orders/{order['id']}/shipments").json()
    assert sorted((s["order_address_id"], [(i["order_product_id"], i["quantity"]) for i in s["items"]])
                  for s in shipments) == [(addresses[0]["id"], [(products[0]["id"], 2)]),
                                          (addresses[1]["id"], [(products[1]["id"], 1)])]

    system.erp_sim(f"/sales-orders/{number}/ship", {"carrier": "UPS", "tracking_number": "1Z-REST"})
    wait_until(lambda: system.order(order["id"])["status_id"] == 2, what="BigCommerce order shipped")
    shipped = {p["id"]: p["quantity_shipped"]
               for p in system.admin("GET", f"/v2/orders/{order['id']}/products").json()}
    assert shipped == {products[0]["id"]: 2, products[1]["id"]: 3}
    assert len(system.admin("GET", f"/v2/orders/{order['id']}/shipments").json()) == 3


def test_a_cancellation_in_bigcommerce_cancels_the_erp_order_and_one_in_the_erp_comes_back(
        system: OrderSystem) -> None:
    sku_a, sku_b = system.skus(2, offset=12)
    first = system.create_order(BUYER, [system.line(sku_a, 1, BUYER)])
    second = system.create_order(BUYER, [system.line(sku_b, 1, BUYER)])
    system.wait_synced(first["id"])
    number = system.wait_synced(second["id"])["erp_id"]
    assert system.admin("PUT", f"/v2/orders/{first['id']}", {"status_id": 5}).status_code == 200
    wait_until(lambda: system.erp_orders(system.reference(first["id"]))[0]["status"] == "cancelled",
               what="the ERP order cancelled")
    system.erp_sim(f"/sales-orders/{number}/status", {"status": "cancelled"})
    wait_until(lambda: system.order(second["id"])["status_id"] == 5, what="BigCommerce order cancelled")
