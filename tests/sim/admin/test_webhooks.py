"""Hooks (``/v3/hooks``) and the webhooks the simulator emits: to every active hook whose scope matches,
BigCommerce's payload, signed per Standard Webhooks with base64(client secret), the hook's headers along,
one ``webhook-id`` per event kept across retries, a ``hash`` of ``data`` only, and a ``traceparent``."""
from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pricing_edge.jsonio import dumps
from pricing_edge.ops import tracing
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import CLIENT_SECRET, STORE_HASH, Sim, order_body
from tests.support.receiver import Delivery, Receiver
from tests.support.polling import wait_until
from tests.support.servers import ServerThread


def call(rest: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    return rest.request(method, path, content=dumps(body) if body is not None else None)


def hook(rest: httpx.Client, scope: str, destination: str, **extra: Any) -> dict[str, Any]:
    response = call(rest, "POST", "/v3/hooks", {"scope": scope, "destination": destination, **extra})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


def payloads(received: list[Delivery]) -> list[dict[str, Any]]:
    return [orjson.loads(r.body) for r in received]


def new_order(rest: httpx.Client, dataset: Dataset, **extra: Any) -> int:
    response = call(rest, "POST", "/v2/orders", order_body(dataset, **extra))
    assert response.status_code == 200, response.text
    order_id: int = response.json()["id"]
    return order_id


def test_hooks_crud_and_validation(sim: Sim) -> None:
    with sim.rest() as rest:
        created = hook(rest, "store/order/created", "https://example.com/a", headers={"X-Key": "v"},
                       events_history_enabled=True)
        assert {k: created[k] for k in ("scope", "destination", "is_active", "headers", "events_history_enabled",
                                        "store_hash")} == {
            "scope": "store/order/created", "destination": "https://example.com/a", "is_active": True,
            "headers": {"X-Key": "v"}, "events_history_enabled": True, "store_hash": STORE_HASH}
        other = hook(rest, "store/shipment/*", "https://example.com/b", is_active=False)
        listed = rest.get("/v3/hooks").json()
        assert [h["id"] for h in listed["data"]] == [created["id"], other["id"]]
        assert listed["meta"]["pagination"]["total"] == 2
        assert [h["id"] for h in rest.get("/v3/hooks", params={"is_active": "false"}).json()["data"]] == [other["id"]]
        updated = call(rest, "PUT", f"/v3/hooks/{other['id']}", {"is_active": True, "headers": {"A": "1"}})
        assert updated.status_code == 200 and updated.json()["data"]["is_active"] is True
        assert updated.json()["data"]["headers"] == {"A": "1"}
        for body, field in (({"scope": "order created", "destination": "https://e.com"}, "scope"),
                            ({"scope": "store/order/created", "destination": "ftp://e.com"}, "destination"),
                            ({"scope": "store/order/created"}, "destination"),
                            ({"scope": "store/order/created", "destination": "https://e.com", "headers": {"a": 1}},
                             "headers"),
                            ({"scope": "store/order/created", "destination": "https://e.com", "is_active": "yes"},
                             "is_active")):
            refused = call(rest, "POST", "/v3/hooks", body)
            assert refused.status_code == 422, refused.text
            assert refused.json()["status"] == 422 and field in refused.json()["errors"]
        assert call(rest, "PUT", f"/v3/hooks/{other['id']}", {}).status_code == 422
        assert call(rest, "POST", "/v3/hooks", None).status_code == 400
        assert call(rest, "DELETE", f"/v3/hooks/{created['id']}").json()["data"]["id"] == created["id"]
        assert rest.get(f"/v3/hooks/{created['id']}").status_code == 404
        assert call(rest, "PUT", f"/v3/hooks/{created['id']}", {"is_active": True}).status_code == 404
        assert len(rest.get("/v3/hooks").json()["data"]) == 1


def test_a_created_order_is_signed_and_shaped_as_bigcommerce_sends_it(
        sim: Sim, dataset: Dataset, receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    with sim.rest() as rest:
        hook(rest, "store/order/created", server.base_url + "/webhooks/bigcommerce",
             headers={"X-Webhook-Token": "shared-secret"})
        order_id = new_order(rest, dataset)
    [delivery] = wait_until(rec.received, what="the store/order/created webhook")
    headers = delivery.headers
    # Verifies with the Standard Webhooks library and base64(client secret) — and with nothing else.
    verified = Webhook(base64.b64encode(CLIENT_SECRET.encode()).decode()).verify(delivery.body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(base64.b64encode(b"another-secret").decode()).verify(delivery.body, headers)
    assert headers["x-webhook-token"] == "shared-secret"
    assert headers["content-type"] == "application/json"
    assert tracing.is_valid(headers.get("traceparent"))
    assert verified["scope"] == "store/order/created"
    assert verified["data"] == {"type": "order", "id": order_id}
    assert verified["store_id"] == sim.admin.store_id and verified["store_id"].isdigit()
    assert verified["producer"] == f"stores/{STORE_HASH}"
    assert isinstance(verified["created_at"], int)
    assert verified["hash"] == hashlib.sha1(orjson.dumps(verified["data"])).hexdigest()
    [listed] = sim.deliveries()
    assert (listed["status"], listed["attempts"], listed["webhook_id"]) == ("delivered", 1, headers["webhook-id"])


def test_status_updated_only_when_the_status_changes(sim: Sim, dataset: Dataset,
                                                     receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    with sim.rest() as rest:
        hook(rest, "store/order/*", server.base_url + "/webhooks/bigcommerce")
        order_id = new_order(rest, dataset, status_id=1)
        wait_until(lambda: len(rec.received()) == 1, what="the created webhook")
        assert call(rest, "PUT", f"/v2/orders/{order_id}", {"staff_notes": "looked at"}).status_code == 200
        wait_until(lambda: len(rec.received()) == 2, what="the first updated webhook")
        assert call(rest, "PUT", f"/v2/orders/{order_id}", {"status_id": 11}).status_code == 200
        wait_until(lambda: len(rec.received()) == 4, what="updated + statusUpdated")
        assert call(rest, "PUT", f"/v2/orders/{order_id}", {"status_id": 11}).status_code == 200  # no change
        wait_until(lambda: len(rec.received()) == 5, what="the last updated webhook")
    got = payloads(rec.received())
    assert [p["scope"] for p in got[:2]] == ["store/order/created", "store/order/updated"]
    assert sorted(p["scope"] for p in got[2:4]) == ["store/order/statusUpdated", "store/order/updated"]
    assert got[4]["scope"] == "store/order/updated"
    [status] = [p for p in got if p["scope"] == "store/order/statusUpdated"]
    assert status["data"] == {"type": "order", "id": order_id,
                              "status": {"previous_status_id": 1, "new_status_id": 11}}
    updates = [p for p in got if p["scope"] == "store/order/updated"]
    # hash is a hash of data: every update of the order has the same one, so only webhook-id can dedupe
    assert len({p["hash"] for p in updates}) == 1
    update_ids = [r.headers["webhook-id"] for r in rec.received() if orjson.loads(r.body)["scope"] == "store/order/updated"]
    assert len(set(update_ids)) == 3


def test_a_failing_destination_gets_the_same_webhook_id_until_it_answers_2xx(
        sim: Sim, dataset: Dataset, receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    rec.script = [500, 503, 404]
    with sim.rest() as rest:
        hook(rest, "store/order/created", server.base_url + "/webhooks/bigcommerce")
        new_order(rest, dataset)
    wait_until(lambda: sim.deliveries(status="delivered"), what="the delivery to succeed")
    got = rec.received()
    assert len(got) == 4
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    secret = Webhook(base64.b64encode(CLIENT_SECRET.encode()).decode())
    for attempt in got:
        secret.verify(attempt.body, attempt.headers)  # every retry is signed afresh
    [delivery] = sim.deliveries()
    assert (delivery["attempts"], delivery["last_status"]) == (4, 200)


def test_a_destination_that_never_answers_2xx_gives_up_after_the_last_attempt(
        sim: Sim, dataset: Dataset, receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    rec.status = 500
    with sim.rest() as rest:
        hook(rest, "store/order/created", server.base_url + "/webhooks/bigcommerce")
        new_order(rest, dataset)
    [failed] = wait_until(lambda: sim.deliveries(status="failed"), what="the delivery to give up")
    assert failed["attempts"] == sim.admin.webhooks.policy.max_attempts == len(rec.received())
    redelivered = httpx.post(f"{sim.server.base_url}/_sim/webhooks/{failed['seq']}/redeliver").json()
    assert redelivered["webhook_id"] == failed["webhook_id"]


def test_a_hook_whose_delivery_fails_every_retry_is_deactivated_until_put_back(
        sim: Sim, dataset: Dataset, receiver: tuple[Receiver, ServerThread]) -> None:
    """As BigCommerce does: a hook that keeps failing is switched off, and nothing more is sent to it."""
    rec, server = receiver
    rec.status = 500
    with sim.rest() as rest:
        created = hook(rest, "store/order/created", server.base_url + "/webhooks/bigcommerce")
        new_order(rest, dataset)
        wait_until(lambda: sim.deliveries(status="failed"), what="the delivery to give up")
        assert call(rest, "GET", f"/v3/hooks/{created['id']}").json()["data"]["is_active"] is False
        new_order(rest, dataset)
        assert len(sim.deliveries()) == 1  # an inactive hook gets nothing
        rec.status = 200
        assert call(rest, "PUT", f"/v3/hooks/{created['id']}", {"is_active": True}).status_code == 200
        new_order(rest, dataset)
        wait_until(lambda: sim.deliveries(status="delivered"), what="the re-activated hook to receive")


def test_only_active_matching_hooks_receive(sim: Sim, dataset: Dataset,
                                            receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    url = server.base_url + "/webhooks/bigcommerce"
    with sim.rest() as rest:
        hook(rest, "store/order/statusUpdated", url, headers={"X-Hook": "exact"})
        hook(rest, "store/shipment/*", url, headers={"X-Hook": "shipments"})
        hook(rest, "store/order/*", url, headers={"X-Hook": "inactive"}, is_active=False)
        hook(rest, "store/cart/*", url, headers={"X-Hook": "carts"})
        order_id = new_order(rest, dataset, status_id=11)
        line = rest.get(f"/v2/orders/{order_id}/products").json()[0]
        shipped = call(rest, "POST", f"/v2/orders/{order_id}/shipments", {
            "order_address_id": line["order_address_id"], "items": [{"order_product_id": line["id"], "quantity": 1}]})
        assert shipped.status_code == 201
    wait_until(lambda: sim.admin.webhooks.in_flight == 0 and len(rec.received()) >= 2, what="every delivery done")
    got = {(r.headers["x-hook"], orjson.loads(r.body)["scope"]) for r in rec.received()}
    assert got == {("exact", "store/order/statusUpdated"), ("shipments", "store/shipment/created")}
    shipment_payload = next(orjson.loads(r.body) for r in rec.received() if r.headers["x-hook"] == "shipments")
    assert shipment_payload["data"] == {"type": "shipment", "id": shipped.json()["id"], "orderId": order_id}
    assert [scope for scope, _ in sim.admin.emitted] == [
        "store/order/created", "store/shipment/created", "store/order/updated", "store/order/statusUpdated"]


def test_every_attempt_of_a_delivery_carries_its_span_s_trace(sim: Sim, dataset: Dataset,
                                                             receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    rec.script = [500]
    with sim.rest() as rest:
        hook(rest, "store/order/created", server.base_url + "/webhooks/bigcommerce")
        new_order(rest, dataset)
    wait_until(lambda: len(rec.received()) == 2, what="a retried delivery")
    [delivery] = sim.deliveries()
    parents = [r.headers["traceparent"] for r in rec.received()]
    # one bigcommerce.webhook span per delivery: both attempts carry its trace
    assert {tracing.trace_id(p) for p in parents} == {tracing.trace_id(delivery["traceparent"])}
