"""A change to the ERP emits exactly one signed event of the matching type; a bad change emits none."""
from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
from standardwebhooks.webhooks import Webhook

from pricing_edge.domain import events
from pricing_edge.intake import envelope
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.sim.erp.conftest import FAST_RETRIES
from tests.support.receiver import Delivery, Receiver
from tests.support.polling import wait_until
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve


def outbox(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    events_: list[dict[str, Any]] = client.get("/_sim/events", params=params).json()["events"]
    return events_


def delivered(client: httpx.Client, event_id: str) -> dict[str, Any] | None:
    entry: dict[str, Any] = client.get(f"/_sim/events/{event_id}").json()
    return entry if entry["status"] == "delivered" else None


def check_delivery(delivery: Delivery, secret: str, event_type: str) -> dict[str, Any]:
    """The delivery verifies (ours and the library's), is a CloudEvent and its data fits the schema."""
    envelope.verify(delivery.headers, delivery.body, secret)
    Webhook(secret).verify(delivery.body, delivery.headers)
    assert delivery.headers["content-type"].startswith("application/cloudevents+json")
    event = envelope.parse(delivery.body)
    assert event["type"] == event_type and event["specversion"] == "1.0"
    assert delivery.headers["webhook-id"] == event["id"]
    jsonschema.validate(event["data"], envelope.schema(event_type))
    return event


CHANGES = [
    ("price", {"price_list_id": 3, "sku": "PE-10000", "currency": "USD", "price": "123.4500", "sale_price": "99.10"},
     events.PRICE_CHANGED, lambda c: c.get("/api/v1/price-lists/3/prices", params={"currency": "USD",
                                                                                  "sku": "PE-10000"}).json()["items"][0]),
    ("stock", {"sku": "PE-10002", "location_id": 3, "on_hand": 40, "backorder": True}, events.STOCK_CHANGED,
     lambda c: c.get("/api/v1/stock", params={"sku": "PE-10002", "location_id": 3}).json()["items"][0]),
    ("credit", {"company_id": 4, "status": "ok", "balance": "-12.5"}, events.CREDIT_CHANGED,
     lambda c: c.get("/api/v1/companies/4/credit").json()),
    ("customer", {"customer_id": 5, "customer_group_id": 2, "company_id": None}, events.CUSTOMER_CHANGED,
     lambda c: c.get("/api/v1/customers/5").json()),
]


@pytest.mark.parametrize(("kind", "change", "event_type", "read"), CHANGES, ids=[c[0] for c in CHANGES])
def test_change_emits_one_signed_event(erp_client: httpx.Client, receiver: tuple[Receiver, ServerThread],
                                       secret: str, kind: str, change: dict[str, Any], event_type: str,
                                       read: Any) -> None:
    rec, _ = receiver
    before = read(erp_client)
    response = erp_client.post(f"/_sim/changes/{kind}", json=change)
    assert response.status_code == 200, response.text
    answer = response.json()
    event_id = answer["event"]["id"]
    wait_until(lambda: delivered(erp_client, event_id), what="the event to be delivered")

    deliveries = rec.received()
    assert len(deliveries) == 1
    event = check_delivery(deliveries[0], secret, event_type)
    assert event["id"] == event_id and event["source"] == "urn:pricing-edge:sim:erp"
    data = event["data"]
    assert data == answer["record"] == read(erp_client)  # the event carries the record's full new state
    assert data["version"] > before["version"]
    for key, value in change.items():
        assert data.get(key) == value  # None: cleared, so absent
    assert len(outbox(erp_client)) == 1


BAD_CHANGES = [
    ("price", {"price_list_id": 3, "sku": "PE-10000", "currency": "USD", "price": 9.99}, "price"),
    ("price", {"price_list_id": 3, "sku": "PE-10000", "currency": "USD", "price": "-1"}, "price"),
    ("price", {"price_list_id": 3, "sku": "PE-10000", "currency": "USD", "sale_prise": "1.00"}, "sale_prise"),
    ("price", {"price_list_id": 3, "sku": "PE-10000", "currency": "USD"}, "body"),
    ("price", {"price_list_id": 3, "sku": "NOPE", "currency": "USD", "price": "1"}, "sku"),
    ("price", {"price_list_id": 99, "sku": "PE-10000", "currency": "USD", "price": "1"}, "price_list_id"),
    ("price", {"sku": "PE-10000", "currency": "USD", "price": "1"}, "price_list_id"),
    ("price", {"price_list_id": 3, "sku": "PE-10000", "currency": "USD", "price": "1",
               "bulk_pricing": [{"min_quantity": 0, "price": "1"}]}, "bulk_pricing[0].min_quantity"),
    ("stock", {"sku": "PE-10002", "location_id": 3, "on_hand": -1}, "on_hand"),
    ("stock", {"sku": "PE-10002", "location_id": 3, "on_hand": "5"}, "on_hand"),
    ("stock", {"sku": "PE-10002", "location_id": 9, "on_hand": 5}, "location_id"),
    ("credit", {"company_id": 4, "status": "frozen"}, "status"),
    ("credit", {"company_id": 4, "credit_limit": 1000.5}, "credit_limit"),
    ("credit", {"company_id": 999, "status": "ok"}, "company_id"),
    ("customer", {"customer_id": 5, "customer_group_id": 77}, "customer_group_id"),
    ("customer", {"customer_id": 5, "company_id": 999}, "company_id"),
    ("customer", {"customer_id": 5, "customer_group_id": None}, "customer_group_id"),
]


def test_bad_changes_are_400_and_change_and_emit_nothing(erp_client: httpx.Client,
                                                         receiver: tuple[Receiver, ServerThread],
                                                         secret: str) -> None:
    rec, _ = receiver
    before = {kind: read(erp_client) for kind, _, _, read in CHANGES}
    for kind, change, field in BAD_CHANGES:
        response = erp_client.post(f"/_sim/changes/{kind}", json=change)
        assert response.status_code == 400, (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
        assert response.json()["error"].startswith(field)
    not_json = erp_client.post("/_sim/changes/stock", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["field"] == "body"

    assert outbox(erp_client) == []
    assert {kind: read(erp_client) for kind, _, _, read in CHANGES} == before
    # A good change afterwards is the one and only delivery: nothing was queued by the bad ones.
    good = erp_client.post("/_sim/changes/stock", json={"sku": "PE-10002", "location_id": 1, "on_hand": 3}).json()
    wait_until(lambda: delivered(erp_client, good["event"]["id"]), what="the good event")
    assert [d.headers["webhook-id"] for d in rec.received()] == [good["event"]["id"]]


def test_a_change_visible_to_the_next_change(erp_client: httpx.Client) -> None:
    """Patches apply to the current record: a later patch keeps the earlier one's other fields."""
    erp_client.post("/_sim/changes/price", json={"price_list_id": 2, "sku": "PE-10001", "currency": "EUR",
                                                 "sale_price": "10.00"})
    second = erp_client.post("/_sim/changes/price", json={"price_list_id": 2, "sku": "PE-10001", "currency": "EUR",
                                                          "price": "20.00"}).json()
    assert second["record"]["sale_price"] == "10.00" and second["record"]["price"] == "20.00"
    cleared = erp_client.post("/_sim/changes/price", json={"price_list_id": 2, "sku": "PE-10001", "currency": "EUR",
                                                           "sale_price": None}).json()
    assert "sale_price" not in cleared["record"]
    versions = [e["envelope"]["data"]["version"] for e in outbox(erp_client)]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_receiver_down_then_up_gets_the_event_after_retries(secret: str) -> None:
    port = free_port()
    rec = Receiver()
    app = create_app(build_dataset(7), events_url=f"http://127.0.0.1:{port}/events/erp", event_secret=secret,
                     latency_ms=0, delivery=FAST_RETRIES)
    with serve(app) as erp, httpx.Client(base_url=erp.base_url, timeout=30.0) as client:
        answer = client.post("/_sim/changes/credit", json={"company_id": 2, "status": "hold"})
        assert answer.status_code == 200  # the change does not wait for the receiver
        event_id = answer.json()["event"]["id"]
        wait_until(lambda: client.get(f"/_sim/events/{event_id}").json()["attempts"] >= 2,
                   what="failed delivery attempts while the receiver is down")
        assert client.get(f"/_sim/events/{event_id}").json()["status"] == "retrying"
        with serve(rec.app(), port=port):
            entry = wait_until(lambda: delivered(client, event_id), what="delivery once the receiver is up")
    assert entry is not None and entry["attempts"] >= 3
    deliveries = rec.received()
    assert len(deliveries) == 1
    event = check_delivery(deliveries[0], secret, events.CREDIT_CHANGED)  # re-signed: a fresh, valid timestamp
    assert event["id"] == event_id and event["data"]["status"] == "hold"


def test_receiver_refusal_is_final_and_5xx_is_retried(secret: str) -> None:
    rec = Receiver(status=401)
    with serve(rec.app()) as receiver:
        app = create_app(build_dataset(7), events_url=receiver.base_url + "/events/erp", event_secret=secret,
                         latency_ms=0, delivery=FAST_RETRIES)
        with serve(app) as erp, httpx.Client(base_url=erp.base_url, timeout=30.0) as client:
            refused = client.post("/_sim/changes/stock", json={"sku": "PE-10000", "location_id": 1, "on_hand": 1})
            event_id = refused.json()["event"]["id"]
            entry = wait_until(lambda: (e := client.get(f"/_sim/events/{event_id}").json())["status"] == "rejected"
                               and e, what="a rejected delivery")
            assert entry["attempts"] == 1 and entry["last_status"] == 401
            rec.status = 503
            retried = client.post("/_sim/changes/stock", json={"sku": "PE-10000", "location_id": 1, "on_hand": 2})
            retry_id = retried.json()["event"]["id"]
            wait_until(lambda: client.get(f"/_sim/events/{retry_id}").json()["attempts"] >= 3, what="retries on 503")
            rec.status = 202
            wait_until(lambda: delivered(client, retry_id), what="delivery after the 503s")


def test_redeliver_sends_the_same_id_again(erp_client: httpx.Client, receiver: tuple[Receiver, ServerThread],
                                           secret: str) -> None:
    rec, _ = receiver
    event_id = erp_client.post("/_sim/changes/customer", json={"customer_id": 3, "customer_group_id": 1}).json()[
        "event"]["id"]
    wait_until(lambda: delivered(erp_client, event_id), what="first delivery")
    assert erp_client.post(f"/_sim/events/{event_id}/redeliver").status_code == 202
    wait_until(lambda: len(rec.received()) == 2, what="the redelivery")
    first, second = rec.received()
    assert first.body == second.body and first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    check_delivery(second, secret, events.CUSTOMER_CHANGED)
    assert erp_client.post("/_sim/events/evt_nope/redeliver").status_code == 404


def test_without_events_url_events_are_kept_not_sent() -> None:
    with serve(create_app(build_dataset(7), latency_ms=0)) as erp, httpx.Client(base_url=erp.base_url) as client:
        answer = client.post("/_sim/changes/stock", json={"sku": "PE-10000", "location_id": 2, "on_hand": 9}).json()
        assert answer["event"]["status"] == "not_sent"
        listed = client.get("/_sim/events", params={"type": events.STOCK_CHANGED}).json()
        assert [e["id"] for e in listed["events"]] == [answer["event"]["id"]] and listed["emitted"] == 1
        envelope.validate(listed["events"][0]["envelope"])


def test_events_url_without_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        create_app(build_dataset(7), events_url="http://127.0.0.1:1/events/erp")
