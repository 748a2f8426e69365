"""The `data` of the ERP's order events, exact in both directions (``domain.events`` does records).

Two events tell the worker's order flows what the ERP did with an order we posted:

- ``com.pricingedge.shipment.created`` — a shipment of a sales order::

      {"shipment_id", "order_number", "reference", "carrier", "tracking_number",
       "lines": [{"sku", "quantity"}], "order_status", "version"}

- ``com.pricingedge.salesorder.changed`` — the order's status changed (released, cancelled, ...)::

      {"order_number", "reference", "status", "version"}

``reference`` is our own key of the order (``domain.orders.order_reference``): the worker routes
an event to its BigCommerce order with ``domain.orders.order_id_of(reference)``. ``version`` is an
integer from the ERP's sequence (newer wins, as for records). Neither event carries money; if one
ever does, it travels as a decimal string like every other amount. Unknown fields are refused, as
for records. The JSON Schemas ``pricing_edge/schemas/events/<type>.json`` are the contract: data is
checked against them, then only converted.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pricing_edge.domain import events
from pricing_edge.domain.events import SALES_ORDER_CHANGED, SHIPMENT_CREATED, EventDataError, check_data
from pricing_edge.domain.orders import ErpStatus, SalesOrder, Shipment, ShipmentLine

ORDER_EVENT_TYPES: tuple[str, ...] = (SHIPMENT_CREATED, SALES_ORDER_CHANGED)
# The order's status right after a shipment: what a shipment can leave it in.
SHIPPED_STATUSES: tuple[ErpStatus, ...] = (ErpStatus.PARTIALLY_SHIPPED, ErpStatus.SHIPPED, ErpStatus.COMPLETED)


@dataclass(frozen=True)
class ShipmentCreated:
    """``com.pricingedge.shipment.created``: a shipment and the ERP sequence number it was made at."""

    shipment: Shipment
    version: int

    @property
    def order_number(self) -> str:
        return self.shipment.order_number

    @property
    def reference(self) -> str:
        return self.shipment.reference


@dataclass(frozen=True)
class SalesOrderChanged:
    """``com.pricingedge.salesorder.changed``: an ERP sales order's new status."""

    order_number: str
    reference: str
    status: ErpStatus
    version: int


OrderEvent = ShipmentCreated | SalesOrderChanged


def is_order_event(event_type: str) -> bool:
    return event_type in ORDER_EVENT_TYPES


# --- events → data ----------------------------------------------------------------------------

def shipment_to_data(event: ShipmentCreated) -> dict[str, Any]:
    shipment = event.shipment
    if shipment.order_status not in SHIPPED_STATUSES:
        raise EventDataError("order_status", f"a shipment cannot leave its order {shipment.order_status.value}")
    if not shipment.lines:
        raise EventDataError("lines", "a shipment ships at least one line")
    return {
        "shipment_id": shipment.shipment_id,
        "order_number": shipment.order_number,
        "reference": shipment.reference,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in shipment.lines],
        "order_status": shipment.order_status.value,
        "version": event.version,
    }


def order_changed_to_data(event: SalesOrderChanged) -> dict[str, Any]:
    return {"order_number": event.order_number, "reference": event.reference, "status": event.status.value,
            "version": event.version}


def to_data(event: OrderEvent) -> dict[str, Any]:
    if isinstance(event, ShipmentCreated):
        return shipment_to_data(event)
    if isinstance(event, SalesOrderChanged):
        return order_changed_to_data(event)
    raise TypeError(f"not an order event: {type(event).__name__}")


def event_type_of(event: OrderEvent) -> str:
    if isinstance(event, ShipmentCreated):
        return SHIPMENT_CREATED
    if isinstance(event, SalesOrderChanged):
        return SALES_ORDER_CHANGED
    raise TypeError(f"not an order event: {type(event).__name__}")


def subject_of(event: OrderEvent) -> str:
    """The CloudEvents subject: the ERP sales order (both events of one order share it, so they
    stay ordered per order wherever the subject shards a stream)."""
    return f"salesorder:{event.order_number}"


# --- data → events ----------------------------------------------------------------------------

def shipment_from_data(data: object) -> ShipmentCreated:
    d = check_data(SHIPMENT_CREATED, data)
    shipment = Shipment(
        shipment_id=d["shipment_id"], order_number=d["order_number"], reference=d["reference"],
        carrier=d["carrier"], tracking_number=d["tracking_number"],
        lines=tuple(ShipmentLine(line["sku"], line["quantity"]) for line in d["lines"]),
        order_status=ErpStatus(d["order_status"]))
    return ShipmentCreated(shipment, d["version"])


def order_changed_from_data(data: object) -> SalesOrderChanged:
    d = check_data(SALES_ORDER_CHANGED, data)
    return SalesOrderChanged(order_number=d["order_number"], reference=d["reference"], status=ErpStatus(d["status"]),
                             version=d["version"])


def from_data(event_type: str, data: object) -> OrderEvent:
    """The order event of ``event_type`` in ``data``; EventDataError names the first bad field."""
    if event_type == SHIPMENT_CREATED:
        return shipment_from_data(data)
    if event_type == SALES_ORDER_CHANGED:
        return order_changed_from_data(data)
    known = ", ".join(ORDER_EVENT_TYPES)
    raise EventDataError("type", f"not an order event type: {event_type!r} (known: {known})")


def event_from_data(event_type: str, data: object) -> events.Record | OrderEvent:
    """Any event the ERP may send: a record change (``domain.events``) or an order event."""
    if is_order_event(event_type):
        return from_data(event_type, data)
    if event_type in events.RECORD_EVENT_TYPES:
        return events.from_data(event_type, data)
    known = ", ".join(events.EVENT_TYPES)
    raise EventDataError("type", f"not an ERP event type: {event_type!r} (known: {known})")


def sales_order_to_data(order: SalesOrder) -> dict[str, Any]:
    """A sales order as the ERP API carries it (what an adapter posts, what the simulator echoes):
    the SalesOrder's fields, money as decimal strings."""
    return {
        "reference": order.reference, "bc_order_id": order.bc_order_id, "customer_id": order.customer_id,
        "sold_to": order.sold_to, "currency": order.currency, "document_type": order.document_type,
        "po_number": order.po_number, "ship_to": None if order.ship_to is None else asdict(order.ship_to),
        "cancelled": order.cancelled,
        "lines": [{"sku": line.sku, "quantity": line.quantity,
                   "unit_price": events.money_str(line.unit_price, f"lines[{i}].unit_price")}
                  for i, line in enumerate(order.lines)],
    }
