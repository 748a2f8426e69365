"""The S/4HANA change source: what changed in S/4, as our signed events on ``/events/erp``.

Streams, each with its cursor in the store:

- ``prices``: condition records of the configured type whose ``LastChangeDateTime`` is at or after
  the cursor less the overlap window (late commits carry older timestamps), re-read with their
  validity and scales, emitted for mapped price lists and materials. A deleted record is not
  emitted (our events carry full states, not deletions): the edge's record ages out.
- ``orders``: sales orders changed since the cursor (``LastChangeDateTime``) carrying our reference:
  a status change (released, cancelled, completed) as ``salesorder.changed``; deliveries with goods
  issue posted since the cursor (``LastChangeDate``) as ``shipment.created``, in version order, so a
  shipment never arrives after the status its order reached later.
- ``partners``: business partners changed since the cursor (``LastChangeDate`` + ``LastChangeTime``):
  a mapped customer re-read as ``customer.changed``, a mapped company as ``credit.changed`` (its order
  block) and its contacts as ``customer.changed``.
- ``stock`` and ``credit`` have no change timestamp: every ``erp_full_read_interval`` they are read
  whole and what differs from the last read (a digest per record in the store) is emitted. The first
  read only records the baseline: the edge's own refreshes cover what it holds until then.

S/4 business events (``sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1``, ``...BusinessPartner.Changed.v1``,
thin payloads) arrive through the edge's signal intake and the worker's signal flow: the object they
name is re-read here exactly as a poll would, so both paths give the same event ids.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pricing_edge.config import Settings
from pricing_edge.domain import events
from pricing_edge.domain.order_events import SHIPPED_STATUSES, SalesOrderChanged, ShipmentCreated
from pricing_edge.domain.orders import ErpStatus, Shipment, ShipmentLine, order_id_of
from pricing_edge.erp.change_source import Cursors, Emitted, Emitter, PollReport
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.erp.sap_s4 import orders as s4_orders
from pricing_edge.erp.sap_s4.adapter import DELIVERIES, PARTNERS, PRICING, SALES_ORDERS, S4HanaAdapter
from pricing_edge.erp.sap_s4.values import (
    datetime_literal,
    datetimeoffset_literal,
    epoch_ms,
    literal,
    parse_date,
    parse_time,
    quantity,
)
from pricing_edge.store.base import Store

SALES_ORDER_EVENTS = ("sap.s4.beh.salesorder.v1.SalesOrder.",)
PARTNER_EVENTS = ("sap.s4.beh.businesspartner.v1.BusinessPartner.",)
REPORTED_STATUSES = frozenset({ErpStatus.RELEASED, ErpStatus.CANCELLED, ErpStatus.COMPLETED})
FULL_READ_STREAMS = ("stock", "credit")


@dataclass(frozen=True)
class Timing:
    overlap: float
    full_read_interval: float


def _digest(record: events.Record) -> str:
    data = dict(events.to_data(record))
    data.pop("version", None)
    return hashlib.sha1(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class S4ChangeSource:
    name = "s4hana"

    def __init__(self, adapter: S4HanaAdapter, emitter: Emitter, cursors: Cursors, timing: Timing) -> None:
        self.adapter = adapter
        self.odata = adapter.odata
        self.mapping = adapter.mapping
        self.emitter = emitter
        self.cursors = cursors
        self.timing = timing
        self._recent: dict[str, float] = {}  # event subjects@version emitted lately (skip re-POSTing the overlap)

    @classmethod
    def of(cls, settings: Settings, adapter: ErpAdapter, emitter: Emitter, store: Store | None = None) -> S4ChangeSource:
        if not isinstance(adapter, S4HanaAdapter):
            raise TypeError("the S/4HANA change source needs the S/4HANA adapter")
        if store is None:
            raise ValueError("the S/4HANA change source keeps its cursors in the store: give it one")
        return cls(adapter, emitter, Cursors(store, cls.name),
                   Timing(settings.erp_poll_overlap, settings.erp_full_read_interval))

    # --- the cycle --------------------------------------------------------------------------------

    async def poll(self) -> PollReport:
        report = PollReport()
        started = time.time()
        await self._delta("prices", report, started, self._price_changes)
        await self._delta("orders", report, started, self._order_changes)
        await self._delta("partners", report, started, self._partner_changes)
        last_full = await self.cursors.get("full-read") or 0.0
        if started - last_full >= self.timing.full_read_interval:
            await self._full_reads(report)
            await self.cursors.put("full-read", started)
        report.complete_to.setdefault("stock", last_full if started - last_full < self.timing.full_read_interval
                                      else started)
        self._recent = {k: v for k, v in self._recent.items() if v > started - 2 * self.timing.overlap - 60}
        return report

    async def _delta(self, stream: str, report: PollReport, started: float, read: Any) -> None:
        cursor = await self.cursors.get(stream)
        # A first poll watches from now: what changed before is what the edge reads through anyway.
        since = datetime.fromtimestamp((cursor if cursor is not None else started) - self.timing.overlap, UTC)
        changes: list[Emitted] = await read(since)
        for item in sorted(changes, key=lambda e: e.version):
            await self._emit(stream, item, report)
        await self.cursors.put(stream, started)
        report.complete_to[stream] = started

    async def _emit(self, stream: str, item: Emitted, report: PollReport) -> None:
        subject = (f"{type(item).__name__}:{events.record_key(item)}" if not isinstance(item, (ShipmentCreated,
                   SalesOrderChanged)) else f"{type(item).__name__}:{item.order_number}:{_shipment_id(item)}")
        key = f"{subject}@{item.version}"
        if key in self._recent:
            return
        if await self.emitter.emit(item):
            report.count(stream)
        self._recent[key] = time.time()

    # --- prices -----------------------------------------------------------------------------------

    async def _price_changes(self, since: datetime) -> list[Emitted]:
        s = self.adapter.settings
        records = await self.odata.all(PRICING, "A_SlsPrcgConditionRecord", {
            "$filter": f"ConditionType eq {literal(s.condition_type)} and LastChangeDateTime ge "
                       f"{datetimeoffset_literal(since)}",
            "$expand": "to_SlsPrcgCndnRecdValidity,to_SlsPrcgCndnRecordScale"})
        return self._prices_of(records)

    def _prices_of(self, records: list[dict[str, Any]]) -> list[Emitted]:
        s = self.adapter.settings
        found: list[Emitted] = []
        today = datetime.now(UTC)
        for record in records:
            for validity in (record.get("to_SlsPrcgCndnRecdValidity") or {}).get("results", []):
                if validity.get("SalesOrganization") != s.sales_organization or \
                        validity.get("DistributionChannel") != s.distribution_channel:
                    continue
                start, end = parse_date(validity.get("ConditionValidityStartDate")), \
                    parse_date(validity.get("ConditionValidityEndDate"))
                if (start and start > today) or (end and end < today.replace(hour=0, minute=0, second=0)):
                    continue
                price_list = self._price_list_of(validity)
                currency = record.get("ConditionRateValueUnit")
                if price_list is None or not isinstance(currency, str):
                    continue
                row = dict(validity, to_SlsPrcgConditionRecord=record)
                found.extend(self.adapter._prices(price_list, currency, [row]).values())
        return found

    def _price_list_of(self, validity: Mapping[str, Any]) -> int | None:
        customer = str(validity.get("Customer") or "")
        if customer:
            own = self.mapping.own_price_list_of(customer)
            return own.price_list_id if own else None
        return self.mapping.price_lists.bc(str(validity.get(self.adapter.settings.price_list_field) or ""))

    # --- orders and shipments -----------------------------------------------------------------------

    async def _order_changes(self, since: datetime) -> list[Emitted]:
        orders = await self.odata.all(SALES_ORDERS, "A_SalesOrder", {
            "$filter": f"LastChangeDateTime ge {datetimeoffset_literal(since)}"})
        found: list[Emitted] = [e for e in (self._status_event(o) for o in orders) if e is not None]
        deliveries = await self.odata.all(DELIVERIES, "A_OutbDeliveryHeader", {
            "$filter": f"OverallGoodsMovementStatus eq 'C' and LastChangeDate ge "
                       f"datetime'{since.strftime('%Y-%m-%dT%H:%M:%S')}'",
            "$expand": "to_DeliveryDocumentItem"})
        found.extend(await self._shipments(deliveries))
        return found

    def _status_event(self, order: Mapping[str, Any]) -> SalesOrderChanged | None:
        reference = str(order.get("PurchaseOrderByCustomer") or "")
        status = s4_orders.status_of(order)
        changed = parse_date(order.get("LastChangeDateTime"))
        if order_id_of(reference) is None or status not in REPORTED_STATUSES or changed is None:
            return None  # not ours; or a status a shipment event carries; or one BigCommerce set itself
        return SalesOrderChanged(str(order["SalesOrder"]), reference, status, epoch_ms(changed))

    async def _shipments(self, deliveries: list[dict[str, Any]]) -> list[Emitted]:
        found: list[Emitted] = []
        orders: dict[str, Mapping[str, Any] | None] = {}
        for delivery in deliveries:
            items = (delivery.get("to_DeliveryDocumentItem") or {}).get("results", [])
            numbers = {str(i.get("ReferenceSDDocument")) for i in items if i.get("ReferenceSDDocument")}
            if len(numbers) != 1:
                continue  # a delivery of several orders is not one shipment of one order
            (number,) = numbers
            if number not in orders:
                orders[number] = await self.odata.get(SALES_ORDERS, f"A_SalesOrder({literal(number)})",
                                                      missing_ok=True)
            order = orders[number]
            reference = str((order or {}).get("PurchaseOrderByCustomer") or "")
            changed = parse_date(delivery.get("LastChangeDate"))
            if order is None or order_id_of(reference) is None or changed is None:
                continue
            status = s4_orders.status_of(order)
            lines = tuple(ShipmentLine(self.mapping.sku(str(i.get("Material"))) or str(i.get("Material")),
                                       quantity(i.get("ActualDeliveryQuantity"))) for i in items)
            shipment = Shipment(str(delivery["DeliveryDocument"]), number, reference,
                                str(delivery.get("MeansOfTransport") or ""), str(delivery.get("BillOfLading") or ""),
                                lines, status if status in SHIPPED_STATUSES else ErpStatus.PARTIALLY_SHIPPED)
            found.append(ShipmentCreated(shipment, epoch_ms(changed)))
        return found

    # --- business partners --------------------------------------------------------------------------

    async def _partner_changes(self, since: datetime) -> list[Emitted]:
        partners = await self.odata.all(PARTNERS, "A_BusinessPartner", {
            "$filter": f"LastChangeDate ge {datetime_literal(since.date())}",
            "$select": "BusinessPartner,LastChangeDate,LastChangeTime"})
        found: list[Emitted] = []
        for partner in partners:
            day = parse_date(partner.get("LastChangeDate"))
            if day is None or day + parse_time(partner.get("LastChangeTime")) < since:
                continue
            found.extend(await self._partner(str(partner["BusinessPartner"])))
        return found

    async def _partner(self, partner: str) -> list[Emitted]:
        """The records a change of ``partner`` may have changed, if their content did."""
        found: list[Emitted] = []
        customer_id = self.mapping.customers.bc(partner)
        if customer_id is not None:
            record = await self.adapter.get_customer(customer_id)
            if record is not None and await self._changed(record):
                found.append(record)
        company_id = self.mapping.companies.bc(partner)
        if company_id is not None:
            credit = await self.adapter.get_credit(company_id)
            if credit is not None and await self._changed(credit):
                found.append(credit)
            contacts = await self.odata.all(PARTNERS, "A_BusinessPartnerContact",
                                            {"$filter": f"BusinessPartnerCompany eq {literal(partner)}"})
            for contact in contacts:
                buyer = self.mapping.customers.bc(str(contact.get("BusinessPartnerPerson") or ""))
                record = await self.adapter.get_customer(buyer) if buyer is not None else None
                if record is not None and await self._changed(record):
                    found.append(record)
        return found

    async def _changed(self, record: events.Record) -> bool:
        """True (and remembered) if ``record`` differs from what was last emitted for its key."""
        key = f"digest:{events.record_key(record)}"
        digest = _digest(record)
        if await self.cursors.get(key) == digest:
            return False
        await self.cursors.put(key, digest)
        return True

    # --- full re-reads --------------------------------------------------------------------------------

    async def _full_reads(self, report: PollReport) -> None:
        baseline = await self.cursors.get("full-read") is None
        snapshot: dict[str, str] = await self.cursors.get("stock-digests") or {}
        fresh: dict[str, str] = {}
        async for batch in self.adapter.iter_stock():
            for level in batch:
                key, digest = events.record_key(level), _digest(level)
                fresh[key] = digest
                if not baseline and snapshot.get(key) != digest:
                    await self._emit("stock", level, report)
        await self.cursors.put("stock-digests", fresh)
        for company_id in sorted(self.mapping.companies.to_erp):
            credit = await self.adapter.get_credit(company_id)
            if credit is not None and await self._changed(credit) and not baseline:
                await self._emit("credit", credit, report)
        report.complete_to["credit"] = time.time()

    # --- vendor events ----------------------------------------------------------------------------------

    async def on_signal(self, event_type: str, data: Mapping[str, Any]) -> int:
        report = PollReport()
        items: list[Emitted] = []
        if event_type.startswith(SALES_ORDER_EVENTS):
            number = _text(data, "SalesOrder")
            order = await self.odata.get(SALES_ORDERS, f"A_SalesOrder({literal(number)})", missing_ok=True)
            if order is not None:
                status = self._status_event(order)
                items.extend([status] if status else [])
                deliveries = await self.odata.all(DELIVERIES, "A_OutbDeliveryItem", {
                    "$filter": f"ReferenceSDDocument eq {literal(number)}", "$select": "DeliveryDocument"})
                documents = sorted({str(d.get("DeliveryDocument")) for d in deliveries})
                if documents:
                    headers = await self.odata.all(DELIVERIES, "A_OutbDeliveryHeader", {
                        "$filter": "OverallGoodsMovementStatus eq 'C' and ("
                                   + " or ".join(f"DeliveryDocument eq {literal(d)}" for d in documents) + ")",
                        "$expand": "to_DeliveryDocumentItem"})
                    items.extend(await self._shipments(headers))
        elif event_type.startswith(PARTNER_EVENTS):
            items.extend(await self._partner(_text(data, "BusinessPartner")))
        else:
            raise ValueError(f"the S/4HANA change source does not know event type {event_type}")
        for item in sorted(items, key=lambda e: e.version):
            await self._emit("signals", item, report)
        return report.emitted.get("signals", 0)


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the event's data has no {name}")
    return value


def _shipment_id(item: ShipmentCreated | SalesOrderChanged) -> str:
    return item.shipment.shipment_id if isinstance(item, ShipmentCreated) else item.status.value

