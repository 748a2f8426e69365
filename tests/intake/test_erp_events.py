"""``POST /events/erp`` over real HTTP: signed events are appended once, everything else changes nothing.

The intake is mounted on a bare Starlette route (as the edge mounts it) and served by uvicorn; the
test reads the intake stream through its own view of the same store, as another process would.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from pricing_edge.domain import events
from pricing_edge.intake import envelope
from pricing_edge.intake.envelope import SignedEvent
from pricing_edge.intake.erp_events import MAX_EVENT_BYTES, ErpEventIntake
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.base import Store, StreamEntry
from pricing_edge.store.keys import ERP_INTAKE
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until
from tests.support.servers import serve

SOURCE = "urn:test:erp"
READER_GROUP = "test-reader"
EVENTS = "pricing_edge_events_total"

PRICE = {"price_list_id": 2, "sku": "PE-10000", "currency": "USD", "price": "12.50", "sale_price": "11.00",
         "bulk_pricing": [{"min_quantity": 10, "price": "10.00"}], "version": 7}
STOCK = {"sku": "PE-10000", "location_id": 1, "on_hand": 40, "allocated": 3, "safety_stock": 2,
         "backorder": False, "lead_time_days": 5, "version": 8}
CREDIT = {"company_id": 4, "credit_limit": "1000.00", "balance": "-12.50", "status": "hold", "version": 9}
CUSTOMER = {"customer_id": 12, "customer_group_id": 3, "company_id": 4, "version": 10}
VALID = {events.PRICE_CHANGED: PRICE, events.STOCK_CHANGED: STOCK, events.CREDIT_CHANGED: CREDIT,
         events.CUSTOMER_CHANGED: CUSTOMER}


@dataclass
class Intake:
    url: str  # the full URL of POST /events/erp
    secret: str
    store: Store  # the test's own view of the store the intake appends to
    metrics: EdgeMetrics


@pytest.fixture
def secret() -> str:
    return envelope.generate_secret()


@pytest.fixture
def intake(store: Store, secret: str) -> Iterator[Intake]:
    # A real Redis gets a second client for the server's thread and loop (as another process would
    # have); the embedded store can only be shared.
    server_store: Store = store if not isinstance(store, RedisStore) else RedisStore(store.url, store.keys)
    metrics = EdgeMetrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if server_store is not store:
            await server_store.aclose()

    app = Starlette(routes=[Route("/events/erp", ErpEventIntake(server_store, secret, metrics), methods=["POST"])],
                    lifespan=lifespan)
    with serve(app) as server:
        yield Intake(f"{server.base_url}/events/erp", secret, store, metrics)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


def make(event_type: str = events.PRICE_CHANGED, data: dict[str, Any] | None = None, *, secret: str,
         **kwargs: Any) -> SignedEvent:
    return envelope.signed_event(event_type, VALID[event_type] if data is None else data, source=SOURCE,
                                 secret=secret, **kwargs)


async def post(http: httpx.AsyncClient, intake: Intake, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(intake.url, content=body, headers=headers)


async def entries(store: Store) -> list[StreamEntry]:
    """Everything on the intake stream so far (a fresh group reads from the start)."""
    await store.ensure_group(ERP_INTAKE, READER_GROUP)
    found: list[StreamEntry] = []
    while batch := await store.read_group(ERP_INTAKE, READER_GROUP, "reader", 1000, 10):
        found += batch
    return found


def envelope_of(entry: StreamEntry) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(entry[1]["body"])
    return decoded


# --- accepted, once ------------------------------------------------------------------------------

async def test_a_signed_price_event_is_accepted_and_appended_once(intake: Intake, http: httpx.AsyncClient) -> None:
    event = make(secret=intake.secret)
    response = await post(http, intake, event.body, event.headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"id": event.id, "accepted": True, "duplicate": False}

    [(_, fields)] = await entries(intake.store)
    assert fields["type"] == events.PRICE_CHANGED.encode()
    assert fields["body"] == event.body  # the exact bytes that were signed
    assert envelope_of((_, fields))["data"] == PRICE
    assert intake.metrics.value(EVENTS, {"type": events.PRICE_CHANGED, "result": "accepted"}) == 1


async def test_a_replayed_id_is_acknowledged_as_duplicate_and_not_appended_again(
        intake: Intake, http: httpx.AsyncClient) -> None:
    event = make(secret=intake.secret, timestamp=datetime.now(UTC) - timedelta(seconds=30))
    first = await post(http, intake, event.body, event.headers)
    assert first.status_code == 202 and first.json()["duplicate"] is False

    retry = envelope.resign(event, intake.secret)  # the sender's retry: same id and bytes, fresh timestamp
    assert retry.headers["webhook-timestamp"] != event.headers["webhook-timestamp"]
    again = await post(http, intake, retry.body, retry.headers)
    assert again.status_code == 202, again.text
    assert again.json() == {"id": event.id, "accepted": True, "duplicate": True}

    assert len(await entries(intake.store)) == 1
    assert intake.metrics.value(EVENTS, {"type": events.PRICE_CHANGED, "result": "duplicate"}) == 1


@pytest.mark.parametrize("event_type", list(VALID))
async def test_each_record_event_type_is_accepted(intake: Intake, http: httpx.AsyncClient, event_type: str) -> None:
    event = make(event_type, secret=intake.secret)
    response = await post(http, intake, event.body, event.headers)
    assert response.status_code == 202, response.text
    [entry] = await entries(intake.store)
    assert entry[1]["type"] == event_type.encode()
    assert envelope_of(entry)["id"] == event.id and envelope_of(entry)["data"] == VALID[event_type]


async def test_optional_fields_may_be_absent(intake: Intake, http: httpx.AsyncClient) -> None:
    minimal = {"price_list_id": 1, "sku": "PE-10001", "currency": "EUR", "price": "3", "version": 1}
    event = make(data=minimal, secret=intake.secret)
    assert (await post(http, intake, event.body, event.headers)).status_code == 202
    assert len(await entries(intake.store)) == 1


# --- not from whom it claims: 401, nothing appended ---------------------------------------------

def _bad_signature(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    return event.body, {**event.headers, "webhook-signature": "v1,QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}


def _wrong_secret(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    return event.body, envelope.sign(event.body, event.id, envelope.generate_secret())


def _tampered_body(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    tampered = event.body.replace(b'"price":"12.50"', b'"price":"0.01"')
    assert tampered != event.body
    return tampered, event.headers


def _stale_timestamp(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    return event.body, envelope.sign(event.body, event.id, secret, timestamp=datetime.now(UTC) - timedelta(minutes=10))


def _future_timestamp(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    return event.body, envelope.sign(event.body, event.id, secret, timestamp=datetime.now(UTC) + timedelta(minutes=10))


def _no_signature(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    return event.body, {k: v for k, v in event.headers.items() if k != "webhook-signature"}


def _other_id(event: SignedEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    # A valid signature for another message id does not cover this one.
    return event.body, {**event.headers, "webhook-id": "evt_someone_else"}


@pytest.mark.parametrize("forge", [_bad_signature, _wrong_secret, _tampered_body, _stale_timestamp,
                                   _future_timestamp, _no_signature, _other_id])
async def test_unverifiable_events_are_refused_with_401_and_change_nothing(
        intake: Intake, http: httpx.AsyncClient, forge: Any) -> None:
    event = make(secret=intake.secret)
    body, headers = forge(event, intake.secret)
    response = await post(http, intake, body, headers)
    assert response.status_code == 401, response.text
    assert "signature" in response.json()["error"]
    assert await entries(intake.store) == []
    # Refusing a forgery must not burn its id: the genuine event still gets in afterwards.
    genuine = await post(http, intake, event.body, event.headers)
    assert genuine.status_code == 202 and genuine.json()["duplicate"] is False
    assert len(await entries(intake.store)) == 1


# --- from them, but malformed: 400 naming the problem, nothing appended --------------------------

def _signed_bytes(body: bytes, secret: str) -> tuple[bytes, dict[str, str]]:
    return body, envelope.sign(body, "evt_malformed", secret)


def _without(data: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != field}


@pytest.mark.parametrize(("case", "expected"), [
    ("not_json", "not JSON"),
    ("money_as_float", "price"),
    ("missing_version", "version"),
    ("unknown_type", "com.pricingedge.widget.changed"),
    ("unknown_field", "sale_prise"),
    ("version_as_string", "version"),
    ("credit_status", "status"),
    ("no_data", "data"),
])
async def test_malformed_or_schema_invalid_events_are_refused_with_400_naming_the_problem(
        intake: Intake, http: httpx.AsyncClient, case: str, expected: str) -> None:
    s = intake.secret
    if case == "not_json":
        body, headers = _signed_bytes(b'{"specversion": "1.0", "id": ', s)
    elif case == "money_as_float":
        event = make(data={**PRICE, "price": 12.5}, secret=s)
        body, headers = event.body, event.headers
    elif case == "missing_version":
        event = make(data=_without(PRICE, "version"), secret=s)
        body, headers = event.body, event.headers
    elif case == "unknown_type":
        envelope_ = envelope.build_envelope("com.pricingedge.widget.changed", PRICE, source=SOURCE)
        body, headers = _signed_bytes(envelope.encode(envelope_), s)
    elif case == "unknown_field":
        event = make(data={**PRICE, "sale_prise": "1.00"}, secret=s)
        body, headers = event.body, event.headers
    elif case == "version_as_string":
        event = make(events.STOCK_CHANGED, {**STOCK, "version": "8"}, secret=s)
        body, headers = event.body, event.headers
    elif case == "credit_status":
        event = make(events.CREDIT_CHANGED, {**CREDIT, "status": "frozen"}, secret=s)
        body, headers = event.body, event.headers
    else:
        envelope_ = envelope.build_envelope(events.PRICE_CHANGED, PRICE, source=SOURCE)
        del envelope_["data"]
        body, headers = _signed_bytes(envelope.encode(envelope_), s)

    response = await post(http, intake, body, headers)
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert message.startswith("invalid event: ") and expected in message, message
    assert await entries(intake.store) == []
    assert intake.metrics.value(EVENTS, {"type": "unknown", "result": "rejected"}) == 1


async def test_money_as_float_names_the_field_and_its_path(intake: Intake, http: httpx.AsyncClient) -> None:
    event = make(data={**PRICE, "bulk_pricing": [{"min_quantity": 10, "price": 10.0}]}, secret=intake.secret)
    response = await post(http, intake, event.body, event.headers)
    assert response.status_code == 400
    assert "data.bulk_pricing[0].price" in response.json()["error"]


async def test_an_oversized_body_is_refused_with_413(intake: Intake, http: httpx.AsyncClient) -> None:
    event = make(data={**PRICE, "sku": "X" * 200}, secret=intake.secret)
    padded = event.body[:-1] + b"," + b" " * (MAX_EVENT_BYTES + 1) + b"}"  # still JSON, just too big
    body, headers = padded, envelope.sign(padded, event.id, intake.secret)
    response = await post(http, intake, body, headers)
    assert response.status_code == 413, response.text
    assert await entries(intake.store) == []


# --- end to end: the ERP simulator delivers to the intake --------------------------------------

async def test_a_simulated_erp_change_is_delivered_and_appended_exactly_once(
        intake: Intake, http: httpx.AsyncClient) -> None:
    with serve(create_app(build_dataset(), events_url=intake.url, event_secret=intake.secret,
                          latency_ms=0)) as erp:
        change = {"price_list_id": 3, "sku": "PE-10004", "currency": "EUR", "price": "42.4200",
                  "sale_price": None}
        response = await http.post(f"{erp.base_url}/_sim/changes/price", json=change)
        assert response.status_code == 200, response.text
        emitted = response.json()
        event_id = emitted["event"]["id"]

        async def delivered() -> dict[str, Any] | None:
            described: dict[str, Any] = (await http.get(f"{erp.base_url}/_sim/events/{event_id}")).json()
            return described if described["status"] == "delivered" else None

        outbox_entry = await async_wait_until(delivered, timeout=30, what="the ERP event to be delivered")
        assert outbox_entry["last_status"] == 202 and outbox_entry["attempts"] == 1

    [entry] = await entries(intake.store)
    assert entry[1]["type"] == events.PRICE_CHANGED.encode()
    appended = envelope_of(entry)
    assert appended["id"] == event_id and appended["type"] == events.PRICE_CHANGED
    assert appended["data"] == emitted["record"]
    record = events.price_from_data(appended["data"])
    assert (record.price_list_id, record.currency, record.sku) == (3, "EUR", "PE-10004")
    assert str(record.price) == "42.4200" and record.sale_price is None
    assert record.version > 0


# --- order events (for the worker): accepted and validated like records -------------------------

SHIPMENT = {"shipment_id": "SH-200001", "order_number": "SO-100001", "reference": "BC-pe-demo-101",
            "carrier": "UPS", "tracking_number": "1Z999", "lines": [{"sku": "PE-10000", "quantity": 2}],
            "order_status": "shipped", "version": 11}
ORDER_CHANGED = {"order_number": "SO-100001", "reference": "BC-pe-demo-101", "status": "cancelled", "version": 12}


async def test_signed_order_events_are_accepted_and_appended(intake: Intake, http: httpx.AsyncClient) -> None:
    sent = [make(events.SHIPMENT_CREATED, SHIPMENT, secret=intake.secret, subject="salesorder:SO-100001"),
            make(events.SALES_ORDER_CHANGED, ORDER_CHANGED, secret=intake.secret, subject="salesorder:SO-100001")]
    for event in sent:
        response = await post(http, intake, event.body, event.headers)
        assert response.status_code == 202, response.text
        assert response.json() == {"id": event.id, "accepted": True, "duplicate": False}

    appended = await entries(intake.store)
    assert [fields["type"] for _, fields in appended] == [events.SHIPMENT_CREATED.encode(),
                                                          events.SALES_ORDER_CHANGED.encode()]
    assert [fields["body"] for _, fields in appended] == [event.body for event in sent]
    assert intake.metrics.value(EVENTS, {"type": events.SHIPMENT_CREATED, "result": "accepted"}) == 1


@pytest.mark.parametrize(("event_type", "data", "problem"), [
    (events.SHIPMENT_CREATED, SHIPMENT | {"lines": [{"sku": "PE-10000", "quantity": 0}]}, "data.lines[0].quantity"),
    (events.SHIPMENT_CREATED, _without(SHIPMENT, "reference"), "reference"),
    (events.SHIPMENT_CREATED, SHIPMENT | {"order_status": "open"}, "data.order_status"),
    (events.SALES_ORDER_CHANGED, ORDER_CHANGED | {"status": "lost"}, "data.status"),
    # 1.0 is an integer to JSON Schema, not to the parser: the parser's check runs too.
    (events.SALES_ORDER_CHANGED, ORDER_CHANGED | {"version": 1.0}, "version: must be an integer"),
])
async def test_order_events_with_bad_data_are_refused_with_400(intake: Intake, http: httpx.AsyncClient,
                                                               event_type: str, data: dict[str, Any],
                                                               problem: str) -> None:
    event = make(event_type, data, secret=intake.secret)
    response = await post(http, intake, event.body, event.headers)
    assert response.status_code == 400, response.text
    assert problem in response.json()["error"]
    assert await entries(intake.store) == []


async def test_a_simulated_erp_shipment_is_delivered_and_appended(intake: Intake, http: httpx.AsyncClient) -> None:
    with serve(create_app(build_dataset(), events_url=intake.url, event_secret=intake.secret,
                          latency_ms=0)) as erp:
        order = {"reference": "BC-pe-demo-7", "bc_order_id": 7, "customer_id": 0, "sold_to": "customer:0",
                 "currency": "USD", "lines": [{"sku": "PE-10004", "quantity": 2, "unit_price": "3.50"}]}
        created = await http.post(f"{erp.base_url}/api/v1/sales-orders", json=order)
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        shipped = await http.post(f"{erp.base_url}/_sim/sales-orders/{number}/ship",
                                  json={"carrier": "FedEx", "tracking_number": "7777"})
        assert shipped.status_code == 200, shipped.text
        event_id = shipped.json()["event"]["id"]

        async def delivered() -> bool:
            described = (await http.get(f"{erp.base_url}/_sim/events/{event_id}")).json()
            return bool(described["status"] == "delivered")

        await async_wait_until(delivered, timeout=30, what="the shipment event to be delivered")

    [entry] = await entries(intake.store)
    appended = envelope_of(entry)
    assert appended["id"] == event_id and appended["type"] == events.SHIPMENT_CREATED
    assert appended["subject"] == f"salesorder:{number}"
    assert appended["data"] == shipped.json()["shipment"]
    assert appended["data"]["reference"] == "BC-pe-demo-7" and appended["data"]["order_status"] == "shipped"


async def test_a_version_far_in_the_future_is_refused_and_changes_nothing(intake: Intake,
                                                                          http: httpx.AsyncClient) -> None:
    """One bad producer must not freeze a record: a version more than a day ahead would outrank every
    true update until then."""
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    event = make(data={**PRICE, "version": now_ms + 2 * 24 * 3600 * 1000}, secret=intake.secret)
    response = await post(http, intake, event.body, event.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("invalid event: version: ")
    assert await entries(intake.store) == []
    fine = make(data={**PRICE, "version": now_ms + 60_000}, secret=intake.secret)  # a clock a minute apart
    assert (await post(http, intake, fine.body, fine.headers)).status_code == 202


async def test_a_sku_with_a_trailing_newline_is_refused_naming_the_field(intake: Intake,
                                                                         http: httpx.AsyncClient) -> None:
    event = make(data={**PRICE, "sku": "PE-10000\n"}, secret=intake.secret)
    response = await post(http, intake, event.body, event.headers)
    assert response.status_code == 400 and "data.sku" in response.json()["error"], response.text
    assert await entries(intake.store) == []
