"""Secrets rotate without downtime: while a setting lists two (``new,old``), both are accepted — the ERP's
event secret, BigCommerce's client secret, the impersonation token — and once the old one is removed
only the new one is. A sender in rotation signs with both (Standard Webhooks allows several signatures),
so receivers that know either accept it."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, edge_app, erp_sim_app
from pricing_edge.domain import events
from pricing_edge.intake import envelope
from pricing_edge.intake.bigcommerce_webhooks import BigCommerceWebhookIntake, signing_secret
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from pricing_edge.store.embedded import EmbeddedStore
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve

OLD, NEW, OTHER = envelope.generate_secret(), envelope.generate_secret(), envelope.generate_secret()
DATA = {"price_list_id": 2, "sku": "PE-10000", "currency": "USD", "price": "12.50", "version": 7}


def test_a_signature_by_either_listed_secret_passes_and_a_sender_in_rotation_signs_with_both() -> None:
    for signer in (OLD, NEW):
        event = envelope.signed_event(events.PRICE_CHANGED, DATA, source="urn:test", secret=signer)
        envelope.verify(event.headers, event.body, f"{NEW},{OLD}")
    stranger = envelope.signed_event(events.PRICE_CHANGED, DATA, source="urn:test", secret=OTHER)
    with pytest.raises(envelope.SignatureError):
        envelope.verify(stranger.headers, stranger.body, f"{NEW},{OLD}")
    both = envelope.signed_event(events.PRICE_CHANGED, DATA, source="urn:test", secret=f"{NEW},{OLD}")
    assert len(both.headers["webhook-signature"].split(" ")) == 2
    for receiver in (NEW, OLD):  # a receiver not yet rotated, and one already rotated
        envelope.verify(both.headers, both.body, receiver)


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[tuple[Settings, ServerThread]]:
    """An edge whose event secret, client secret and impersonation token are all mid-rotation."""
    port, bc_port, erp_port = free_port(), free_port(), free_port()
    settings = replace(demo_settings(Settings.from_env({}), DemoLayout(port)), event_secret=f"{NEW},{OLD}",
                       client_secret="client-secret-new,client-secret-old",
                       impersonation_token="impersonation-new,impersonation-old",
                       upstream_url=f"http://127.0.0.1:{bc_port}/graphql", erp_url=f"http://127.0.0.1:{erp_port}",
                       schema_cache=str(tmp_path / "schema.json"), bc_latency_ms=0.0, erp_latency_ms=0.0)
    with serve(bigcommerce_sim_app(settings), bc_port), serve(erp_sim_app(settings), erp_port), \
            serve(edge_app(settings, EmbeddedStore(announce=False)), port) as server:
        yield settings, server


def test_the_edge_accepts_events_webhooks_and_tokens_signed_with_either_during_a_rotation(
        edge: tuple[Settings, ServerThread]) -> None:
    settings, server = edge
    for secret in (NEW, OLD):
        event = envelope.signed_event(events.PRICE_CHANGED, DATA, source="urn:test", secret=secret)
        assert httpx.post(server.base_url + "/events/erp", content=event.body, headers=event.headers,
                          timeout=30).status_code == 202
    stranger = envelope.signed_event(events.PRICE_CHANGED, DATA, source="urn:test", secret=OTHER)
    assert httpx.post(server.base_url + "/events/erp", content=stranger.body, headers=stranger.headers,
                      timeout=30).status_code == 401

    body = b'{"scope":"store/order/created","store_id":"1","data":{"type":"order","id":5},"hash":"x","created_at":1,' \
           b'"producer":"stores/demo"}'
    for n, client_secret in enumerate(("client-secret-new", "client-secret-old", "client-secret-other")):
        headers = {**envelope.sign(body, f"msg_rotation_{n}", signing_secret(client_secret)),
                   "content-type": "application/json"}
        answer = httpx.post(server.base_url + "/webhooks/bigcommerce", content=body, headers=headers, timeout=30)
        assert answer.status_code == (401 if client_secret.endswith("other") else 200), client_secret

    # the edge trusts both tokens to name the buyer: the buyer's own ERP price, not the guest's
    fixtures = demo_fixtures(build_dataset(settings.seed), DemoLayout(int(server.port)), settings)
    buyer = fixtures["buyers"][0]
    product = next(p for p in fixtures["products"]
                   if p["expected_price"][str(buyer["customer_id"])] != p["expected_price"]["guest"])
    query = {"query": "query P($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }",
             "variables": {"id": product["entity_id"]}}
    for token in ("impersonation-new", "impersonation-old"):
        answer = httpx.post(server.base_url + "/graphql", json=query, timeout=30,
                            headers={"authorization": f"Bearer {token}", "x-bc-customer-id": str(buyer["customer_id"])})
        price = answer.json()["data"]["site"]["product"]["prices"]["price"]["value"]
        assert Decimal(str(price)) == Decimal(product["expected_price"][str(buyer["customer_id"])]), token


def test_after_the_rotation_only_the_new_client_secret_is_accepted() -> None:
    intake = BigCommerceWebhookIntake(EmbeddedStore(announce=False), EdgeMetrics(), client_secret="client-secret-new")
    app = Starlette(routes=[Route("/webhooks/bigcommerce", intake, methods=["POST"])])
    body = b'{"scope":"store/order/created","store_id":"1","data":{"type":"order","id":5},"hash":"x","created_at":1,' \
           b'"producer":"stores/demo"}'
    with serve(app) as server:
        for n, secret in enumerate(("client-secret-new", "client-secret-old")):
            headers = {**envelope.sign(body, f"msg_after_{n}", signing_secret(secret)), "content-type": "application/json"}
            answer = httpx.post(server.base_url + "/webhooks/bigcommerce", content=body, headers=headers, timeout=30)
            assert answer.status_code == (200 if secret.endswith("new") else 401)
