"""Orders carry everything the buyer agreed to: a coupon, two ship-to addresses with their own shipping, a
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


def test_a_coupon_two_ship_tos_tax_inclusive_and_an_option_modifier_arrive_with_equal_totals(
        system: OrderSystem) -> None:
    assert system.http.post(f"{system.bigcommerce.base_url}/_sim/store", json={"tax_inclusive": True}).is_success
    sku_a, sku_b = system.skus(2, offset=2)
    plain = system.line(sku_a, 3, BUYER)
    plain.pop("price_ex_tax")  # tax-inclusive: the shown (gross) price is the one given
    engraved = {k: v for k, v in system.line(sku_b, 1, BUYER).items() if not k.startswith("price")}
    order = checkout(system, {
        "customer_id": BUYER, "status_id": 11, "billing_address": ADDRESS,
        "payment_method": "Purchase Order", "customer_message": "PO-4411",
        "shipping_addresses": [{**ADDRESS, "shipping_method": "Ground", "cost_ex_tax": "7.50"},
                               {**SECOND, "shipping_method": "Express", "cost_ex_tax": "12.25"}],
        "products": [plain, {**engraved, "address_index": 1, "product_options": [{"id": 9001, "value": 9102}]}],
        "coupons": [{"code": "SPRING10", "amount": "10.00"}]})
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
    assert sorted((c["kind"], Decimal(c["amount"]), c["consignment"]) for c in posted["charges"]) == \
        [("shipping", Decimal("7.50"), 0), ("shipping", Decimal("12.25"), 1)]
    assert {"name": "Engraving", "value": "Engraved"} in posted["lines"][1]["options"]
    assert all(Decimal(line["tax"]) > 0 for line in posted["lines"])
    products = system.admin("GET", f"/v2/orders/{order['id']}/products").json()
    assert [line["line_id"] for line in posted["lines"]] == [p["id"] for p in products]
    metrics = system.ops("GET", "/metrics").text
    assert "pricing_edge_order_total_mismatches_total 0.0" in metrics
