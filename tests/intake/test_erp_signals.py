"""``POST /events/erp/signals`` over real HTTP: an ERP's own events (S/4 business events), signed or
sent with the configured Basic credentials, are appended once for the worker; anything else changes
nothing."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from pricing_edge.intake import envelope
from pricing_edge.intake.erp_signals import ErpSignalIntake
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import ERP_SIGNALS
from tests.support.servers import serve

CHANGED = "sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1"


@dataclass
class Signals:
    url: str
    secret: str
    store: EmbeddedStore


@pytest.fixture
def signals() -> Iterator[Signals]:
    store = EmbeddedStore(announce=False)
    secret = envelope.generate_secret()
    intake = ErpSignalIntake(store, secret=secret, prefix="sap.s4.beh.", basic="eventmesh:s3cret")
    with serve(Starlette(routes=[Route("/events/erp/signals", intake, methods=["POST"])])) as server:
        yield Signals(server.base_url + "/events/erp/signals", secret, store)


def business_event(secret: str | None, event_type: str = CHANGED, data: object = None, event_id: str = "e-1") -> \
        envelope.SignedEvent:
    return envelope.signed_event(event_type, data if data is not None else {"SalesOrder": "4711"},
                                 source="/default/sap.s4.beh/S4H100", secret=secret, event_id=event_id)


async def appended(store: EmbeddedStore) -> list[dict[str, bytes]]:
    await store.ensure_group(ERP_SIGNALS, "t")
    return [fields for _, fields in await store.read_group(ERP_SIGNALS, "t", "t", 100, 1)]


async def test_a_signed_business_event_is_appended_once(signals: Signals) -> None:
    event = business_event(signals.secret)
    first = httpx.post(signals.url, content=event.body, headers=event.headers)
    again = httpx.post(signals.url, content=event.body, headers=event.headers)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    (fields,) = await appended(signals.store)
    assert fields["type"] == CHANGED.encode() and orjson.loads(fields["body"])["data"] == {"SalesOrder": "4711"}


async def test_basic_credentials_stand_in_for_a_signature(signals: Signals) -> None:
    event = business_event(None, event_id="e-2")
    good = "Basic " + base64.b64encode(b"eventmesh:s3cret").decode()
    bad = "Basic " + base64.b64encode(b"eventmesh:guess").decode()
    assert httpx.post(signals.url, content=event.body, headers={"authorization": bad}).status_code == 401
    assert httpx.post(signals.url, content=event.body).status_code == 401
    assert httpx.post(signals.url, content=event.body, headers={"authorization": good}).status_code == 202
    assert len(await appended(signals.store)) == 1


@pytest.mark.parametrize(("event_type", "data", "problem"), [
    ("com.pricingedge.price.changed", {"SalesOrder": "1"}, "not an event of the configured ERP"),
    (CHANGED, {"SalesOrder": ""}, "data must name the changed object"),
])
async def test_an_event_of_another_kind_or_naming_nothing_is_refused(signals: Signals, event_type: str, data: object,
                                                                    problem: str) -> None:
    event = business_event(signals.secret, event_type, data)
    answer = httpx.post(signals.url, content=event.body, headers=event.headers)
    assert answer.status_code == 400 and problem in answer.json()["error"]
    forged = business_event(envelope.generate_secret())
    assert httpx.post(signals.url, content=forged.body, headers=forged.headers).status_code == 401
    assert await appended(signals.store) == []


async def test_a_connector_without_vendor_events_answers_404() -> None:
    intake = ErpSignalIntake(EmbeddedStore(announce=False), secret=envelope.generate_secret(), prefix=None)
    with serve(Starlette(routes=[Route("/s", intake, methods=["POST"])])) as server:
        answer = httpx.post(server.base_url + "/s", content=b"{}")
    assert answer.status_code == 404 and "PRICING_EDGE_ERP" in answer.json()["error"]
