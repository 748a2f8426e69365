"""The S/4 change source: delta polls on LastChangeDateTime with an overlap window, full re-reads where
S/4 keeps no change time, business events re-read through OData — all as our signed events, with ids
that make every repeat a duplicate, and cursors in the store that survive a restart."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import pytest

from pricing_edge.domain.orders import SalesOrder, SalesOrderLine
from pricing_edge.erp.change_source import Emitter
from pricing_edge.erp.sap_s4.change_source import S4ChangeSource
from pricing_edge.intake import envelope
from pricing_edge.store.embedded import EmbeddedStore
from tests.erp.connectors import Face
from tests.support.receiver import Receiver
from tests.support.servers import ServerThread, serve

SECRET = envelope.generate_secret()


@pytest.fixture
def edge() -> Iterator[tuple[Receiver, ServerThread]]:
    """Stands for the edge's /events/erp: accepts everything (202) and keeps it."""
    receiver = Receiver(status=202)
    with serve(receiver.app()) as server:
        yield receiver, server


@pytest.fixture
def store() -> EmbeddedStore:
    return EmbeddedStore(announce=False)


class Source:
    def __init__(self, face: Face, edge: ServerThread, store: EmbeddedStore, **timing: float) -> None:
        settings = replace(face.settings, **({"erp_poll_overlap": 5.0, "erp_full_read_interval": 3600.0} | timing))
        self.adapter = face.adapter()
        self.emitter = Emitter(edge.base_url + "/events/erp", SECRET, source="urn:test:s4")
        self.source = S4ChangeSource.of(settings, self.adapter, self.emitter, store)

    async def aclose(self) -> None:
        await self.emitter.aclose()
        await self.adapter.aclose()


@pytest.fixture
async def source(face: Face, edge: tuple[Receiver, ServerThread], store: EmbeddedStore) -> AsyncIterator[Source]:
    running = Source(face, edge[1], store)
    yield running
    await running.aclose()


def received(receiver: Receiver, event_type: str | None = None) -> list[dict[str, Any]]:
    events = []
    for delivery in receiver.received():
        envelope.verify(delivery.headers, delivery.body, SECRET)  # signed like every producer's events
        event = orjson.loads(delivery.body)
        if event_type is None or event["type"] == event_type:
            events.append(event)
    return events


async def test_a_price_changed_in_s4_is_emitted_once_and_again_only_as_the_same_event(
        face: Face, edge: tuple[Receiver, ServerThread], store: EmbeddedStore, source: Source) -> None:
    receiver, server = edge
    await source.source.poll()  # a first poll watches from now
    assert received(receiver, "com.pricingedge.price.changed") == []
    sku = face.sim.state.skus[400]
    face.control("/changes/price", {"price_list_id": 2, "sku": sku, "currency": "EUR", "price": "8.88"})
    report = await source.source.poll()
    (event,) = received(receiver, "com.pricingedge.price.changed")
    assert event["data"]["price_list_id"] == 2 and event["data"]["sku"] == sku  # BigCommerce's ids, not S/4's
    assert (event["data"]["currency"], event["data"]["price"]) == ("EUR", "8.88")
    assert report.emitted == {"prices": 1} and "prices" in report.complete_to
    await source.source.poll()  # the overlap window reads it again: not sent again
    assert len(received(receiver, "com.pricingedge.price.changed")) == 1
    assert await store.get_value("erp:s4hana:prices") is not None  # the cursor lives in the store
    restarted = Source(face, server, store)
    try:
        await restarted.source.poll()  # a restart re-reads the overlap: the same event id, a duplicate for the edge
    finally:
        await restarted.aclose()
    ids = {e["id"] for e in received(receiver, "com.pricingedge.price.changed")}
    assert ids == {event["id"]}


async def test_stock_is_read_whole_and_only_what_changed_is_emitted(
        face: Face, edge: tuple[Receiver, ServerThread], store: EmbeddedStore) -> None:
    receiver, server = edge
    running = Source(face, server, store, erp_full_read_interval=0.0)
    try:
        await running.source.poll()  # the first full read is the baseline
        assert received(receiver, "com.pricingedge.stock.changed") == []
        sku = face.sim.state.skus[401]
        face.control("/changes/stock", {"sku": sku, "location_id": 2, "on_hand": 77})
        await running.source.poll()
        (event,) = received(receiver, "com.pricingedge.stock.changed")
        assert (event["data"]["sku"], event["data"]["location_id"], event["data"]["on_hand"]) == (sku, 2, 77)
    finally:
        await running.aclose()


async def test_a_credit_hold_set_in_s4_is_emitted_for_the_company(
        face: Face, edge: tuple[Receiver, ServerThread], source: Source) -> None:
    receiver, _ = edge
    await source.source.poll()
    company = next(c for c in face.sim.state.dataset.companies if c.status == "ok")
    face.control("/changes/credit", {"company_id": company.id, "status": "hold"})
    await source.source.poll()
    credit = [e for e in received(receiver, "com.pricingedge.credit.changed") if e["data"]["company_id"] == company.id]
    assert [e["data"]["status"] for e in credit] == ["hold"]
    face.control("/changes/credit", {"company_id": company.id, "status": "ok"})


async def test_a_business_event_is_re_read_and_gives_the_same_event_as_a_poll(
        face: Face, edge: tuple[Receiver, ServerThread], store: EmbeddedStore, source: Source) -> None:
    receiver, server = edge
    sku = face.sim.state.skus[402]
    posted = SalesOrder(f"BC-demo-{uuid.uuid4().int % 10**6}", 1, 1, "company:1", "USD",
                        (SalesOrderLine(sku, 2, Decimal("4.00")),))
    created = await source.adapter.create_sales_order(posted)
    await source.source.poll()
    face.control(f"/sales-orders/SO-{created.number}/ship", {"carrier": "UPS", "tracking_number": "1Z42"})
    emitted = await source.source.on_signal("sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1",
                                            {"SalesOrder": created.number})
    assert emitted == 1
    (shipment,) = received(receiver, "com.pricingedge.shipment.created")
    data = shipment["data"]
    assert (data["reference"], data["order_number"], data["tracking_number"], data["carrier"]) == (
        posted.reference, created.number, "1Z42", "UPS")
    assert data["lines"] == [{"sku": sku, "quantity": 2}] and data["order_status"] == "shipped"
    other = Source(face, server, store)  # another worker's poll finds the same delivery: the same id
    try:
        await other.source.poll()
    finally:
        await other.aclose()
    assert {e["id"] for e in received(receiver, "com.pricingedge.shipment.created")} == {shipment["id"]}
    with pytest.raises(ValueError, match="SalesOrder"):
        await source.source.on_signal("sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1", {})
