"""Orders, shipments and statuses behave as BigCommerce's do: auth and store checks, 404s, money as exact
four-decimal strings, catalog and custom lines, PUT semantics, shipments that cannot over-ship, and
validation that refuses bad input with a message naming the problem while changing nothing."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pricing_edge.domain.pricing import unit_price
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.sim.admin import statuses
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import (
    ADMIN_TOKEN,
    BILLING,
    STORE_HASH,
    Sim,
    order_body,
    simple_product,
    variant_product,
)


def call(rest: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    return rest.request(method, path, content=dumps(body) if body is not None else None)


def create(rest: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = call(rest, "POST", "/v2/orders", body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = loads_exact(response.content)
    return created


def message(response: httpx.Response) -> str:
    body = response.json()
    assert isinstance(body, list) and body[0]["status"] == response.status_code, body  # v2 error style
    return str(body[0]["message"])


def test_the_admin_api_needs_the_token_and_the_right_store(sim: Sim) -> None:
    with sim.rest(X_Auth_Token="") as anonymous:
        missing = anonymous.get("/v2/orders")
        assert missing.status_code == 401 and "X-Auth-Token" in message(missing)
        v3 = anonymous.get("/v3/hooks")
        assert v3.status_code == 401 and v3.json()["status"] == 401 and v3.json()["title"]
    with sim.rest(X_Auth_Token="not-" + ADMIN_TOKEN) as wrong:
        assert wrong.get("/v2/order_statuses").status_code == 401
    with httpx.Client(base_url=f"{sim.server.base_url}/stores/other{STORE_HASH}",
                      headers={"X-Auth-Token": ADMIN_TOKEN}) as other_store:
        assert other_store.get("/v2/orders").status_code == 404
        assert other_store.get("/v3/hooks").status_code == 404


def test_unknown_orders_are_404(sim: Sim) -> None:
    with sim.rest() as rest:
        for method, path, body in (("GET", "/v2/orders/4242", None), ("PUT", "/v2/orders/4242", {"status_id": 2}),
                                   ("GET", "/v2/orders/4242/products", None),
                                   ("GET", "/v2/orders/4242/shipping_addresses", None),
                                   ("GET", "/v2/orders/4242/shipments", None),
                                   ("POST", "/v2/orders/4242/shipments", {"order_address_id": 1, "items": []}),
                                   ("GET", "/v2/orders/not-a-number", None)):
            response = call(rest, method, path, body)
            assert response.status_code == 404, (method, path, response.text)
            assert message(response) == "The requested resource was not found."


def test_money_is_exact_four_decimal_strings_and_totals_add_up(sim: Sim, dataset: Dataset) -> None:
    plain = simple_product(dataset)
    catalog_price = dataset.bc_prices.get(dataset.price_list_for_group(dataset.customers[0].customer_group_id),
                                          plain.sku, "USD")
    assert catalog_price is not None
    with sim.rest() as rest:
        order = create(rest, order_body(dataset, customer_id=1))
        lines = loads_exact(rest.get(f"/v2/orders/{order['id']}/products").content)
    by_sku = {line["sku"]: line for line in lines}
    assert set(by_sku) == {plain.sku, variant_product(dataset).variants[1].sku, "CUSTOM-ENGRAVE-1"}
    for line in lines:
        for key in ("price_ex_tax", "price_inc_tax", "total_ex_tax", "total_inc_tax", "base_price"):
            assert isinstance(line[key], str) and len(line[key].split(".")[1]) == 4, (key, line[key])
        assert Decimal(line["total_ex_tax"]) == Decimal(line["price_ex_tax"]) * line["quantity"]
    # A catalog line with no price is BigCommerce's price for the customer's price list, exactly.
    assert Decimal(by_sku[plain.sku]["price_ex_tax"]) == unit_price(catalog_price, 2)
    custom = by_sku["CUSTOM-ENGRAVE-1"]
    assert (custom["product_id"], custom["name"], custom["price_ex_tax"], custom["price_inc_tax"]) == \
        (0, "Custom engraving", "4.5000", "4.9500")
    assert Decimal(order["subtotal_ex_tax"]) == sum(Decimal(line["total_ex_tax"]) for line in lines)
    assert Decimal(order["total_inc_tax"]) == sum(Decimal(line["total_inc_tax"]) for line in lines)
    assert (order["items_total"], order["status_id"], order["status"]) == (6, 11, "Awaiting Fulfillment")
    assert order["billing_address"]["email"] == BILLING["email"]


def test_an_order_without_status_is_pending_and_ships_to_its_billing_address(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        order = create(rest, {"billing_address": BILLING,
                              "products": [{"name": "Poster", "quantity": 1, "price_ex_tax": 10}]})
        addresses = rest.get(f"/v2/orders/{order['id']}/shipping_addresses").json()
    assert (order["status_id"], order["customer_id"]) == (statuses.PENDING, 0)
    assert [(a["street_1"], a["zip"]) for a in addresses] == [(BILLING["street_1"], BILLING["zip"])]


@pytest.mark.parametrize(("change", "problem"), [
    ({"products": []}, "'products' is required"),
    ({"products": [{"sku": "NOBODY-KNOWS-ME", "quantity": 1}]}, "NOBODY-KNOWS-ME"),
    ({"products": [{"product_id": 999_999, "quantity": 1}]}, "product 999999 does not exist"),
    (lambda ds: {"products": [{"product_id": variant_product(ds).id, "quantity": 1}]}, "give variant_id or sku"),
    ({"products": [{"name": "Custom", "quantity": 0, "price_ex_tax": 1}]}, "quantity"),
    ({"products": [{"name": "Custom", "quantity": 1}]}, "needs price_ex_tax"),
    ({"products": [{"name": "Custom", "quantity": 1, "price_ex_tax": -1}]}, "price_ex_tax"),
    ({"customer_id": 9999}, "customer 9999 does not exist"),
    ({"status_id": 15}, "status_id"),
    ({"billing_address": {"first_name": "No zip"}}, "billing_address.zip"),
    ({"total_inc_tax": "1.00"}, "total_inc_tax"),
    ({"colour": "blue"}, "'colour' cannot be written to"),
    ({"default_currency_code": "GBP"}, "default_currency_code"),
])
def test_a_bad_order_is_refused_naming_the_problem_and_nothing_is_created(
        sim: Sim, dataset: Dataset, change: dict[str, Any] | Callable[[Dataset], dict[str, Any]],
        problem: str) -> None:
    body = order_body(dataset)
    body.update(change(dataset) if callable(change) else change)
    with sim.rest() as rest:
        refused = call(rest, "POST", "/v2/orders", body)
        assert refused.status_code == 400, refused.text
        assert problem in message(refused)
        assert rest.get("/v2/orders").json() == []
        first = create(rest, order_body(dataset))
    assert first["id"] == 100  # the refused order took no id
    assert [scope for scope, _ in sim.admin.emitted] == ["store/order/created"]


def test_a_bad_update_changes_nothing(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        order = create(rest, order_body(dataset, status_id=1))
        path = f"/v2/orders/{order['id']}"
        before = (rest.get(path).json(), rest.get(path + "/products").json())
        emitted = len(sim.admin.emitted)
        for body, problem in (({"status_id": 11, "products": [{"id": 999, "quantity": 1}]}, "order product 999"),
                              ({"status_id": 11, "staff_notes": 42}, "staff_notes"),
                              ({"status_id": 11, "default_currency_code": "EUR"}, "default_currency_code"),
                              ({"status_id": 11, "discount_amount": "100000.00"}, "discount_amount")):
            refused = call(rest, "PUT", path, body)
            assert refused.status_code == 400, refused.text
            assert problem in message(refused)
        assert (rest.get(path).json(), rest.get(path + "/products").json()) == before
    assert len(sim.admin.emitted) == emitted


def test_put_updates_adds_and_removes_lines_as_the_spec_says(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        order = create(rest, order_body(dataset))
        lines = rest.get(f"/v2/orders/{order['id']}/products").json()
        updated = call(rest, "PUT", f"/v2/orders/{order['id']}", {
            "external_order_id": "SO-100001", "staff_notes": "synced", "customer_message": "thanks",
            "products": [{"id": lines[0]["id"], "quantity": 5},
                         {"id": lines[2]["id"], "quantity": 0},
                         {"name": "Rush fee", "sku": "FEE-RUSH", "quantity": 1, "price_ex_tax": "15.00"}]})
        assert updated.status_code == 200, updated.text
        after = rest.get(f"/v2/orders/{order['id']}/products").json()
    body = updated.json()
    assert (body["external_order_id"], body["staff_notes"], body["customer_message"]) == \
        ("SO-100001", "synced", "thanks")
    assert [(line["id"], line["sku"], line["quantity"]) for line in after] == [
        (lines[0]["id"], lines[0]["sku"], 5), (lines[1]["id"], lines[1]["sku"], 1),
        (lines[2]["id"] + 1, "FEE-RUSH", 1)]
    assert body["items_total"] == 7
    assert Decimal(body["subtotal_ex_tax"]) == sum(Decimal(line["total_ex_tax"]) for line in after)


def test_listing_pages_and_filters(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        ids = [create(rest, order_body(dataset, status_id=status))["id"] for status in (1, 11, 11, 2, 11)]
        assert [o["id"] for o in rest.get("/v2/orders").json()] == ids
        assert [o["id"] for o in rest.get("/v2/orders", params={"page": 2, "limit": 2}).json()] == ids[2:4]
        assert [o["id"] for o in rest.get("/v2/orders", params={"status_id": 11}).json()] == [ids[1], ids[2], ids[4]]
        assert [o["id"] for o in rest.get("/v2/orders", params={"min_id": ids[3]}).json()] == ids[3:]
        assert [o["id"] for o in rest.get("/v2/orders", params={"sort": "id:desc", "limit": 2}).json()] == \
            [ids[4], ids[3]]
        assert rest.get("/v2/orders", params={"limit": "x"}).status_code == 400
        assert rest.get("/v2/orders", params={"sort": "colour"}).status_code == 400


def test_orders_are_filtered_by_date_modified_in_rfc_2822_or_iso_8601(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        ids = [create(rest, order_body(dataset))["id"] for _ in range(3)]
        for n, order_id in enumerate(ids):  # three changes a minute apart (set here: the clock is the test's)
            sim.admin.orders.orders[order_id].modified = datetime(2026, 1, 2, 3, n, 30, 999_000, tzinfo=UTC)

        def chosen(**params: str) -> list[int]:
            response = rest.get("/v2/orders", params=params)
            assert response.status_code in (200, 204), response.text
            return [o["id"] for o in response.json()] if response.status_code == 200 else []

        assert chosen(min_date_modified="2026-01-02T03:01:30+00:00") == ids[1:]  # whole seconds, inclusive
        assert chosen(min_date_modified="Fri, 02 Jan 2026 04:01:30 +0100") == ids[1:]
        assert chosen(min_date_modified="2026-01-02T03:00:31Z", max_date_modified="2026-01-02T03:01:30Z") == [ids[1]]
        assert chosen(min_date_modified="2026-01-02T03:02:31Z") == []
        bad = rest.get("/v2/orders", params={"min_date_modified": "yesterday"})
        assert bad.status_code == 400 and "min_date_modified" in bad.text


def test_the_fifteen_order_statuses(sim: Sim) -> None:
    with sim.rest() as rest:
        found = rest.get("/v2/order_statuses").json()
    assert [(s["id"], s["name"]) for s in found] == [
        (0, "Incomplete"), (1, "Pending"), (2, "Shipped"), (3, "Partially Shipped"), (4, "Refunded"),
        (5, "Cancelled"), (6, "Declined"), (7, "Awaiting Payment"), (8, "Awaiting Pickup"),
        (9, "Awaiting Shipment"), (10, "Completed"), (11, "Awaiting Fulfillment"),
        (12, "Manual Verification Required"), (13, "Disputed"), (14, "Partially Refunded")]


def test_shipments_ship_what_is_left_and_move_the_status(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        order = create(rest, order_body(dataset))
        path = f"/v2/orders/{order['id']}"
        lines = rest.get(path + "/products").json()
        address = lines[0]["order_address_id"]

        def ship(*items: tuple[int, int], **extra: Any) -> httpx.Response:
            return call(rest, "POST", path + "/shipments", {
                "order_address_id": address, "tracking_number": "1Z1", "shipping_provider": "ups",
                "items": [{"order_product_id": i, "quantity": q} for i, q in items], **extra})

        refusals = [
            (ship((9999, 1)), "order product 9999 is not on order"),
            (ship((lines[0]["id"], 3)), "only 2 of 2 not yet shipped"),
            (ship((lines[0]["id"], 1), (lines[0]["id"], 2)), "only 2 of 2 not yet shipped"),
            (ship((lines[0]["id"], 1), order_address_id=address + 50), "not a shipping address"),
            (call(rest, "POST", path + "/shipments", {"order_address_id": address, "items": []}), "'items' is required"),
        ]
        for refused, problem in refusals:
            assert refused.status_code == 400, refused.text
            assert problem in message(refused)
        assert rest.get(path + "/shipments").status_code == 204
        assert rest.get(path).json()["status_id"] == 11

        first = ship((lines[0]["id"], 1), (lines[1]["id"], 1))
        assert first.status_code == 201, first.text
        assert first.json()["items"] == [{"order_product_id": lines[0]["id"], "product_id": lines[0]["product_id"],
                                          "quantity": 1},
                                         {"order_product_id": lines[1]["id"], "product_id": lines[1]["product_id"],
                                          "quantity": 1}]
        assert rest.get(path).json()["status"] == "Partially Shipped"
        second = ship((lines[0]["id"], 1), (lines[2]["id"], 3))
        assert second.status_code == 201, second.text
        shipped = rest.get(path).json()
        assert (shipped["status"], shipped["items_shipped"], shipped["items_total"]) == ("Shipped", 6, 6)
        assert shipped["date_shipped"]
        assert [s["id"] for s in rest.get(path + "/shipments").json()] == [first.json()["id"], second.json()["id"]]
        assert [line["quantity_shipped"] for line in rest.get(path + "/products").json()] == [2, 1, 3]
        over = ship((lines[0]["id"], 1))
        assert over.status_code == 400 and "only 0 of 2" in message(over)
        shrink = call(rest, "PUT", path, {"products": [{"id": lines[2]["id"], "quantity": 1}]})
        assert shrink.status_code == 400 and "3 units shipped" in message(shrink)


def test_injected_faults_reach_the_rest_api(sim: Sim) -> None:
    assert httpx.post(sim.server.base_url + "/_sim/faults", json={"error_rate": 1}).status_code == 200
    try:
        with sim.rest() as rest:
            assert rest.get("/v2/order_statuses").status_code == 500
    finally:
        httpx.delete(sim.server.base_url + "/_sim/faults")
    with sim.rest() as rest:
        assert rest.get("/v2/order_statuses").status_code == 200
