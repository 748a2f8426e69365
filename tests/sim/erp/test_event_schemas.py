"""The JSON Schemas in pricing_edge/schemas/events accept every event the simulator emits and reject bad ones."""
from __future__ import annotations

import copy
from typing import Any

import httpx
import jsonschema
import pytest

from pricing_edge.domain import events
from pricing_edge.intake import envelope
from pricing_edge.intake.envelope import EnvelopeError
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.support.servers import serve


@pytest.fixture(scope="module")
def sim_events() -> list[dict[str, Any]]:
    """Envelopes of every kind: 60 ticker changes and one manual change of each record kind."""
    with serve(create_app(build_dataset(7), latency_ms=0)) as erp, httpx.Client(base_url=erp.base_url) as client:
        client.post("/_sim/ticker/tick", json={"count": 60})
        client.post("/_sim/changes/credit", json={"company_id": 1, "balance": "-3.10"})
        client.post("/_sim/changes/customer", json={"customer_id": 2, "company_id": None})
        client.post("/_sim/changes/customer", json={"customer_id": 3, "customer_group_id": 4})
        client.post("/_sim/changes/stock", json={"sku": "PE-10000", "location_id": 1, "lead_time_days": None})
        client.post("/_sim/changes/price", json={"price_list_id": 3, "sku": "PE-10000", "currency": "USD",
                                                 "map_price": "1.0001", "bulk_pricing": [
                                                     {"min_quantity": 5, "max_quantity": 9, "price": "3"},
                                                     {"min_quantity": 10, "price": "2.5"}]})
        return [e["envelope"] for e in client.get("/_sim/events").json()["events"]]


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = envelope.schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_every_record_type_has_a_valid_schema() -> None:
    for event_type in events.RECORD_EVENT_TYPES:
        assert validator(event_type).schema["title"].startswith(event_type)
    validator("cloudevent")


def test_schemas_accept_the_sims_events(sim_events: list[dict[str, Any]]) -> None:
    assert {e["type"] for e in sim_events} == set(events.RECORD_EVENT_TYPES)
    for event in sim_events:
        validator("cloudevent").validate(event)
        validator(event["type"]).validate(event["data"])
        envelope.validate(event)
        events.from_data(event["type"], event["data"])  # the schema and the parser agree


BAD_DATA = [
    (events.PRICE_CHANGED, lambda d: d.update(price=12.5)),
    (events.PRICE_CHANGED, lambda d: d.update(price="12,50")),
    (events.PRICE_CHANGED, lambda d: d.pop("version")),
    (events.PRICE_CHANGED, lambda d: d.update(version="7")),
    (events.PRICE_CHANGED, lambda d: d.update(currency="usd")),
    (events.PRICE_CHANGED, lambda d: d.update(sale_prise="1.00")),
    (events.PRICE_CHANGED, lambda d: d.update(bulk_pricing=[{"min_quantity": 0, "price": "1"}])),
    (events.PRICE_CHANGED, lambda d: d.update(bulk_pricing=[{"min_quantity": 2, "price": 1.5}])),
    (events.STOCK_CHANGED, lambda d: d.update(on_hand=-1)),
    (events.STOCK_CHANGED, lambda d: d.update(on_hand=1.5)),
    (events.STOCK_CHANGED, lambda d: d.update(backorder="yes")),
    (events.STOCK_CHANGED, lambda d: d.pop("sku")),
    (events.CREDIT_CHANGED, lambda d: d.update(status="frozen")),
    (events.CREDIT_CHANGED, lambda d: d.update(credit_limit="-5")),
    (events.CREDIT_CHANGED, lambda d: d.update(balance=100)),
    (events.CUSTOMER_CHANGED, lambda d: d.update(customer_id="5")),
    (events.CUSTOMER_CHANGED, lambda d: d.update(customer_group_id=-1)),
]


@pytest.mark.parametrize(("event_type", "spoil"), BAD_DATA)
def test_schemas_reject_bad_data(sim_events: list[dict[str, Any]], event_type: str, spoil: Any) -> None:
    event = copy.deepcopy(next(e for e in sim_events if e["type"] == event_type))
    spoil(event["data"])
    assert not validator(event_type).is_valid(event["data"])
    with pytest.raises(EnvelopeError, match=r"^data"):
        envelope.validate(event)
    with pytest.raises(events.EventDataError):
        events.from_data(event_type, event["data"])  # the parser refuses what the schema refuses


BAD_ENVELOPES = [
    lambda e: e.pop("id"),
    lambda e: e.update(specversion="0.3"),
    lambda e: e.update(time="yesterday"),
    lambda e: e.update(type="price.changed"),
    lambda e: e.update(datacontenttype="text/xml"),
    lambda e: e.update(data="a string"),
    lambda e: e.update(data_base64="AAAA"),
    lambda e: e.update(source=""),
]


@pytest.mark.parametrize("spoil", BAD_ENVELOPES)
def test_envelope_schema_rejects_bad_envelopes(sim_events: list[dict[str, Any]], spoil: Any) -> None:
    event = copy.deepcopy(sim_events[0])
    spoil(event)
    assert not validator("cloudevent").is_valid(event)
    with pytest.raises(EnvelopeError):
        envelope.validate(event)


def test_unknown_event_type_is_refused(sim_events: list[dict[str, Any]]) -> None:
    event = copy.deepcopy(sim_events[0]) | {"type": "com.pricingedge.price.deleted"}
    with pytest.raises(EnvelopeError, match="type: unknown event type"):
        envelope.validate(event)
