"""The REST Admin simulator speaks BigCommerce's contract: every request the tests send and every answer the
simulator gives validates against the vendor's ``orders.v2.oas2.yml`` and ``webhooks.v3.yml`` (openapi-core),
and every webhook it emits against the callback schemas (``webhooks/callbacks/*.yml`` and the webhooks spec).
"""
from __future__ import annotations

from typing import Any

import httpx
import orjson

from pricing_edge.jsonio import dumps
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import (
    ORDERS_SPEC,
    WEBHOOKS_SPEC,
    Sim,
    check,
    check_callback,
    order_body,
)
from tests.support.polling import wait_until
from tests.support.receiver import Receiver
from tests.support.servers import ServerThread


def send(client: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    content = dumps(body) if body is not None else None
    return client.request(method, path, content=content)


def test_an_order_from_create_to_shipment_matches_the_orders_spec(sim: Sim, dataset: Dataset) -> None:
    with sim.rest() as rest:
        created = send(rest, "POST", "/v2/orders", order_body(dataset))
        assert created.status_code == 200, created.text
        check(ORDERS_SPEC, created)
        order_id = created.json()["id"]

        for path in (f"/v2/orders/{order_id}", "/v2/orders", f"/v2/orders?min_id={order_id}&status_id=11&limit=5",
                     f"/v2/orders/{order_id}/products", f"/v2/orders/{order_id}/shipping_addresses",
                     "/v2/order_statuses"):
            response = send(rest, "GET", path)
            assert response.status_code == 200, (path, response.text)
            check(ORDERS_SPEC, response)

        updated = send(rest, "PUT", f"/v2/orders/{order_id}",
                       {"status_id": 9, "external_order_id": "SO-100001", "staff_notes": "Released to the ERP"})
        assert updated.status_code == 200, updated.text
        check(ORDERS_SPEC, updated)

        no_shipments = send(rest, "GET", f"/v2/orders/{order_id}/shipments")
        assert no_shipments.status_code == 204
        check(ORDERS_SPEC, no_shipments)

        lines = send(rest, "GET", f"/v2/orders/{order_id}/products").json()
        address_id = lines[0]["order_address_id"]
        shipment = send(rest, "POST", f"/v2/orders/{order_id}/shipments", {
            "order_address_id": address_id, "tracking_number": "1Z999AA10123456784", "shipping_provider": "ups",
            "comments": "first box", "items": [{"order_product_id": lines[0]["id"], "quantity": 1}]})
        assert shipment.status_code == 201, shipment.text
        check(ORDERS_SPEC, shipment)
        shipments = send(rest, "GET", f"/v2/orders/{order_id}/shipments")
        assert shipments.status_code == 200
        check(ORDERS_SPEC, shipments)

        missing = send(rest, "GET", f"/v2/orders/{order_id + 1000}")
        assert missing.status_code == 404
        check(ORDERS_SPEC, missing)


def test_hooks_match_the_webhooks_spec(sim: Sim) -> None:
    with sim.rest() as rest:
        empty = send(rest, "GET", "/v3/hooks")
        assert empty.status_code == 200 and empty.json()["data"] == []
        check(WEBHOOKS_SPEC, empty)

        created = send(rest, "POST", "/v3/hooks", {"scope": "store/order/*", "destination": "https://example.com/wh",
                                                   "is_active": True, "headers": {"X-Secret": "s3cret"}})
        assert created.status_code == 200, created.text
        check(WEBHOOKS_SPEC, created)
        hook_id = created.json()["data"]["id"]

        for method, path, body in (("GET", "/v3/hooks", None), ("GET", f"/v3/hooks/{hook_id}", None),
                                   ("GET", "/v3/hooks?is_active=true&scope=store/order/*", None),
                                   ("PUT", f"/v3/hooks/{hook_id}", {"is_active": False, "headers": None}),
                                   ("DELETE", f"/v3/hooks/{hook_id}", None)):
            response = send(rest, method, path, body)
            assert response.status_code == 200, (method, path, response.text)
            check(WEBHOOKS_SPEC, response)

        gone = send(rest, "GET", f"/v3/hooks/{hook_id}")
        assert gone.status_code == 404
        check(WEBHOOKS_SPEC, gone)


def test_emitted_webhooks_match_the_callback_schemas(sim: Sim, dataset: Dataset,
                                                      receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    destination = server.base_url + "/webhooks/bigcommerce"
    with sim.rest() as rest:
        for scope in ("store/order/*", "store/shipment/created"):
            assert send(rest, "POST", "/v3/hooks", {"scope": scope, "destination": destination}).status_code == 200
        order = send(rest, "POST", "/v2/orders", order_body(dataset, status_id=1)).json()
        send(rest, "PUT", f"/v2/orders/{order['id']}", {"status_id": 11})
        line = send(rest, "GET", f"/v2/orders/{order['id']}/products").json()[0]
        send(rest, "POST", f"/v2/orders/{order['id']}/shipments",
             {"order_address_id": line["order_address_id"], "items": [{"order_product_id": line["id"], "quantity": 1}]})

    # created; updated + statusUpdated; shipment created + order updated + statusUpdated (to Partially Shipped)
    wait_until(lambda: len(rec.received()) >= 6, what="six webhook deliveries")
    payloads = [orjson.loads(r.body) for r in rec.received()]
    scopes = sorted(p["scope"] for p in payloads)
    assert scopes == sorted(["store/order/created", "store/order/updated", "store/order/statusUpdated",
                             "store/shipment/created", "store/order/updated", "store/order/statusUpdated"])
    for payload in payloads:
        check_callback(payload["scope"], payload)
