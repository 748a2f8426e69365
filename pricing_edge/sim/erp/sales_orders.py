"""The simulated ERP's sales orders and shipments: what the worker's order flow posts to, and what
a warehouse does to them afterwards (driven through ``/_sim``).

Like a real ERP configured to refuse duplicate external references (S/4 PurchaseOrderByCustomer,
B1 NumAtCard, ...), it holds at most one order per ``reference``. Orders are validated against the
ERP's own master data — items (``ErpState.known_skus``) and accounts (the dataset's companies and
customers) — before anything is stored: a rejected order leaves no trace, not even a consumed
number. Each change takes a new ``version`` from the ERP's sequence; status changes and shipments
are emitted as signed events through the outbox (``domain.order_events``).

Routes (JSON, money as decimal strings; errors ``{"error", "field"}``)::

  POST  /api/v1/sales-orders                 create → 201 order; 409 duplicate reference; 422 invalid
  GET   /api/v1/sales-orders?reference=X      {"total", "offset", "next_offset", "items": [0 or 1 order]}
  GET   /api/v1/sales-orders?offset=&limit=   every order, paged, oldest first
  GET   /api/v1/sales-orders/{number}         one order, 404 if unknown
  GET   /api/v1/shipments?reference=X         {"items": [shipment data]} of the order with that reference
  GET   /api/v1/invoices?reference=X          {"items": [{"number", "reference", "order_number", "currency",
                                               "net_amount", "tax_amount", "issued_on", "cancelled", "lines"}]}
  PATCH /api/v1/sales-orders/{number}         lines / ship_to / po_number / cancelled, while open or released
  POST  /_sim/sales-orders/{number}/ship      {"carrier", "tracking_number", "lines"?: [{"sku", "quantity"}]}
  POST  /_sim/sales-orders/{number}/status    {"status"}
  GET   /_sim/sales-orders                    {"orders": [...], "shipments": [...]}
  POST  /_sim/items                           {"sku", "price"?: "10.00", "on_hand"?: 0}
"""
from __future__ import annotations

import asyncio

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain import events, order_events
from pricing_edge.domain.invoices import Invoice, InvoiceLine
from pricing_edge.domain.order_events import OrderEvent, SalesOrderChanged, ShipmentCreated
from pricing_edge.domain.orders import ErpStatus, SalesOrder, SalesOrderLine, Shipment, ShipmentLine, ShipTo
from pricing_edge.intake.envelope import format_time
from pricing_edge.sim.erp import order_parts  # (it uses this module's field readers: imported lazily both ways)
from pricing_edge.sim.erp.api import API, json_response, page
from pricing_edge.sim.erp.outbox import Outbox, OutboxEntry
from pricing_edge.sim.erp.state import ChangeError, ErpState
from pricing_edge.sim.faults import SIM_PREFIX

FIRST_ORDER_NUMBER = 100_001
FIRST_SHIPMENT_NUMBER = 200_001
FIRST_INVOICE_NUMBER = 300_001
DEFAULT_ITEM_PRICE = "10.00"
MAX_LINES = 1000
MAX_TEXT = 255
MAX_PO_NUMBER = 35  # the shortest customer-PO field among the ERPs we target (SAP BSTKD)
PATCHABLE = frozenset({ErpStatus.OPEN, ErpStatus.RELEASED})
SHIPPABLE = frozenset({ErpStatus.OPEN, ErpStatus.RELEASED, ErpStatus.PARTIALLY_SHIPPED})

_MONEY = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ACCOUNT = re.compile(r"^(?P<kind>company|customer):(?P<id>[0-9]+)$")
_SHIP_TO_FIELDS = tuple(ShipTo.__dataclass_fields__)
_ORDER_FIELDS = ("reference", "bc_order_id", "customer_id", "sold_to", "currency", "document_type", "po_number",
                 "ship_to", "cancelled", "lines", "consignments", "charges", "discount", "coupons", "tax_inclusive")
_IDENTITY_FIELDS = ("reference", "bc_order_id", "customer_id", "sold_to", "currency", "document_type")
_LINE_FIELDS = ("sku", "quantity", "unit_price", "line_id", "discount", "tax", "options", "consignment")


class OrderError(Exception):
    """A sales-order request the ERP refuses: the HTTP status, the message and the field to blame."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.extra = dict(extra or {})

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        return json_response(body | self.extra, self.status)


def _invalid(field: str, problem: str) -> OrderError:
    return OrderError(422, f"{field}: {problem}", field)


@dataclass
class SimOrder:
    """One ERP sales order: the posted order as the ERP holds it, and what became of it."""

    number: str
    order: SalesOrder
    status: ErpStatus
    version: int
    created_at: datetime
    updated_at: datetime
    shipped: list[int] = field(default_factory=list)  # per line, parallel to ``order.lines``
    shipment_ids: list[str] = field(default_factory=list)
    invoice_ids: list[str] = field(default_factory=list)
    created_by_trace: str | None = None  # the W3C traceparent of the call that created it (correlation checks)

    def remaining(self) -> dict[str, int]:
        """Quantities left to ship by SKU, in line order (SKUs with nothing left are absent)."""
        left: dict[str, int] = {}
        for line, shipped in zip(self.order.lines, self.shipped, strict=True):
            if line.quantity > shipped:
                left[line.sku] = left.get(line.sku, 0) + line.quantity - shipped
        return left

    def describe(self) -> dict[str, Any]:
        order = self.order
        return {
            "number": self.number,
            **order_events.sales_order_to_data(order),
            "cancelled": self.status is ErpStatus.CANCELLED,
            "status": self.status.value,
            "lines": [{"line_number": i, "sku": line.sku, "quantity": line.quantity,
                       "unit_price": events.money_str(line.unit_price, f"lines[{i - 1}].unit_price"),
                       "shipped_quantity": shipped, **order_parts.line_view(line)}
                      for i, (line, shipped) in enumerate(zip(order.lines, self.shipped, strict=True), start=1)],
            **order_parts.totals(order),
            "shipments": list(self.shipment_ids),
            "version": self.version,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
            "created_by_trace": self.created_by_trace,
        }


class SalesOrders:
    """The ERP's sales orders by number and by reference, and their shipments."""

    def __init__(self, state: ErpState) -> None:
        self.state = state
        self.by_number: dict[str, SimOrder] = {}
        self.by_reference: dict[str, SimOrder] = {}
        self.shipments: dict[str, ShipmentCreated] = {}
        self.invoices: dict[str, Invoice] = {}  # billed on shipment (delivery-related billing)
        self._order_numbers = itertools.count(FIRST_ORDER_NUMBER)
        self._shipment_numbers = itertools.count(FIRST_SHIPMENT_NUMBER)
        self._invoice_numbers = itertools.count(FIRST_INVOICE_NUMBER)
        # Seconds a create waits *after* committing before it answers: the window in which a caller
        # can die having posted an order whose number it never learns (the crash test's window).
        self.reply_hold_seconds = 0.0

    # --- reads -------------------------------------------------------------------------------

    def get(self, number: str) -> SimOrder:
        found = self.by_number.get(number)
        if found is None:
            raise OrderError(404, f"sales order {number} not found", "number")
        return found

    def find(self, reference: str) -> SimOrder | None:
        return self.by_reference.get(reference)

    def all(self) -> list[SimOrder]:
        return list(self.by_number.values())

    def shipments_of(self, reference: str) -> list[ShipmentCreated]:
        found = self.by_reference.get(reference)
        return [self.shipments[s] for s in found.shipment_ids] if found else []

    def invoices_of(self, reference: str) -> list[Invoice]:
        found = self.by_reference.get(reference)
        return [self.invoices[i] for i in found.invoice_ids] if found else []

    # --- the API's changes -------------------------------------------------------------------

    def create(self, body: object, traceparent: str | None = None) -> SimOrder:
        """Validate and store a new order (status open, or cancelled if posted cancelled)."""
        raw = _object(body)
        _only(raw, _ORDER_FIELDS)
        reference = _text(raw, "reference")
        existing = self.by_reference.get(reference)
        if existing is not None:
            raise OrderError(409, f"a sales order with reference {reference} already exists: {existing.number}",
                             "reference", {"number": existing.number})
        parts = order_parts.header_parts(raw)
        order = SalesOrder(
            reference=reference,
            bc_order_id=_integer(raw, "bc_order_id"),
            customer_id=_integer(raw, "customer_id"),
            sold_to=self._sold_to(raw),
            currency=self._currency(raw),
            lines=self._lines(raw, len(parts.get("consignments", ()))),
            ship_to=_ship_to(raw),
            po_number=_po_number(raw),
            document_type=_text(raw, "document_type", default="SO", max_length=10),
            cancelled=_flag(raw, "cancelled"),
            **parts,
        )
        order_parts.check_discounts(order)
        now = datetime.now(UTC)
        created = SimOrder(number=f"SO-{next(self._order_numbers)}", order=order,
                           status=ErpStatus.CANCELLED if order.cancelled else ErpStatus.OPEN,
                           version=self.state.dataset.next_version(), created_at=now, updated_at=now,
                           shipped=[0] * len(order.lines), created_by_trace=traceparent)
        self.by_number[created.number] = created
        self.by_reference[reference] = created
        self.state.stamp(f"order:{created.number}")
        return created

    def update(self, number: str, body: object) -> tuple[SimOrder, SalesOrderChanged | None]:
        """Apply the given fields to an open or released order; the event if its status changed."""
        current = self.get(number)
        if current.status not in PATCHABLE:
            raise OrderError(409, f"sales order {number} is {current.status.value}: it can no longer be changed "
                                  f"(only open or released orders can)", "status", {"status": current.status.value})
        raw = _object(body)
        _only(raw, _ORDER_FIELDS)
        if not raw:
            raise _invalid("body", f"nothing to change: give at least one of {', '.join(_ORDER_FIELDS)}")
        order = current.order
        for name in _IDENTITY_FIELDS:  # sent along with a whole order: fine as long as they are the same
            if raw.get(name) is not None and raw[name] != getattr(order, name):
                raise _invalid(name, f"cannot change the {name} of an existing order "
                                     f"({getattr(order, name)!r}, not {raw[name]!r})")
        changes: dict[str, Any] = order_parts.header_parts(raw)
        if "lines" in raw:
            changes["lines"] = self._lines(raw, len(changes.get("consignments", order.consignments)))
        if "ship_to" in raw:
            changes["ship_to"] = _ship_to(raw)
        if "po_number" in raw:
            changes["po_number"] = _po_number(raw)
        cancel = _flag(raw, "cancelled")
        order_parts.check_discounts(replace(order, **changes))
        # Everything is validated: apply.
        current.order = replace(order, **changes, cancelled=cancel)
        if "lines" in changes:
            current.shipped = [0] * len(current.order.lines)  # open and released orders have shipped nothing
        if cancel:
            current.status = ErpStatus.CANCELLED
        current.version = self.state.dataset.next_version()
        current.updated_at = datetime.now(UTC)
        self.state.stamp(f"order:{number}")
        return current, _changed(current) if cancel else None

    # --- the warehouse (``/_sim``) -----------------------------------------------------------

    def ship(self, number: str, body: object) -> tuple[SimOrder, ShipmentCreated]:
        """Ship the given quantities (default: everything left) in one shipment."""
        current = self.get(number)
        raw = _object(body)
        _only(raw, ("carrier", "tracking_number", "lines"))
        carrier, tracking = _text(raw, "carrier"), _text(raw, "tracking_number")
        if current.status not in SHIPPABLE:
            raise OrderError(409, f"sales order {number} is {current.status.value}: nothing can ship",
                             "status", {"status": current.status.value})
        remaining = current.remaining()
        if not remaining:
            raise OrderError(409, f"sales order {number} has nothing left to ship", "lines")
        wanted = self._ship_lines(raw, remaining) if raw.get("lines") is not None else remaining
        shipped: list[ShipmentLine] = []  # per order line: the shipment says which line (by its line id)
        for sku, quantity in wanted.items():  # fill the order's lines of each SKU in order
            for index, line in enumerate(current.order.lines):
                if quantity == 0:
                    break
                if line.sku == sku:
                    take = min(quantity, line.quantity - current.shipped[index])
                    current.shipped[index] += take
                    quantity -= take
                    if take:
                        shipped.append(ShipmentLine(sku, take, line.line_id))
        status = ErpStatus.PARTIALLY_SHIPPED if current.remaining() else ErpStatus.SHIPPED
        current.status = status
        current.version = self.state.dataset.next_version()
        current.updated_at = datetime.now(UTC)
        shipment = Shipment(shipment_id=f"SH-{next(self._shipment_numbers)}", order_number=number,
                            reference=current.order.reference, carrier=carrier, tracking_number=tracking,
                            lines=_merged(shipped), order_status=status)
        created = ShipmentCreated(shipment, current.version)
        self.shipments[shipment.shipment_id] = created
        current.shipment_ids.append(shipment.shipment_id)
        self._bill(current, shipment)
        self.state.stamp(f"order:{number}")
        self.state.stamp(f"shipment:{shipment.shipment_id}")
        return current, created

    def _bill(self, order: SimOrder, shipment: Shipment) -> None:
        """Delivery-related billing: one invoice per shipment, its lines at the order's unit prices."""
        prices = {line.sku: line.unit_price for line in order.order.lines}
        lines = tuple(InvoiceLine(line.sku, line.quantity, prices[line.sku] * line.quantity) for line in shipment.lines)
        net = sum((line.net_amount for line in lines), Decimal(0))
        invoice = Invoice(number=f"INV-{next(self._invoice_numbers)}", reference=order.order.reference,
                          currency=order.order.currency, net_amount=net, tax_amount=Decimal(0),
                          issued_on=datetime.now(UTC).date(), lines=lines, order_number=order.number)
        self.invoices[invoice.number] = invoice
        order.invoice_ids.append(invoice.number)

    def set_status(self, number: str, body: object) -> tuple[SimOrder, SalesOrderChanged | None]:
        """Set any status (as a warehouse or a clerk would); the event if it changed."""
        current = self.get(number)
        raw = _object(body)
        _only(raw, ("status",))
        value = _text(raw, "status")
        try:
            status = ErpStatus(value)
        except ValueError:
            raise _invalid("status", f"must be one of {', '.join(s.value for s in ErpStatus)}, "
                                     f"got {value!r}") from None
        if status is current.status:
            return current, None
        current.status = status
        current.order = replace(current.order, cancelled=status is ErpStatus.CANCELLED)
        current.version = self.state.dataset.next_version()
        current.updated_at = datetime.now(UTC)
        self.state.stamp(f"order:{number}")
        return current, _changed(current)

    def add_item(self, body: object) -> dict[str, Any]:
        """A new item in the ERP (``POST /_sim/items``), priced and stocked; 409 if it exists."""
        raw = _object(body)
        _only(raw, ("sku", "price", "on_hand"))
        sku = _text(raw, "sku")
        price = _money(raw, "price", default=DEFAULT_ITEM_PRICE)
        on_hand = _integer(raw, "on_hand", default=0)
        try:
            prices, levels = self.state.add_item(sku, price, on_hand)
        except ChangeError as exc:
            raise OrderError(409, str(exc), exc.field) from None
        return {"sku": sku, "prices": [events.price_to_data(r) for r in prices],
                "stock": [events.stock_to_data(level) for level in levels]}

    # --- validation against the ERP's master data --------------------------------------------

    def _sold_to(self, raw: Mapping[str, Any]) -> str:
        value = _text(raw, "sold_to")
        match = _ACCOUNT.fullmatch(value)
        if match is None:
            raise _invalid("sold_to", f"must be \"company:<id>\" or \"customer:<id>\", got {value!r}")
        account_id = int(match["id"])
        dataset = self.state.dataset
        if match["kind"] == "company":
            if dataset.company(account_id) is None:
                raise OrderError(422, f"unknown account {value!r}: no company {account_id}", "sold_to")
        elif account_id != 0 and dataset.customer(account_id) is None:  # customer 0: the guest account
            raise OrderError(422, f"unknown account {value!r}: no customer {account_id}", "sold_to")
        return value

    def _currency(self, raw: Mapping[str, Any]) -> str:
        value = _text(raw, "currency")
        if not _CURRENCY.fullmatch(value) or value not in self.state.currencies:
            raise _invalid("currency", f"must be one of {', '.join(self.state.currencies)}, got {value!r}")
        return value

    def _lines(self, raw: Mapping[str, Any], consignments: int = 0) -> tuple[SalesOrderLine, ...]:
        items = raw.get("lines")
        if not isinstance(items, list) or not items:
            raise _invalid("lines", "must be a non-empty list of {sku, quantity, unit_price}")
        if len(items) > MAX_LINES:
            raise _invalid("lines", f"at most {MAX_LINES} lines per order, got {len(items)}")
        lines = []
        for index, item in enumerate(items):
            where = f"lines[{index}]"
            line = _object(item, where=where)
            _only(line, _LINE_FIELDS, where)
            sku = _text(line, "sku", where=where)
            if not self.state.has_item(sku):
                raise OrderError(422, f"unknown item {sku!r} on line {index + 1}", f"{where}.sku")
            quantity = _integer(line, "quantity", where=where, minimum=1)
            lines.append(SalesOrderLine(sku, quantity, _money(line, "unit_price", where=where),
                                        **order_parts.line_extras(line, where, consignments)))
        return tuple(lines)

    def _ship_lines(self, raw: Mapping[str, Any], remaining: Mapping[str, int]) -> dict[str, int]:
        items = raw["lines"]
        if not isinstance(items, list) or not items:
            raise _invalid("lines", "must be a non-empty list of {sku, quantity} (or absent: ship everything)")
        wanted: dict[str, int] = {}
        for index, item in enumerate(items):
            where = f"lines[{index}]"
            line = _object(item, where=where)
            _only(line, ("sku", "quantity"), where)
            sku = _text(line, "sku", where=where)
            quantity = _integer(line, "quantity", where=where, minimum=1)
            wanted[sku] = wanted.get(sku, 0) + quantity
            if wanted[sku] > remaining.get(sku, 0):
                raise _invalid(f"{where}.quantity", f"only {remaining.get(sku, 0)} of {sku} left to ship, "
                                                    f"asked for {wanted[sku]}")
        return wanted


def invoice_to_data(invoice: Invoice) -> dict[str, Any]:
    """An invoice as the simulated ERP's API carries it (money as decimal strings)."""
    return {"number": invoice.number, "reference": invoice.reference, "order_number": invoice.order_number,
            "currency": invoice.currency, "net_amount": events.money_str(invoice.net_amount),
            "tax_amount": events.money_str(invoice.tax_amount), "issued_on": invoice.issued_on.isoformat(),
            "cancelled": invoice.cancelled,
            "lines": [{"sku": line.sku, "quantity": line.quantity, "net_amount": events.money_str(line.net_amount)}
                      for line in invoice.lines]}


def _merged(lines: list[ShipmentLine]) -> tuple[ShipmentLine, ...]:
    """One shipment line per order line we know the id of; lines without one stay one per SKU (as before)."""
    merged: dict[tuple[str, int], int] = {}
    for line in lines:
        merged[(line.sku, line.line_id)] = merged.get((line.sku, line.line_id), 0) + line.quantity
    return tuple(ShipmentLine(sku, quantity, line_id) for (sku, line_id), quantity in merged.items())


def _changed(order: SimOrder) -> SalesOrderChanged:
    return SalesOrderChanged(order.number, order.order.reference, order.status, order.version)


# --- body fields ------------------------------------------------------------------------------

def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object(value: object, *, where: str = "") -> Mapping[str, Any]:
    """A JSON object: a request body that is not one is malformed (400), a part of one invalid (422)."""
    if not isinstance(value, Mapping):
        raise OrderError(422 if where else 400, f"{where or 'body'}: must be a JSON object", where or "body")
    return value


def _only(raw: Mapping[str, Any], allowed: tuple[str, ...], where: str = "") -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise _invalid(_name(where, unknown[0]), f"unknown field (allowed: {', '.join(allowed)})")


def _text(raw: Mapping[str, Any], key: str, *, where: str = "", default: str | None = None,
          max_length: int = MAX_TEXT) -> str:
    value = raw.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise _invalid(_name(where, key), f"must be a non-empty string of at most {max_length} characters")
    return value


def _integer(raw: Mapping[str, Any], key: str, *, where: str = "", minimum: int = 0,
             default: int | None = None) -> int:
    value = raw.get(key)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _invalid(_name(where, key), f"must be an integer of at least {minimum}, got {value!r}")
    return value


def _money(raw: Mapping[str, Any], key: str, *, where: str = "", default: str | None = None) -> Decimal:
    value = raw.get(key)
    if value is None:
        value = default
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise _invalid(_name(where, key), f"must be a decimal string like \"12.50\", not negative, got {value!r}")
    return Decimal(value)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(key, f"must be true or false, got {value!r}")
    return value


def _po_number(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("po_number")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_PO_NUMBER:
        raise _invalid("po_number", f"must be a string of at most {MAX_PO_NUMBER} characters or null")
    return value or None


def _ship_to(raw: Mapping[str, Any]) -> ShipTo | None:
    value = raw.get("ship_to")
    if value is None:
        return None
    address = _object(value, where="ship_to")
    _only(address, _SHIP_TO_FIELDS, "ship_to")
    parts: dict[str, str] = {}
    for key in _SHIP_TO_FIELDS:
        part = address.get(key)
        if part is None:
            part = ""
        if not isinstance(part, str) or len(part) > MAX_TEXT:
            raise _invalid(f"ship_to.{key}", f"must be a string of at most {MAX_TEXT} characters")
        parts[key] = part
    return ShipTo(**parts)


# --- routes -----------------------------------------------------------------------------------

class OrderSignals(Protocol):
    """Whoever tells the outside world about an order change (our events, or a vendor's)."""

    def emit_order(self, event: OrderEvent) -> OutboxEntry | None: ...


def sales_order_routes(orders: SalesOrders, outbox: Outbox, signals: OrderSignals, *,
                       api: bool = True) -> list[Route]:
    """The ``/api/v1`` sales-order API (faulted like every read; only on the generic face, ``api``) and
    the ``/_sim`` controls every face shares."""

    def emit(event: OrderEvent) -> OutboxEntry | None:
        return signals.emit_order(event)

    async def first_attempt(entry: OutboxEntry | None) -> None:
        if entry is not None:
            await outbox.wait_first_attempt(entry)

    async def body_of(request: Request) -> object:
        raw = await request.body()
        try:
            return orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise OrderError(400, "body: must be a JSON object", "body") from None

    def described(entry: OutboxEntry | None) -> dict[str, Any] | None:
        return None if entry is None else entry.describe()

    async def create(request: Request) -> Response:
        try:
            created = orders.create(await body_of(request), request.headers.get("traceparent"))
        except OrderError as exc:
            return exc.response()
        if orders.reply_hold_seconds > 0:
            await asyncio.sleep(orders.reply_hold_seconds)
        return json_response(created.describe(), 201)

    async def hold_replies(request: Request) -> Response:
        body = await body_of(request)
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 600:
            return OrderError(422, "seconds: a number from 0 to 600", "seconds").response()
        orders.reply_hold_seconds = float(seconds)
        return json_response({"seconds": orders.reply_hold_seconds})

    async def listing(request: Request) -> Response:
        reference = request.query_params.get("reference")
        if reference is not None:
            found = orders.find(reference)
            chosen = [found] if found is not None else []
        else:
            chosen = orders.all()
        offset, limit, next_offset = page(request, len(chosen))
        return json_response({"total": len(chosen), "offset": offset, "next_offset": next_offset,
                              "items": [o.describe() for o in chosen[offset:offset + limit]]})

    async def get_one(request: Request) -> Response:
        try:
            return json_response(orders.get(request.path_params["number"]).describe())
        except OrderError as exc:
            return exc.response()

    async def update(request: Request) -> Response:
        try:
            updated, event = orders.update(request.path_params["number"], await body_of(request))
        except OrderError as exc:
            return exc.response()
        if event is not None:
            emit(event)
        return json_response(updated.describe())

    async def ship(request: Request) -> Response:
        try:
            shipped, event = orders.ship(request.path_params["number"], await body_of(request))
        except OrderError as exc:
            return exc.response()
        entry = emit(event)
        await first_attempt(entry)
        return json_response({"order": shipped.describe(), "shipment": order_events.to_data(event),
                              "event": described(entry)})

    async def set_status(request: Request) -> Response:
        try:
            changed, event = orders.set_status(request.path_params["number"], await body_of(request))
        except OrderError as exc:
            return exc.response()
        entry = emit(event) if event is not None else None
        await first_attempt(entry)
        return json_response({"order": changed.describe(), "event": described(entry)})

    async def shipments(request: Request) -> Response:
        reference = request.query_params.get("reference")
        if not reference:
            return OrderError(400, "reference: required", "reference").response()
        return json_response({"items": [order_events.to_data(s) for s in orders.shipments_of(reference)]})

    async def invoices(request: Request) -> Response:
        reference = request.query_params.get("reference")
        if not reference:
            return OrderError(400, "reference: required", "reference").response()
        return json_response({"items": [invoice_to_data(i) for i in orders.invoices_of(reference)]})

    async def all_orders(request: Request) -> Response:
        return json_response({"orders": [o.describe() for o in orders.all()],
                              "shipments": [order_events.to_data(s) for s in orders.shipments.values()]})

    async def add_item(request: Request) -> Response:
        try:
            return json_response(orders.add_item(await body_of(request)), 201)
        except OrderError as exc:
            return exc.response()

    api_routes = [
        Route(f"{API}/sales-orders", create, methods=["POST"]),
        Route(f"{API}/sales-orders", listing, methods=["GET"]),
        Route(f"{API}/sales-orders/{{number}}", get_one, methods=["GET"]),
        Route(f"{API}/sales-orders/{{number}}", update, methods=["PATCH"]),
        Route(f"{API}/shipments", shipments, methods=["GET"]),
        Route(f"{API}/invoices", invoices, methods=["GET"]),
    ]
    return (api_routes if api else []) + [
        Route(f"{SIM_PREFIX}/sales-orders", all_orders, methods=["GET"]),
        Route(f"{SIM_PREFIX}/sales-orders/{{number}}/ship", ship, methods=["POST"]),
        Route(f"{SIM_PREFIX}/sales-orders/{{number}}/status", set_status, methods=["POST"]),
        Route(f"{SIM_PREFIX}/items", add_item, methods=["POST"]),
        Route(f"{SIM_PREFIX}/sales-orders/hold-replies", hold_replies, methods=["POST"]),
    ]
