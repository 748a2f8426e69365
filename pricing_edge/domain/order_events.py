"""The `data` of the ERP's order events, exact in both directions (``domain.events`` does records).

Two events tell the worker's order flows what the ERP did with an order we posted:

- ``com.pricingedge.shipment.created`` — a shipment of a sales order::

      {"shipment_id", "order_number", "reference", "carrier", "tracking_number",
       "lines": [{"sku", "quantity", "line_id"?}], "order_status", "version"}

  ``line_id`` (when the ERP kept it) is the BigCommerce order product the line was posted with: the
  shipment goes back to that line, not to the first line with the SKU.

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
        "lines": [{"sku": line.sku, "quantity": line.quantity} | ({"line_id": line.line_id} if line.line_id else {})
                  for line in shipment.lines],
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
        lines=tuple(ShipmentLine(line["sku"], line["quantity"], line.get("line_id", 0)) for line in d["lines"]),
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
    the SalesOrder's fields, money as decimal strings. ``reference`` (ours, the idempotency key) and
    ``po_number`` (the buyer's) are separate fields. No total: the ERP computes its own from the lines and
    charges."""
    money = events.money_str
    return {
        "reference": order.reference, "bc_order_id": order.bc_order_id, "customer_id": order.customer_id,
        "sold_to": order.sold_to, "currency": order.currency, "document_type": order.document_type,
        "po_number": order.po_number, "ship_to": None if order.ship_to is None else asdict(order.ship_to),
        "cancelled": order.cancelled,
        "lines": [{"sku": line.sku, "quantity": line.quantity,
                   "unit_price": money(line.unit_price, f"lines[{i}].unit_price"), "line_id": line.line_id,
                   "discount": money(line.discount, f"lines[{i}].discount"),
                   "tax": money(line.tax, f"lines[{i}].tax"),
                   "options": [{"name": name, "value": value} for name, value in line.options],
                   "consignment": line.consignment}
                  for i, line in enumerate(order.lines)],
        "consignments": [{"ship_to": asdict(c.ship_to), "method": c.method} for c in order.consignments],
        "charges": [{"kind": c.kind, "description": c.description, "amount": money(c.amount, f"charges[{i}].amount"),
                     "tax": money(c.tax, f"charges[{i}].tax"), "consignment": c.consignment}
                    for i, c in enumerate(order.charges)],
        "discount": money(order.discount, "discount"), "coupons": list(order.coupons),
        "tax_inclusive": order.tax_inclusive,
    }


def shipment_items(shipment: Shipment, products: list[dict[str, Any]],
                   default_address: int) -> dict[int, list[dict[str, int]]]:
    """The BigCommerce shipments an ERP shipment becomes: ``{order_address_id: [{order_product_id, quantity}]}``.

    A line goes back to the order product it was posted as (``line_id``) when the ERP kept it; else to the
    order's lines with that SKU, in order, each up to its quantity (the same answer on every retry: what is
    shipped already does not move it). Anything that does not fit the order is an EventDataError naming it."""
    by_id = {int(p["id"]): p for p in products if isinstance(p.get("id"), int)}
    left = {pid: int(p.get("quantity") or 0) for pid, p in by_id.items()}
    items: dict[int, list[dict[str, int]]] = {}

    def add(product_id: int, quantity: int) -> None:
        address = by_id[product_id].get("order_address_id")
        target = address if isinstance(address, int) and address else default_address
        items.setdefault(target, []).append({"order_product_id": product_id, "quantity": quantity})
        left[product_id] -= quantity

    for line in shipment.lines:
        if line.line_id:
            if line.line_id not in by_id or str(by_id[line.line_id].get("sku")) != line.sku:
                raise EventDataError("lines", f"line {line.line_id} ({line.sku}) is not on the order")
            add(line.line_id, line.quantity)
            continue
        quantity = line.quantity
        for product_id, product in by_id.items():
            if quantity and str(product.get("sku")) == line.sku and left[product_id] > 0:
                take = min(quantity, left[product_id])
                add(product_id, take)
                quantity -= take
        if quantity:
            raise EventDataError("lines", f"{line.sku}: {quantity} more than the order has")
    return items
