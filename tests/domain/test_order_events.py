"""Order event data ↔ domain: exact round trips, the JSON Schemas and the parser agree, every error names
its field."""
from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain import events, order_events
from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.order_events import SalesOrderChanged, ShipmentCreated
from pricing_edge.domain.orders import ErpStatus, Shipment, ShipmentLine
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.intake import envelope

SHIPMENT = ShipmentCreated(Shipment("SH-200001", "SO-100001", "BC-pe-demo-101", "UPS", "1Z999",
                                    (ShipmentLine("PE-10000", 2), ShipmentLine("PE-10001", 1)),
                                    ErpStatus.PARTIALLY_SHIPPED), 100_123)
CHANGED = SalesOrderChanged("SO-100001", "BC-pe-demo-101", ErpStatus.RELEASED, 100_124)


def validator(event_type: str) -> jsonschema.Draft202012Validator:
    schema = envelope.schema(event_type)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_type_names() -> None:
    assert events.SALES_ORDER_CHANGED == "com.pricingedge.salesorder.changed"
    assert order_events.ORDER_EVENT_TYPES == (events.SHIPMENT_CREATED, events.SALES_ORDER_CHANGED)
    for event_type in order_events.ORDER_EVENT_TYPES:
        assert event_type in events.EVENT_TYPES and event_type not in events.RECORD_EVENT_TYPES
        assert order_events.is_order_event(event_type)
        assert validator(event_type).schema["title"].startswith(event_type)
    assert not order_events.is_order_event(events.PRICE_CHANGED)


def test_data_shapes() -> None:
    assert order_events.to_data(SHIPMENT) == {
        "shipment_id": "SH-200001", "order_number": "SO-100001", "reference": "BC-pe-demo-101", "carrier": "UPS",
        "tracking_number": "1Z999", "lines": [{"sku": "PE-10000", "quantity": 2}, {"sku": "PE-10001", "quantity": 1}],
        "order_status": "partially_shipped", "version": 100_123}
    assert order_events.to_data(CHANGED) == {"order_number": "SO-100001", "reference": "BC-pe-demo-101",
                                             "status": "released", "version": 100_124}
    assert order_events.event_type_of(SHIPMENT) == events.SHIPMENT_CREATED
    assert order_events.event_type_of(CHANGED) == events.SALES_ORDER_CHANGED
    assert order_events.subject_of(SHIPMENT) == order_events.subject_of(CHANGED) == "salesorder:SO-100001"
    assert (SHIPMENT.order_number, SHIPMENT.reference) == ("SO-100001", "BC-pe-demo-101")
    with pytest.raises(TypeError):
        order_events.to_data("nope")  # type: ignore[arg-type]


@pytest.mark.parametrize("event", [SHIPMENT, CHANGED], ids=["shipment", "changed"])
def test_round_trip_and_the_schema_accepts_it(event: order_events.OrderEvent) -> None:
    event_type = order_events.event_type_of(event)
    data = order_events.to_data(event)
    validator(event_type).validate(data)
    assert order_events.from_data(event_type, data) == event
    assert order_events.event_from_data(event_type, data) == event


def test_a_shipment_cannot_be_sent_that_the_parser_would_refuse() -> None:
    with pytest.raises(EventDataError, match="^order_status"):
        order_events.to_data(ShipmentCreated(Shipment("S", "O", "R", "C", "T", (ShipmentLine("A", 1),),
                                                      ErpStatus.OPEN), 1))
    with pytest.raises(EventDataError, match="^lines"):
        order_events.to_data(ShipmentCreated(Shipment("S", "O", "R", "C", "T", ()), 1))


BAD: list[tuple[str, Any, str]] = [
    (events.SHIPMENT_CREATED, lambda d: d.pop("reference"), "reference"),
    (events.SHIPMENT_CREATED, lambda d: d.update(reference=""), "reference"),
    (events.SHIPMENT_CREATED, lambda d: d.update(carrier=None), "carrier"),
    (events.SHIPMENT_CREATED, lambda d: d.update(tracking_number=5), "tracking_number"),
    (events.SHIPMENT_CREATED, lambda d: d.update(lines=[]), "lines"),
    (events.SHIPMENT_CREATED, lambda d: d.pop("lines"), "lines"),
    (events.SHIPMENT_CREATED, lambda d: d.update(lines={"sku": "A", "quantity": 1}), "lines"),
    (events.SHIPMENT_CREATED, lambda d: d["lines"][1].update(quantity=0), "lines[1].quantity"),
    (events.SHIPMENT_CREATED, lambda d: d["lines"][0].update(quantity=1.5), "lines[0].quantity"),
    (events.SHIPMENT_CREATED, lambda d: d["lines"][0].update(quantity="2"), "lines[0].quantity"),
    (events.SHIPMENT_CREATED, lambda d: d["lines"][0].pop("sku"), "lines[0].sku"),
    (events.SHIPMENT_CREATED, lambda d: d["lines"][0].update(price="1.00"), "lines[0].price"),
    (events.SHIPMENT_CREATED, lambda d: d.update(order_status="open"), "order_status"),
    (events.SHIPMENT_CREATED, lambda d: d.update(order_status="SHIPPED"), "order_status"),
    (events.SHIPMENT_CREATED, lambda d: d.update(version="7"), "version"),
    (events.SHIPMENT_CREATED, lambda d: d.update(version=-1), "version"),
    (events.SHIPMENT_CREATED, lambda d: d.update(shipped_at="2024-01-01"), "shipped_at"),
    (events.SALES_ORDER_CHANGED, lambda d: d.update(status="lost"), "status"),
    (events.SALES_ORDER_CHANGED, lambda d: d.update(status=None), "status"),
    (events.SALES_ORDER_CHANGED, lambda d: d.pop("order_number"), "order_number"),
    (events.SALES_ORDER_CHANGED, lambda d: d.update(reference=["BC-1"]), "reference"),
    (events.SALES_ORDER_CHANGED, lambda d: d.update(version=True), "version"),
    (events.SALES_ORDER_CHANGED, lambda d: d.update(version=1.5), "version"),
    (events.SALES_ORDER_CHANGED, lambda d: d.update(note="x"), "note"),
]


@pytest.mark.parametrize(("event_type", "spoil", "field"), BAD, ids=[f"{t.split('.')[2]}-{f}" for t, _, f in BAD])
def test_bad_data_is_refused_by_parser_and_schema(event_type: str, spoil: Any, field: str) -> None:
    data = copy.deepcopy(order_events.to_data(SHIPMENT if event_type == events.SHIPMENT_CREATED else CHANGED))
    spoil(data)
    with pytest.raises(EventDataError) as raised:
        order_events.from_data(event_type, data)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    assert not validator(event_type).is_valid(data)  # the schema refuses what the parser refuses


def test_not_an_object_and_unknown_types() -> None:
    with pytest.raises(EventDataError, match="^data: must be a JSON object"):
        order_events.from_data(events.SHIPMENT_CREATED, ["a"])
    with pytest.raises(EventDataError) as raised:
        order_events.from_data(events.PRICE_CHANGED, {})
    assert raised.value.field == "type"
    with pytest.raises(EventDataError) as unknown:
        order_events.event_from_data("com.pricingedge.invoice.created", {})
    assert unknown.value.field == "type"


def test_event_from_data_reads_records_too() -> None:
    record = PriceRecord(1, "A", "USD", Decimal("1.50"), version=3)
    assert order_events.event_from_data(events.PRICE_CHANGED, events.to_data(record)) == record
    with pytest.raises(EventDataError, match="^price"):
        order_events.event_from_data(events.PRICE_CHANGED, events.to_data(record) | {"price": 1.5})


_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
# A SKU as the schemas bound it: no control characters, no surrounding space.
_SKU = _TEXT.filter(lambda s: s == s.strip() and not any(ord(c) < 32 or ord(c) == 127 for c in s))


@given(shipment_id=_TEXT, number=_TEXT, reference=_TEXT, carrier=_TEXT, tracking=_TEXT,
       lines=st.lists(st.tuples(_SKU, st.integers(1, 10**9)), min_size=1, max_size=5),
       status=st.sampled_from(order_events.SHIPPED_STATUSES), version=st.integers(0, 2**53 - 1))
def test_any_shipment_round_trips_and_fits_its_schema(shipment_id: str, number: str, reference: str, carrier: str,
                                                      tracking: str, lines: list[tuple[str, int]],
                                                      status: ErpStatus, version: int) -> None:
    event = ShipmentCreated(Shipment(shipment_id, number, reference, carrier, tracking,
                                     tuple(ShipmentLine(sku, qty) for sku, qty in lines), status), version)
    data = order_events.to_data(event)
    validator(events.SHIPMENT_CREATED).validate(data)
    assert order_events.from_data(events.SHIPMENT_CREATED, data) == event


@given(number=_TEXT, reference=_TEXT, status=st.sampled_from(ErpStatus), version=st.integers(0, 2**53 - 1))
def test_any_status_change_round_trips_and_fits_its_schema(number: str, reference: str, status: ErpStatus,
                                                           version: int) -> None:
    event = SalesOrderChanged(number, reference, status, version)
    data = order_events.to_data(event)
    validator(events.SALES_ORDER_CHANGED).validate(data)
    assert order_events.from_data(events.SALES_ORDER_CHANGED, data) == event
