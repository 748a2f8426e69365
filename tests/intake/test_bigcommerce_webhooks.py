"""``POST /webhooks/bigcommerce`` over real HTTP: authenticated deliveries are appended once per ``webhook-id``,
everything else changes nothing.

The intake is mounted on a bare Starlette route (as the edge mounts it) and served by uvicorn, against the
embedded store and a real Redis; the test reads the intake stream through its own view of the same store.
Deliveries are signed here with the Standard Webhooks library and the key BigCommerce uses (base64 of the
app's client secret), independently of the intake's own code.
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.routing import Route

from pricing_edge.config import Settings
from pricing_edge.domain import events
from pricing_edge.edge.app import create_edge_app
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.intake import envelope
from pricing_edge.intake.bigcommerce_webhooks import (
    MAX_WEBHOOK_BYTES,
    SCHEMA_PATH,
    BigCommerceWebhookIntake,
    parse_header_setting,
    signing_secret,
)
from pricing_edge.intake.erp_events import ErpEventIntake
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StreamEntry
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, ERP_INTAKE, Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.redis_server import free_port
from tests.support.servers import serve
from tests.support.specs import require_spec

CLIENT_SECRET = "bc-app-client-secret-for-tests"
HEADER_NAME, HEADER_VALUE = "X-Pricing-Edge-Hook", "registration-value-7f3a"
HEADER_SETTING = f"{HEADER_NAME}: {HEADER_VALUE}"
READER_GROUP = "test-reader"
WEBHOOKS = "pricing_edge_bigcommerce_webhooks_total"
SPEC_DATA = "bigcommerce/webhooks/callbacks/data"

ORDER_UPDATED = {"scope": "store/order/updated", "store_id": "1025646", "data": {"type": "order", "id": 250},
                 "hash": "dd70c0976e06b67aaf671e73f49dcb79230ebf9d", "created_at": 1561479335,
                 "producer": "stores/abc123"}


@dataclass
class Intake:
    url: str  # the full URL of POST /webhooks/bigcommerce
    store: Store  # the test's own view of the store the intake appends to
    metrics: EdgeMetrics


StartIntake = Callable[..., Intake]


@pytest.fixture
def start_intake(store: Store) -> Iterator[StartIntake]:
    """Start an intake (configured as asked) on the store under test, served over real HTTP."""
    with ExitStack() as stack:
        def start(*, client_secret: str | None = CLIENT_SECRET, webhook_header: str | None = None,
                  on: Store | None = None) -> Intake:
            target = on or store
            # A real Redis gets a second client for the server's thread and loop (as another process would
            # have); the embedded store can only be shared.
            server_store: Store = (RedisStore(target.url, target.keys) if isinstance(target, RedisStore)
                                   else target)
            metrics = EdgeMetrics()

            @asynccontextmanager
            async def lifespan(app: Starlette) -> AsyncIterator[None]:
                yield
                if server_store is not target:
                    await server_store.aclose()

            intake = BigCommerceWebhookIntake(server_store, metrics, client_secret=client_secret,
                                              webhook_header=webhook_header)
            app = Starlette(routes=[Route("/webhooks/bigcommerce", intake, methods=["POST"])], lifespan=lifespan)
            server = stack.enter_context(serve(app))
            return Intake(f"{server.base_url}/webhooks/bigcommerce", target, metrics)

        yield start


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


def new_webhook_id() -> str:
    return str(uuid.uuid4())


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()  # not orjson: BigCommerce's own spacing must pass through untouched


def sign(body: bytes, webhook_id: str, *, client_secret: str = CLIENT_SECRET,
         at: datetime | None = None) -> dict[str, str]:
    """What BigCommerce sends: Standard Webhooks headers keyed with base64(client secret)."""
    moment = at or datetime.now(UTC)
    webhook = Webhook(base64.b64encode(client_secret.encode()).decode())
    return {"content-type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": webhook.sign(webhook_id, moment, body.decode())}


def delivery(payload: Any = None, webhook_id: str | None = None) -> tuple[bytes, dict[str, str], str]:
    webhook_id = webhook_id or new_webhook_id()
    body = encode(ORDER_UPDATED if payload is None else payload)
    return body, sign(body, webhook_id), webhook_id


async def entries(store: Store, stream: str = BIGCOMMERCE_INTAKE) -> list[StreamEntry]:
    """Everything on the intake stream so far (a fresh group reads from the start)."""
    await store.ensure_group(stream, READER_GROUP)
    found: list[StreamEntry] = []
    while batch := await store.read_group(stream, READER_GROUP, "reader", 1000, 10):
        found += batch
    return found


def count(intake: Intake, scope: str, outcome: str) -> float:
    return intake.metrics.value(WEBHOOKS, {"scope": scope, "outcome": outcome})


# --- accepted, once per webhook-id ---------------------------------------------------------------

async def test_a_signed_delivery_is_accepted_and_appended_with_its_fields(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake()
    body, headers, webhook_id = delivery()
    before = int(time.time() * 1000)
    response = await http.post(intake.url, content=body, headers=headers)
    after = int(time.time() * 1000)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": True, "duplicate": False, "id": webhook_id}

    [(_, fields)] = await entries(intake.store)
    assert set(fields) == {"type", "body", "webhook_id", "traceparent", "received_at"}
    assert fields["type"] == b"store/order/updated"
    assert fields["body"] == body  # the exact bytes that were signed
    assert fields["webhook_id"] == webhook_id.encode()
    assert tracing.is_valid(fields["traceparent"].decode())  # none came in: a fresh trace
    assert before <= int(fields["received_at"]) <= after
    assert count(intake, "store/order/updated", "accepted") == 1


async def test_an_incoming_traceparent_is_continued_and_an_invalid_one_replaced(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake()
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    body, headers, _ = delivery()
    assert (await http.post(intake.url, content=body, headers={**headers, "traceparent": incoming})).status_code == 200
    body, headers, _ = delivery()
    bogus = "00-00000000000000000000000000000000-0000000000000000-01"
    assert (await http.post(intake.url, content=body, headers={**headers, "traceparent": bogus})).status_code == 200
    first, second = await entries(intake.store)
    continued = first[1]["traceparent"].decode()  # the intake span's own: same trace, a child of the caller's
    assert tracing.trace_id(continued) == tracing.trace_id(incoming) and continued != incoming
    replaced = second[1]["traceparent"].decode()
    assert replaced != bogus and tracing.is_valid(replaced)


async def test_the_same_delivery_five_times_at_once_is_appended_once(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake()
    body, headers, webhook_id = delivery()
    responses = await asyncio.gather(*(http.post(intake.url, content=body, headers=headers) for _ in range(5)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True, True]
    assert {r.json()["id"] for r in responses} == {webhook_id}
    assert len(await entries(intake.store)) == 1
    assert count(intake, "store/order/updated", "duplicate") == 4


async def test_a_retry_re_signed_later_is_a_duplicate(start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake()
    webhook_id = new_webhook_id()
    body = encode(ORDER_UPDATED)
    first = await http.post(intake.url, content=body, headers=sign(body, webhook_id,
                                                                   at=datetime.now(UTC) - timedelta(seconds=90)))
    retry = await http.post(intake.url, content=body, headers=sign(body, webhook_id))
    assert first.json()["duplicate"] is False and retry.status_code == 200 and retry.json()["duplicate"] is True
    assert len(await entries(intake.store)) == 1


async def test_deliveries_with_the_same_hash_and_data_but_other_ids_are_all_appended(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    """Five updates of one order: same data, same hash — five webhooks, none a duplicate of another."""
    intake = start_intake()
    sent = [delivery() for _ in range(5)]
    assert len({body for body, _, _ in sent}) == 1  # byte-identical bodies
    responses = await asyncio.gather(*(http.post(intake.url, content=body, headers=headers)
                                       for body, headers, _ in sent))
    assert [r.json()["duplicate"] for r in responses] == [False] * 5
    stored = await entries(intake.store)
    assert sorted(fields["webhook_id"].decode() for _, fields in stored) == sorted(wid for _, _, wid in sent)


# --- not from BigCommerce: 401, nothing appended ---------------------------------------------------

def _wrong_secret(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body, sign(body, webhook_id, client_secret="some-other-app")


def _tampered_body(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body.replace(b'"id": 250', b'"id": 251'), headers


def _bad_signature(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body, {**headers, "webhook-signature": "v1,QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}


def _garbage_signature(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body, {**headers, "webhook-signature": "garbage"}


def _no_signature(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body, {k: v for k, v in headers.items() if k != "webhook-signature"}


def _stale(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body, sign(body, webhook_id, at=datetime.now(UTC) - timedelta(minutes=10))


def _other_id(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    return body, {**headers, "webhook-id": new_webhook_id()}


def _secret_used_raw(body: bytes, headers: dict[str, str], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    # Keyed with the client secret's bytes base64-*decoded* rather than encoded: not BigCommerce's key.
    moment = datetime.now(UTC)
    webhook = Webhook("whsec_" + base64.b64encode(base64.b64encode(CLIENT_SECRET.encode())).decode())
    return body, {**headers, "webhook-timestamp": str(int(moment.timestamp())),
                  "webhook-signature": webhook.sign(webhook_id, moment, body.decode())}


@pytest.mark.parametrize("forge", [_wrong_secret, _tampered_body, _bad_signature, _garbage_signature,
                                   _no_signature, _stale, _other_id, _secret_used_raw])
async def test_unverifiable_deliveries_are_refused_with_401_and_change_nothing(
        start_intake: StartIntake, http: httpx.AsyncClient, forge: Any) -> None:
    intake = start_intake()
    body, headers, webhook_id = delivery()
    forged_body, forged_headers = forge(body, headers, webhook_id)
    response = await http.post(intake.url, content=forged_body, headers=forged_headers)
    assert response.status_code == 401, response.text
    assert "signature" in response.json()["error"]
    assert await entries(intake.store) == []
    assert count(intake, "unknown", "unauthorized") == 1
    # Refusing a forgery must not burn its id: the genuine delivery still gets in afterwards.
    genuine = await http.post(intake.url, content=body, headers=headers)
    assert genuine.status_code == 200 and genuine.json()["duplicate"] is False


# --- the custom header, alone and together with the signature ------------------------------------

async def test_custom_header_mode_accepts_the_header_and_needs_a_webhook_id(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake(client_secret=None, webhook_header=HEADER_SETTING)
    body, webhook_id = encode(ORDER_UPDATED), new_webhook_id()
    good = {"content-type": "application/json", HEADER_NAME: HEADER_VALUE, "webhook-id": webhook_id}

    ok = await http.post(intake.url, content=body, headers=good)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"accepted": True, "duplicate": False, "id": webhook_id}
    again = await http.post(intake.url, content=body, headers={**good, HEADER_NAME.lower(): HEADER_VALUE})
    assert again.json()["duplicate"] is True  # header names are case-insensitive; dedup by webhook-id

    for headers in ({**good, HEADER_NAME: HEADER_VALUE + "x"}, {**good, HEADER_NAME: HEADER_VALUE[:-1]},
                    {k: v for k, v in good.items() if k != HEADER_NAME}, {**good, HEADER_NAME: ""}):
        refused = await http.post(intake.url, content=body, headers={**headers, "webhook-id": new_webhook_id()})
        assert refused.status_code == 401, refused.text
        assert HEADER_NAME.lower() in refused.json()["error"]

    odd_id = await http.post(intake.url, content=body, headers={**good, "webhook-id": "has space"})
    assert odd_id.status_code == 400 and "webhook-id" in odd_id.json()["error"]

    assert len(await entries(intake.store)) == 1
    assert count(intake, "unknown", "unauthorized") == 4 and count(intake, "unknown", "rejected") == 1


async def test_header_only_deliveries_without_webhook_id_are_accepted_once_per_scope_data_and_time(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    """BigCommerce may send only the custom header: refusing those would fail every delivery (and get the hook
    deactivated). The dedup key is scope + data + created_at, so a retry is a duplicate but a later update of
    the same order (same data, same hash) is not."""
    intake = start_intake(client_secret=None, webhook_header=HEADER_SETTING)
    headers = {"content-type": "application/json", HEADER_NAME: HEADER_VALUE}
    first = await http.post(intake.url, content=encode(ORDER_UPDATED), headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False and first.json()["id"].startswith("derived_")
    retry = await http.post(intake.url, content=encode(ORDER_UPDATED), headers=headers)
    assert retry.json() == {**first.json(), "duplicate": True}
    later = await http.post(intake.url, content=encode({**ORDER_UPDATED, "created_at": 1561479336}),
                            headers=headers)
    assert later.json()["duplicate"] is False
    other_scope = await http.post(intake.url, content=encode({**ORDER_UPDATED, "scope": "store/order/created"}),
                                  headers=headers)
    assert other_scope.json()["duplicate"] is False
    unauthenticated = await http.post(intake.url, content=encode({**ORDER_UPDATED, "created_at": 1}),
                                      headers={"content-type": "application/json"})
    assert unauthenticated.status_code == 401
    stored = await entries(intake.store)
    assert len(stored) == 3
    assert stored[0][1]["webhook_id"].decode() == first.json()["id"]


async def test_a_signature_configured_still_requires_webhook_id(start_intake: StartIntake,
                                                               http: httpx.AsyncClient) -> None:
    intake = start_intake(client_secret=CLIENT_SECRET, webhook_header=HEADER_SETTING)
    response = await http.post(intake.url, content=encode(ORDER_UPDATED),
                               headers={"content-type": "application/json", HEADER_NAME: HEADER_VALUE})
    assert response.status_code == 401
    assert await entries(intake.store) == []


async def test_the_custom_header_rotates_like_the_other_secrets(start_intake: StartIntake,
                                                                http: httpx.AsyncClient) -> None:
    intake = start_intake(client_secret=None, webhook_header=f"{HEADER_NAME}: new-value-1, {HEADER_VALUE}")
    for value, status in (("new-value-1", 200), (HEADER_VALUE, 200), ("retired-value", 401),
                          (f"new-value-1, {HEADER_VALUE}", 401)):
        response = await http.post(intake.url, content=encode(ORDER_UPDATED),
                                   headers={"content-type": "application/json", HEADER_NAME: value,
                                            "webhook-id": new_webhook_id()})
        assert response.status_code == status, (value, response.text)
    assert len(await entries(intake.store)) == 2


async def test_with_both_configured_both_are_required(start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake(client_secret=CLIENT_SECRET, webhook_header=HEADER_SETTING)
    body, signed, _ = delivery()
    only_signature = await http.post(intake.url, content=body, headers=signed)
    assert only_signature.status_code == 401 and HEADER_NAME.lower() in only_signature.json()["error"]
    only_header = await http.post(intake.url, content=body, headers={HEADER_NAME: HEADER_VALUE,
                                                                     "webhook-id": signed["webhook-id"]})
    assert only_header.status_code == 401 and "signature" in only_header.json()["error"]
    badly_signed = await http.post(intake.url, content=body, headers={**signed, HEADER_NAME: HEADER_VALUE,
                                                                      "webhook-signature": "v1,AAAA"})
    assert badly_signed.status_code == 401
    assert await entries(intake.store) == []
    both = await http.post(intake.url, content=body, headers={**signed, HEADER_NAME: HEADER_VALUE})
    assert both.status_code == 200, both.text
    assert len(await entries(intake.store)) == 1


async def test_without_any_authentication_configured_everything_is_refused_with_503(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake(client_secret=None, webhook_header=None)
    body, headers, _ = delivery()
    for extra in ({}, {HEADER_NAME: HEADER_VALUE}):
        response = await http.post(intake.url, content=body, headers={**headers, **extra})
        assert response.status_code == 503, response.text
        assert "not configured" in response.json()["error"]
    assert await entries(intake.store) == []


def test_a_malformed_header_setting_fails_at_construction() -> None:
    assert parse_header_setting(" X-Hook :  a: b ") == ("x-hook", "a: b")
    for setting in ("no-colon", ": value", "Name:", "Bad Name: v"):
        with pytest.raises(ValueError, match="Name: value"):
            parse_header_setting(setting)
    assert signing_secret("s") == "whsec_" + base64.b64encode(b"s").decode()


# --- from BigCommerce, but malformed: 400 naming the problem, nothing appended ---------------------

def _with(**changes: Any) -> dict[str, Any]:
    return {**ORDER_UPDATED, **changes}


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in ORDER_UPDATED.items() if k != name}


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"scope": "store/order/updated", ', "not JSON"),
    (b"\xff\xfe not utf-8", "signature"),  # cannot even be verified: the signature covers UTF-8 text
    (encode([ORDER_UPDATED]), "not a JSON object"),
    (encode("store/order/updated"), "not a JSON object"),
    (encode(_without("scope")), "scope"),
    (encode(_with(data=[1, 2])), "data"),
    (encode(_without("hash")), "hash"),
    (encode(_without("created_at")), "created_at"),
    (encode(_without("producer")), "producer"),
    (encode(_without("store_id")), "store_id"),
    (encode(_with(scope=42)), "scope"),
    (encode(_with(scope="order/updated")), "scope"),
    (encode(_with(scope="store/order/updated\n")), "scope"),
    (encode(_with(scope="store/order/../updated")), "scope"),
    (encode(_with(created_at="1561479335")), "created_at"),
    (encode(_with(created_at=1561479335.5)), "created_at"),
    (encode(_with(store_id=10.5)), "store_id"),
    (encode(_with(store_id=None)), "store_id"),
    (encode(_with(hash=None)), "hash"),
    (encode(_with(data="order 250")), "data"),
])
async def test_malformed_deliveries_are_refused_with_400_naming_the_problem(
        start_intake: StartIntake, http: httpx.AsyncClient, body: bytes, expected: str) -> None:
    intake = start_intake()
    webhook_id = new_webhook_id()
    try:
        headers = sign(body, webhook_id)
    except UnicodeDecodeError:  # the library signs text; sign the bytes another way (they never verify)
        headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(time.time())),
                   "webhook-signature": "v1,AAAA"}
    response = await http.post(intake.url, content=body, headers=headers)
    message = response.json()["error"]
    if expected == "signature":
        assert response.status_code == 401 and "UTF-8" in message, message
    else:
        assert response.status_code == 400, response.text
        assert message.startswith("invalid webhook: ") and expected in message, message
        assert count(intake, "unknown", "rejected") == 1
    assert await entries(intake.store) == []


async def test_a_numeric_store_id_and_extra_fields_are_accepted(
        start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake()
    body, headers, _ = delivery(_with(store_id=1025646, some_future_field={"x": 1}))
    response = await http.post(intake.url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert len(await entries(intake.store)) == 1


async def test_an_oversized_body_is_refused_with_413(start_intake: StartIntake, http: httpx.AsyncClient) -> None:
    intake = start_intake()
    body = encode(_with(data={"type": "order", "id": 250, "padding": "x" * MAX_WEBHOOK_BYTES}))
    response = await http.post(intake.url, content=body, headers=sign(body, new_webhook_id()))
    assert response.status_code == 413, response.text
    assert str(MAX_WEBHOOK_BYTES) in response.json()["error"]
    assert await entries(intake.store) == []


async def test_when_the_store_is_down_the_answer_is_503_retry_later(http: httpx.AsyncClient,
                                                                   start_intake: StartIntake) -> None:
    down = RedisStore(f"redis://127.0.0.1:{free_port()}/0", Keys("pe-test-down:"), socket_timeout=0.5)
    try:
        intake = start_intake(on=down)
        body, headers, _ = delivery()
        response = await http.post(intake.url, content=body, headers=headers)
        assert response.status_code == 503, response.text
        assert "retry later" in response.json()["error"]
        assert count(intake, "store/order/updated", "unavailable") == 1
    finally:
        await down.aclose()


# --- the vendor's payloads ------------------------------------------------------------------------

@pytest.mark.specs
@pytest.mark.parametrize("name", ["store_order_created", "store_order_statusUpdated", "store_order_updated",
                                  "store_cart_converted", "store_product_inventory_updated",
                                  "store_sku_inventory_order_updated", "store_customer_updated"])
async def test_the_vendors_example_payloads_are_accepted_as_they_are(
        start_intake: StartIntake, http: httpx.AsyncClient, name: str) -> None:
    intake = start_intake()
    body = require_spec(f"{SPEC_DATA}/{name}.json").read_bytes()  # BigCommerce's bytes, whitespace and all
    webhook_id = new_webhook_id()
    response = await http.post(intake.url, content=body, headers=sign(body, webhook_id))
    assert response.status_code == 200, response.text
    [(_, fields)] = await entries(intake.store)
    assert fields["body"] == body and fields["type"] == orjson.loads(body)["scope"].encode()


@pytest.mark.specs
@pytest.mark.parametrize("name", ["store_order_created", "store_order_statusUpdated"])
def test_our_schema_requires_exactly_the_fields_of_the_vendors_callback_spec(name: str) -> None:
    spec = yaml.safe_load(require_spec(f"bigcommerce/webhooks/callbacks/{name}.yml").read_text())
    [(scope, described)] = spec["properties"].items()
    ours = orjson.loads(SCHEMA_PATH.read_bytes())
    assert set(ours["required"]) == set(described["properties"])
    for field_name, field_spec in described["properties"].items():
        allowed = ours["properties"][field_name]["type"]
        assert field_spec["type"] in (allowed if isinstance(allowed, list) else [allowed]), field_name
    assert scope.startswith("store/")


# --- the edge serves it ---------------------------------------------------------------------------

async def test_the_edge_app_mounts_the_intake_with_its_settings(store: Store) -> None:
    settings = Settings(event_secret=envelope.generate_secret(), client_secret=CLIENT_SECRET,
                        webhook_header=HEADER_SETTING)
    app = create_edge_app(settings, store, SimulatedErpAdapter("http://127.0.0.1:9"))
    body, headers, webhook_id = delivery()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        refused = await client.post("/webhooks/bigcommerce", content=body, headers=headers)
        assert refused.status_code == 401  # the header is configured too
        accepted = await client.post("/webhooks/bigcommerce", content=body,
                                     headers={**headers, HEADER_NAME: HEADER_VALUE})
        assert accepted.status_code == 200 and accepted.json()["id"] == webhook_id
        metrics = (await client.get("/metrics")).text
    assert 'pricing_edge_bigcommerce_webhooks_total{outcome="accepted",scope="store/order/updated"} 1.0' in metrics
    assert len(await entries(store)) == 1


# --- the ERP intake stamps the same trace and receipt fields --------------------------------------

async def test_erp_intake_entries_carry_traceparent_and_received_at(store: Store) -> None:
    secret = envelope.generate_secret()
    intake = ErpEventIntake(store, secret, EdgeMetrics())
    app = Starlette(routes=[Route("/events/erp", intake, methods=["POST"])])
    data = {"price_list_id": 2, "sku": "PE-10000", "currency": "USD", "price": "12.50", "version": 7}
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    first = envelope.signed_event(events.PRICE_CHANGED, data, source="urn:test", secret=secret)
    second = envelope.signed_event(events.PRICE_CHANGED, data, source="urn:test", secret=secret)
    before = int(time.time() * 1000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        assert (await client.post("/events/erp", content=first.body,
                                  headers={**first.headers, "traceparent": incoming})).status_code == 202
        assert (await client.post("/events/erp", content=second.body,
                                  headers={**second.headers, "traceparent": "garbage"})).status_code == 202
    after = int(time.time() * 1000)
    (_, kept), (_, fresh) = await entries(store, ERP_INTAKE)
    kept_parent = kept["traceparent"].decode()
    assert tracing.trace_id(kept_parent) == tracing.trace_id(incoming) and kept_parent != incoming
    assert tracing.is_valid(fresh["traceparent"].decode()) and fresh["traceparent"] != b"garbage"
    for fields in (kept, fresh):
        assert before <= int(fields["received_at"]) <= after and fields["type"] == events.PRICE_CHANGED.encode()


# --- fuzzed: whatever is signed, never a 5xx, and only what was accepted is stored ----------------

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                   max_size=4), max_leaves=12)
_payloads = st.fixed_dictionaries({}, optional={
    "scope": st.sampled_from(["store/order/created", "store/order/statusUpdated", "store/x"]) | _json,
    "store_id": st.sampled_from(["1025646", 1025646]) | _json,
    "data": st.just({"type": "order", "id": 250}) | _json,
    "hash": st.sampled_from(["dd70c0976e06b67aaf671e73f49dcb79230ebf9d"]) | _json,
    "created_at": st.sampled_from([1561479335]) | _json,
    "producer": st.sampled_from(["stores/abc"]) | _json,
}) | _json


async def test_fuzzed_signed_bodies_never_cause_a_5xx(start_intake: StartIntake) -> None:
    intake = start_intake()
    outcomes: list[int] = []

    @settings(deadline=None, max_examples=120, suppress_health_check=list(HealthCheck))
    @given(body=st.binary(max_size=512) | st.text(max_size=200).map(str.encode) | _payloads.map(
        lambda p: json.dumps(p).encode()))
    def run(body: bytes) -> None:
        try:
            headers = sign(body, new_webhook_id())
        except UnicodeDecodeError:
            headers = {"webhook-id": new_webhook_id(), "webhook-timestamp": str(int(time.time())),
                       "webhook-signature": "v1,AAAA"}
        response = client.post(intake.url, content=body, headers=headers)
        assert response.status_code in (200, 400, 401), (body[:200], response.status_code, response.text[:300])
        assert response.headers["content-type"] == "application/json"
        if response.status_code == 200:
            assert response.json()["duplicate"] is False
        else:
            assert response.json()["error"]
        outcomes.append(response.status_code)

    with httpx.Client(timeout=30.0) as client:
        await asyncio.to_thread(run)
    assert len(await entries(intake.store)) == outcomes.count(200)
    assert 400 in outcomes
