"""Orders from BigCommerce into the ERP exactly once, and fulfilment back — over real HTTP, with a
real Redis (and the embedded store where it applies)."""
from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from pricing_edge.config import Settings
from tests.e2e.conftest import store_settings
from tests.e2e.orders_system import OrderSystem, order_system
from tests.support.polling import wait_until

BUYER = 1  # a B2B buyer of the demo dataset (customer 1 belongs to company 1)


@pytest.fixture(params=["redis", "embedded"])
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OrderSystem]:
    with order_system(store_settings(request), tmp_path) as running:
        yield running


@pytest.fixture
def manual(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[OrderSystem]:
    """No hooks registered: the test delivers the webhooks itself (duplicates, reordering)."""
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix)
    with order_system(settings, tmp_path, register_hooks=False) as running:
        yield running


def test_an_order_is_posted_once_with_the_erp_number_written_back(system: OrderSystem) -> None:
    sku_a, sku_b = system.skus(2)
    order = system.create_order(BUYER, [system.line(sku_a, 2, BUYER), system.line(sku_b, 1, BUYER)],
                                payment_method="Purchase Order", customer_message="PO-778")
    entry = system.wait_synced(order["id"])
    (posted,) = system.erp_orders(system.reference(order["id"]))
    assert posted["number"] == entry["erp_id"]
    assert posted["sold_to"] == "company:1" and posted["po_number"] == "PO-778"
    assert [(line["sku"], line["quantity"]) for line in posted["lines"]] == [(sku_a, 2), (sku_b, 1)]
    wait_until(lambda: system.order(order["id"])["external_order_id"] == posted["number"],
               what="the ERP number written back to the BigCommerce order")
    assert orjson.loads(entry["detail"])["price_mismatches"] == []
    assert entry["correlation_id"].startswith("00-")


def test_a_price_that_differs_from_the_erp_is_recorded_on_the_order(system: OrderSystem) -> None:
    (sku,) = system.skus(1, offset=5)
    right = system.erp_price(sku, 1, BUYER)
    order = system.create_order(BUYER, [system.line(sku, 1, BUYER, price=right + Decimal("1.00"))])
    entry = system.wait_synced(order["id"])
    (mismatch,) = orjson.loads(entry["detail"])["price_mismatches"]
    assert (mismatch["sku"], Decimal(mismatch["ordered"]), Decimal(mismatch["erp"])) == (sku, right + 1, right)
    metrics = system.ops("GET", "/metrics").text
    assert "pricing_edge_order_price_mismatches_total 1.0" in metrics


def test_incomplete_orders_are_not_posted(system: OrderSystem) -> None:
    (sku,) = system.skus(1, offset=7)
    order = system.create_order(BUYER, [system.line(sku, 1, BUYER)], status_id=0)
    wait_until(lambda: (system.ledger(order["id"]) or {}).get("status") == "incomplete",
               what="the incomplete order to be seen")
    assert system.erp_orders(system.reference(order["id"])) == []


def test_the_same_webhook_five_times_at_once_makes_one_erp_order(manual: OrderSystem) -> None:
    (sku,) = manual.skus(1)
    order = manual.create_order(BUYER, [manual.line(sku, 1, BUYER)])
    data = {"type": "order", "id": order["id"]}
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: manual.deliver("store/order/created", data, "msg_same_delivery"), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True, True, True]
    manual.wait_synced(order["id"])
    assert len(manual.erp_orders(manual.reference(order["id"]))) == 1
    assert manual.history(order["id"]) == ["store/order/created"]


def test_five_different_updates_with_the_same_hash_are_all_processed(manual: OrderSystem) -> None:
    (sku,) = manual.skus(1, offset=1)
    order = manual.create_order(BUYER, [manual.line(sku, 1, BUYER)])
    data = {"type": "order", "id": order["id"]}
    assert manual.deliver("store/order/created", data).status_code == 200
    for _ in range(5):  # five real updates: same data, so the same hash, but five deliveries
        answer = manual.deliver("store/order/updated", data)
        assert answer.status_code == 200 and answer.json()["duplicate"] is False
    wait_until(lambda: len(manual.history(order["id"])) == 6, what="all six deliveries handled")
    assert manual.history(order["id"]) == ["store/order/created"] + ["store/order/updated"] * 5
    assert len(manual.erp_orders(manual.reference(order["id"]))) == 1


def test_created_updated_and_status_updated_out_of_order_end_in_the_right_erp_state(manual: OrderSystem) -> None:
    sku_a, sku_b = manual.skus(2, offset=2)
    order = manual.create_order(BUYER, [manual.line(sku_a, 1, BUYER)])
    line_id = manual.admin("GET", f"/v2/orders/{order['id']}/products").json()[0]["id"]
    changed = manual.admin("PUT", f"/v2/orders/{order['id']}", {
        "products": [{"id": line_id, "quantity": 3, **_price(manual, sku_a, 3)}], "status_id": 9})
    assert changed.status_code == 200, changed.text
    data = {"type": "order", "id": order["id"]}
    manual.deliver("store/order/statusUpdated", {**data, "status": {"previous_status_id": 11, "new_status_id": 9}})
    manual.deliver("store/order/updated", data)
    manual.deliver("store/order/created", data)
    wait_until(lambda: len(manual.history(order["id"])) == 3, what="the three deliveries handled")
    (posted,) = manual.erp_orders(manual.reference(order["id"]))
    assert [(line["sku"], line["quantity"]) for line in posted["lines"]] == [(sku_a, 3)]  # the final state
    assert sku_b not in str(posted["lines"])


def test_an_order_cancelled_before_its_first_event_is_handled_never_reaches_the_erp(manual: OrderSystem) -> None:
    (sku,) = manual.skus(1, offset=3)
    order = manual.create_order(BUYER, [manual.line(sku, 1, BUYER)])
    assert manual.admin("PUT", f"/v2/orders/{order['id']}", {"status_id": 5}).status_code == 200
    data = {"type": "order", "id": order["id"]}
    manual.deliver("store/order/statusUpdated", {**data, "status": {"previous_status_id": 11, "new_status_id": 5}})
    manual.deliver("store/order/created", data)
    wait_until(lambda: len(manual.history(order["id"])) == 2, what="both deliveries handled")
    assert (manual.ledger(order["id"]) or {})["status"] == "cancelled-before-post"
    assert manual.erp_orders(manual.reference(order["id"])) == []


def test_erp_shipments_and_status_changes_come_back_to_bigcommerce(system: OrderSystem) -> None:
    sku_a, sku_b = system.skus(2, offset=10)
    order = system.create_order(BUYER, [system.line(sku_a, 2, BUYER), system.line(sku_b, 1, BUYER)])
    number = system.wait_synced(order["id"])["erp_id"]
    system.erp_sim(f"/sales-orders/{number}/ship", {"carrier": "UPS", "tracking_number": "1Z999",
                                                   "lines": [{"sku": sku_a, "quantity": 2}]})
    wait_until(lambda: system.order(order["id"])["status_id"] == 3, what="BigCommerce order partially shipped")
    (shipment,) = system.admin("GET", f"/v2/orders/{order['id']}/shipments").json()
    assert shipment["tracking_number"] == "1Z999"
    assert [item["quantity"] for item in shipment["items"]] == [2]
    system.erp_sim(f"/sales-orders/{number}/status", {"status": "completed"})
    wait_until(lambda: system.order(order["id"])["status_id"] == 10, what="BigCommerce order completed")
    assert len(system.admin("GET", f"/v2/orders/{order['id']}/shipments").json()) == 1


def _price(system: OrderSystem, sku: str, quantity: int) -> dict[str, str]:
    price = str(system.erp_price(sku, quantity, BUYER))
    return {"price_ex_tax": price, "price_inc_tax": price}
