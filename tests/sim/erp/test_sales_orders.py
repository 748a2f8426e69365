"""The simulated ERP's sales orders over real HTTP: one order per reference, validated against the ERP's
items and accounts, changeable only while open, and a warehouse (``/_sim``) whose shipments and status
changes go out as signed, schema-valid events."""
from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from pricing_edge.domain import events, order_events
from pricing_edge.domain.order_events import SalesOrderChanged, ShipmentCreated
from pricing_edge.domain.orders import ErpStatus, order_id_of
from pricing_edge.intake import envelope
from tests.support.receiver import Receiver
from tests.support.polling import wait_until
from tests.support.servers import ServerThread

ORDERS = "/api/v1/sales-orders"


def order_body(reference: str = "BC-pe-demo-101", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": reference, "bc_order_id": order_id_of(reference) or 1, "customer_id": 7,
        "sold_to": "company:1", "currency": "USD", "document_type": "SO", "po_number": "PO-77",
        "ship_to": {"name": "Avery Adams", "company": "Acme Facilities", "street_1": "1 Main St", "street_2": "",
                    "city": "Austin", "state": "TX", "zip": "78701", "country_iso2": "US"},
        "cancelled": False,
        "lines": [{"sku": "PE-10000", "quantity": 3, "unit_price": "12.3400"},
                  {"sku": "PE-10001", "quantity": 2, "unit_price": "5.00"},
                  {"sku": "PE-10000", "quantity": 1, "unit_price": "12.3400"}],
    }
    return body | changes


def create(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = client.post(ORDERS, json=order_body(**changes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def all_orders(client: httpx.Client) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = client.get("/_sim/sales-orders").json()["orders"]
    return orders


def outbox(client: httpx.Client, event_type: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/_sim/events", params={"type": event_type}).json()["events"]
    return found


def delivered_events(receiver: Receiver, secret: str, event_type: str) -> list[dict[str, Any]]:
    """Every delivery of ``event_type``, each verified, parsed and checked against its schema."""
    found = []
    for delivery in receiver.received():
        envelope.verify(delivery.headers, delivery.body, secret)
        event = envelope.parse(delivery.body)  # the envelope and the data schema
        if event["type"] == event_type:
            jsonschema.validate(event["data"], envelope.schema(event_type))
            found.append(event)
    return found


# --- creating and finding ----------------------------------------------------------------------

def test_create_find_and_duplicate_reference(erp_client: httpx.Client) -> None:
    created = create(erp_client)
    assert created["number"] == "SO-100001" and created["status"] == "open" and not created["cancelled"]
    assert created["reference"] == "BC-pe-demo-101" and isinstance(created["version"], int)
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in created["lines"]] == [
        ("PE-10000", 3, "12.3400"), ("PE-10001", 2, "5.00"), ("PE-10000", 1, "12.3400")]  # the digits too
    assert created["total"] == "59.3600" and created["ship_to"]["city"] == "Austin"

    assert erp_client.get(f"{ORDERS}/SO-100001").json() == created
    found = erp_client.get(ORDERS, params={"reference": "BC-pe-demo-101"}).json()
    assert found["items"] == [created]
    assert erp_client.get(ORDERS, params={"reference": "BC-pe-demo-999"}).json()["items"] == []
    missing = erp_client.get(f"{ORDERS}/SO-999999")
    assert missing.status_code == 404 and missing.json()["field"] == "number"

    again = erp_client.post(ORDERS, json=order_body(po_number="another try"))
    assert again.status_code == 409
    assert again.json() == {"error": "a sales order with reference BC-pe-demo-101 already exists: SO-100001",
                            "field": "reference", "number": "SO-100001"}
    assert [o["number"] for o in all_orders(erp_client)] == ["SO-100001"]
    assert erp_client.get(f"{ORDERS}/SO-100001").json()["po_number"] == "PO-77"  # the first one, untouched

    assert create(erp_client, reference="BC-pe-demo-102")["number"] == "SO-100002"  # sequential
    assert not outbox(erp_client, events.SALES_ORDER_CHANGED)  # creating emits nothing


def test_listing_is_paged(erp_client: httpx.Client) -> None:
    for order_id in range(201, 206):
        create(erp_client, reference=f"BC-pe-demo-{order_id}")
    first = erp_client.get(ORDERS, params={"limit": 2}).json()
    assert (first["total"], first["offset"], first["next_offset"]) == (5, 0, 2)
    numbers = [o["number"] for o in first["items"]]
    offset = first["next_offset"]
    while offset is not None:
        page = erp_client.get(ORDERS, params={"limit": 2, "offset": offset}).json()
        numbers += [o["number"] for o in page["items"]]
        offset = page["next_offset"]
    assert numbers == [f"SO-{n}" for n in range(100001, 100006)]


def test_an_unknown_item_is_refused_and_nothing_is_created(erp_client: httpx.Client) -> None:
    body = order_body()
    body["lines"][1]["sku"] = "NOT-IN-ERP"
    refused = erp_client.post(ORDERS, json=body)
    assert refused.status_code == 422
    assert refused.json() == {"error": "unknown item 'NOT-IN-ERP' on line 2", "field": "lines[1].sku"}
    assert all_orders(erp_client) == []
    assert create(erp_client)["number"] == "SO-100001"  # a refused order consumes no number


@pytest.mark.parametrize(("sold_to", "accepted"), [
    ("company:1", True), ("customer:7", True), ("customer:0", True),  # customer 0: guests
    ("company:999", False), ("customer:999", False), ("company:", False), ("acct-1", False), ("", False),
])
def test_sold_to_must_be_a_known_account(erp_client: httpx.Client, sold_to: str, accepted: bool) -> None:
    response = erp_client.post(ORDERS, json=order_body(sold_to=sold_to))
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 422 and response.json()["field"] == "sold_to", response.text
        assert all_orders(erp_client) == []


INVALID: list[tuple[str, Any, str]] = [
    ("reference", "", "reference"),
    ("reference", None, "reference"),
    ("currency", "GBP", "currency"),
    ("currency", "usd", "currency"),
    ("bc_order_id", "101", "bc_order_id"),
    ("cancelled", "no", "cancelled"),
    ("po_number", "P" * 36, "po_number"),
    ("ship_to", {"city": 5}, "ship_to.city"),
    ("ship_to", {"planet": "Mars"}, "ship_to.planet"),
    ("lines", [], "lines"),
    ("lines", None, "lines"),
    ("lines", [{"sku": "PE-10000", "quantity": 0, "unit_price": "1.00"}], "lines[0].quantity"),
    ("lines", [{"sku": "PE-10000", "quantity": 1.5, "unit_price": "1.00"}], "lines[0].quantity"),
    ("lines", [{"sku": "PE-10000", "quantity": True, "unit_price": "1.00"}], "lines[0].quantity"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": 1.25}], "lines[0].unit_price"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": "-1.00"}], "lines[0].unit_price"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": "1,25"}], "lines[0].unit_price"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": "1", "rebate": "1"}], "lines[0].rebate"),
    ("lines", ["PE-10000"], "lines[0]"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": "1", "discount": "1.01"}], "lines[0].discount"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": "1", "consignment": 2}], "lines[0].consignment"),
    ("lines", [{"sku": "PE-10000", "quantity": 1, "unit_price": "1", "options": [{"name": "x"}]}],
     "lines[0].options[0].value"),
    ("charges", [{"kind": "tip", "description": "x", "amount": "1"}], "charges[0].kind"),
    ("charges", [{"kind": "fee", "description": "x", "amount": "-1"}], "charges[0].amount"),
    ("discount", "1000000", "discount"),
    ("coupons", [""], "coupons"),
    ("total", "1.00", "total"),  # a total is never taken from the sender: the ERP computes its own
    ("colour", "red", "colour"),
]


def test_the_erp_computes_its_totals_from_the_lines_and_charges_it_receives(erp_client: httpx.Client) -> None:
    body = order_body(lines=[{"sku": "PE-10000", "quantity": 2, "unit_price": "10.00", "discount": "1.50",
                              "tax": "1.85", "line_id": 7, "options": [{"name": "Engraving", "value": "Yes"}]}],
                      consignments=[{"ship_to": order_body()["ship_to"], "method": "Ground"}],
                      charges=[{"kind": "shipping", "description": "Ground", "amount": "5.00", "tax": "0.50",
                                "consignment": 0}, {"kind": "fee", "description": "Insurance", "amount": "2.00"}],
                      discount="1.00", coupons=["SPRING10"], tax_inclusive=False)
    response = erp_client.post(ORDERS, json=body)
    assert response.status_code == 201, response.text
    posted = response.json()
    # lines 20 − 1.50, charges 5 + 2, less 1 = 24.50 net; tax 1.85 + 0.50 = 2.35
    assert (posted["net_total"], posted["tax_total"], posted["total"]) == ("24.50", "2.35", "26.85")
    assert posted["lines"][0]["line_id"] == 7 and posted["lines"][0]["options"] == [{"name": "Engraving",
                                                                                      "value": "Yes"}]


@pytest.mark.parametrize(("key", "value", "field"), INVALID, ids=[f"{k}-{f}-{i}" for i, (k, _, f) in enumerate(INVALID)])
def test_invalid_orders_are_refused_naming_the_field(erp_client: httpx.Client, key: str, value: Any,
                                                     field: str) -> None:
    response = erp_client.post(ORDERS, json=order_body() | {key: value})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and response.json()["error"].startswith(field)
    assert all_orders(erp_client) == []


def test_a_body_that_is_not_an_object_is_malformed(erp_client: httpx.Client) -> None:
    for content in (b"{nope", b"[1, 2]"):
        response = erp_client.post(ORDERS, content=content, headers={"content-type": "application/json"})
        assert response.status_code == 400 and response.json()["field"] == "body"
    assert all_orders(erp_client) == []


# --- changing ----------------------------------------------------------------------------------

def test_update_lines_while_open_then_cancel(erp_client: httpx.Client, receiver: tuple[Receiver, ServerThread],
                                             secret: str) -> None:
    rec, _ = receiver
    created = create(erp_client)
    number = created["number"]
    new_lines = [{"sku": "PE-10002", "quantity": 4, "unit_price": "7.10"}]
    updated = erp_client.patch(f"{ORDERS}/{number}", json=order_body(lines=new_lines, po_number=None))
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in body["lines"]] == [("PE-10002", 4, "7.10")]
    assert body["po_number"] is None and body["status"] == "open" and body["version"] > created["version"]
    assert not outbox(erp_client, events.SALES_ORDER_CHANGED)  # no status change, no event

    refused = erp_client.patch(f"{ORDERS}/{number}", json={"lines": [{"sku": "NOPE", "quantity": 1,
                                                                      "unit_price": "1"}]})
    assert refused.status_code == 422 and refused.json()["field"] == "lines[0].sku"
    assert erp_client.get(f"{ORDERS}/{number}").json() == body  # a refused change changes nothing
    moved = erp_client.patch(f"{ORDERS}/{number}", json={"reference": "BC-pe-demo-555"})
    assert moved.status_code == 422 and moved.json()["field"] == "reference"

    cancelled = erp_client.patch(f"{ORDERS}/{number}", json={"cancelled": True}).json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled"] and cancelled["version"] > body["version"]
    [entry] = outbox(erp_client, events.SALES_ORDER_CHANGED)
    assert entry["subject"] == f"salesorder:{number}"
    assert entry["envelope"]["data"] == {"order_number": number, "reference": "BC-pe-demo-101",
                                         "status": "cancelled", "version": cancelled["version"]}
    [event] = wait_until(lambda: delivered_events(rec, secret, events.SALES_ORDER_CHANGED), what="the delivery")
    assert order_events.from_data(event["type"], event["data"]) == SalesOrderChanged(
        number, "BC-pe-demo-101", ErpStatus.CANCELLED, cancelled["version"])

    again = erp_client.patch(f"{ORDERS}/{number}", json={"cancelled": False})
    assert again.status_code == 409 and "cancelled" in again.json()["error"]
    assert erp_client.patch(f"{ORDERS}/SO-999999", json={"cancelled": True}).status_code == 404


def test_ship_partially_then_the_rest(erp_client: httpx.Client, receiver: tuple[Receiver, ServerThread],
                                      secret: str) -> None:
    rec, _ = receiver
    number = create(erp_client)["number"]
    first = erp_client.post(f"/_sim/sales-orders/{number}/ship",
                            json={"carrier": "UPS", "tracking_number": "1Z999",
                                  "lines": [{"sku": "PE-10000", "quantity": 2}]})
    assert first.status_code == 200, first.text
    order = first.json()["order"]
    assert order["status"] == "partially_shipped"
    assert [line["shipped_quantity"] for line in order["lines"]] == [2, 0, 0]
    assert first.json()["shipment"] == {
        "shipment_id": "SH-200001", "order_number": number, "reference": "BC-pe-demo-101", "carrier": "UPS",
        "tracking_number": "1Z999", "lines": [{"sku": "PE-10000", "quantity": 2}],
        "order_status": "partially_shipped", "version": order["version"]}

    too_many = erp_client.post(f"/_sim/sales-orders/{number}/ship",
                               json={"carrier": "UPS", "tracking_number": "1Z998",
                                     "lines": [{"sku": "PE-10000", "quantity": 3}]})
    assert too_many.status_code == 422 and too_many.json()["field"] == "lines[0].quantity"
    not_on_order = erp_client.post(f"/_sim/sales-orders/{number}/ship",
                                   json={"carrier": "UPS", "tracking_number": "1Z998",
                                         "lines": [{"sku": "PE-10005", "quantity": 1}]})
    assert not_on_order.status_code == 422

    rest = erp_client.post(f"/_sim/sales-orders/{number}/ship", json={"carrier": "DHL", "tracking_number": "JD01"})
    assert rest.status_code == 200, rest.text
    order = rest.json()["order"]
    assert order["status"] == "shipped" and order["shipments"] == ["SH-200001", "SH-200002"]
    assert rest.json()["shipment"]["lines"] == [{"sku": "PE-10000", "quantity": 2}, {"sku": "PE-10001", "quantity": 2}]
    assert [line["shipped_quantity"] for line in order["lines"]] == [3, 2, 1]

    # What was emitted: two signed events that fit their schema and parse back.
    emitted = outbox(erp_client, events.SHIPMENT_CREATED)
    assert [e["envelope"]["data"]["shipment_id"] for e in emitted] == ["SH-200001", "SH-200002"]
    assert {e["subject"] for e in emitted} == {f"salesorder:{number}"}
    def both_delivered() -> list[dict[str, Any]] | None:
        found = delivered_events(rec, secret, events.SHIPMENT_CREATED)
        return found if len(found) == 2 else None

    delivered = wait_until(both_delivered, what="both deliveries") or []
    parsed = sorted((order_events.from_data(e["type"], e["data"]) for e in delivered), key=lambda p: p.version)
    assert all(isinstance(p, ShipmentCreated) for p in parsed)
    assert [p.shipment.order_status for p in parsed if isinstance(p, ShipmentCreated)] == [
        ErpStatus.PARTIALLY_SHIPPED, ErpStatus.SHIPPED]
    assert {order_id_of(p.reference) for p in parsed} == {101}  # how the worker finds the BigCommerce order

    # Shipped: no more changes, nothing left to ship.
    late = erp_client.patch(f"{ORDERS}/{number}", json={"cancelled": True})
    assert late.status_code == 409 and late.json() == {
        "error": f"sales order {number} is shipped: it can no longer be changed (only open or released orders can)",
        "field": "status", "status": "shipped"}
    assert erp_client.post(f"/_sim/sales-orders/{number}/ship",
                           json={"carrier": "DHL", "tracking_number": "JD02"}).status_code == 409
    listed = erp_client.get("/_sim/sales-orders").json()
    assert [s["shipment_id"] for s in listed["shipments"]] == ["SH-200001", "SH-200002"]


def test_status_changes_emit_events(erp_client: httpx.Client) -> None:
    number = create(erp_client)["number"]
    released = erp_client.post(f"/_sim/sales-orders/{number}/status", json={"status": "released"})
    assert released.status_code == 200, released.text
    assert released.json()["order"]["status"] == "released" and released.json()["event"]["type"] == \
        events.SALES_ORDER_CHANGED
    # Released orders can still be changed through the API.
    assert erp_client.patch(f"{ORDERS}/{number}", json={"po_number": "PO-78"}).status_code == 200

    same = erp_client.post(f"/_sim/sales-orders/{number}/status", json={"status": "released"})
    assert same.status_code == 200 and same.json()["event"] is None  # no change, no event

    erp_client.post(f"/_sim/sales-orders/{number}/status", json={"status": "completed"})
    data = [e["envelope"]["data"] for e in outbox(erp_client, events.SALES_ORDER_CHANGED)]
    assert [d["status"] for d in data] == ["released", "completed"]
    assert data[0]["version"] < data[1]["version"] and {d["reference"] for d in data} == {"BC-pe-demo-101"}
    for d in data:
        jsonschema.validate(d, envelope.schema(events.SALES_ORDER_CHANGED))

    bad = erp_client.post(f"/_sim/sales-orders/{number}/status", json={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    assert erp_client.post("/_sim/sales-orders/SO-1/status", json={"status": "released"}).status_code == 404


# --- the item master ---------------------------------------------------------------------------

def test_a_new_item_becomes_orderable_priced_and_stocked(erp_client: httpx.Client) -> None:
    lines = [{"sku": "NEW-ITEM-1", "quantity": 2, "unit_price": "12.34"}]
    assert erp_client.post(ORDERS, json=order_body(lines=lines)).status_code == 422

    added = erp_client.post("/_sim/items", json={"sku": "NEW-ITEM-1", "price": "12.34"})
    assert added.status_code == 201, added.text
    price_lists = [p["id"] for p in erp_client.get("/api/v1/price-lists").json()["items"]]
    assert len(added.json()["prices"]) == 2 * len(price_lists)
    for price_list_id in price_lists:
        for currency in ("USD", "EUR"):
            read = erp_client.get(f"/api/v1/price-lists/{price_list_id}/prices",
                                  params={"currency": currency, "sku": "NEW-ITEM-1"}).json()
            assert [item["price"] for item in read["items"]] == ["12.34"] and read["missing"] == []
    stock = erp_client.get("/api/v1/stock", params={"sku": "NEW-ITEM-1"}).json()
    assert len(stock["items"]) == 3 and {level["on_hand"] for level in stock["items"]} == {0}

    assert create(erp_client, lines=lines)["status"] == "open"  # the replay now goes through
    # It is a whole item: its price and stock change like any other, and the ticker may pick it.
    assert erp_client.post("/_sim/changes/price", json={"price_list_id": price_lists[0], "sku": "NEW-ITEM-1",
                                                        "currency": "USD", "price": "13.00"}).status_code == 200
    assert erp_client.post("/_sim/changes/stock", json={"sku": "NEW-ITEM-1", "location_id": 1,
                                                        "on_hand": 5}).status_code == 200
    assert erp_client.post("/_sim/ticker/tick", json={"count": 200}).status_code == 200

    assert erp_client.post("/_sim/items", json={"sku": "NEW-ITEM-1"}).status_code == 409
    assert erp_client.post("/_sim/items", json={"sku": "PE-10000"}).status_code == 409
    default = erp_client.post("/_sim/items", json={"sku": "NEW-ITEM-2"}).json()
    assert {p["price"] for p in default["prices"]} == {"10.00"}
    assert erp_client.post("/_sim/items", json={"sku": "NEW-ITEM-3", "price": 9.5}).status_code == 422
    assert erp_client.post("/_sim/items", json={"price": "1.00"}).status_code == 422


# --- faults ------------------------------------------------------------------------------------

def test_faults_apply_to_the_sales_order_api(erp_client: httpx.Client) -> None:
    number = create(erp_client)["number"]
    erp_client.post("/_sim/faults", json={"down_seconds": 60})
    try:
        assert erp_client.post(ORDERS, json=order_body(reference="BC-pe-demo-102")).status_code == 503
        assert erp_client.get(ORDERS, params={"reference": "BC-pe-demo-101"}).status_code == 503
        assert erp_client.patch(f"{ORDERS}/{number}", json={"cancelled": True}).status_code == 503
        # The warehouse (/_sim) keeps working during the outage.
        assert erp_client.post(f"/_sim/sales-orders/{number}/status", json={"status": "released"}).status_code == 200
        assert [o["number"] for o in all_orders(erp_client)] == [number]
    finally:
        erp_client.delete("/_sim/faults")
    assert erp_client.get(f"{ORDERS}/{number}").json()["status"] == "released"
