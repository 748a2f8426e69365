"""Orders between BigCommerce and the ERP: the sales order we post, and the rules that shape it.

Pure: a BigCommerce v2 order (with its products and shipping addresses, as the REST Admin API
returns them) becomes a :class:`SalesOrder`; statuses map both ways; each line's unit price is
checked against the ERP's price for that buyer and quantity. No IO here — the worker's order
flow fetches, this decides, the adapters send.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum, StrEnum
from typing import Any

from pricing_edge.domain.pricing import PriceRecord, unit_price


class OrderMappingError(ValueError):
    """An order that cannot become an ERP sales order as it stands (fix the data or the mapping)."""


class BcStatus(IntEnum):
    """BigCommerce's built-in order statuses (``GET /v2/order_statuses``)."""

    INCOMPLETE = 0
    PENDING = 1
    SHIPPED = 2
    PARTIALLY_SHIPPED = 3
    REFUNDED = 4
    CANCELLED = 5
    DECLINED = 6
    AWAITING_PAYMENT = 7
    AWAITING_PICKUP = 8
    AWAITING_SHIPMENT = 9
    COMPLETED = 10
    AWAITING_FULFILLMENT = 11
    MANUAL_VERIFICATION_REQUIRED = 12
    DISPUTED = 13
    PARTIALLY_REFUNDED = 14


class ErpStatus(StrEnum):
    """A sales order's life in the ERP, as far as the storefront cares."""

    OPEN = "open"
    RELEASED = "released"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


BC_STATUS_FOR_ERP: dict[ErpStatus, BcStatus] = {
    ErpStatus.OPEN: BcStatus.AWAITING_FULFILLMENT,
    ErpStatus.RELEASED: BcStatus.AWAITING_SHIPMENT,
    ErpStatus.PARTIALLY_SHIPPED: BcStatus.PARTIALLY_SHIPPED,
    ErpStatus.SHIPPED: BcStatus.SHIPPED,
    ErpStatus.COMPLETED: BcStatus.COMPLETED,
    ErpStatus.CANCELLED: BcStatus.CANCELLED,
}
# BigCommerce statuses that end an order before fulfilment: the ERP's order is cancelled too.
CANCELLING_BC_STATUSES = frozenset({BcStatus.CANCELLED, BcStatus.DECLINED, BcStatus.REFUNDED})
# Fulfilment statuses the ERP reports back; BigCommerce moving an order into one of them itself
# is the echo of our own write, not a request to change the ERP.
ERP_OWNED_BC_STATUSES = frozenset(BC_STATUS_FOR_ERP.values()) - {BcStatus.CANCELLED}


@dataclass(frozen=True)
class ShipTo:
    name: str
    company: str
    street_1: str
    street_2: str
    city: str
    state: str
    zip: str
    country_iso2: str


@dataclass(frozen=True)
class SalesOrderLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class SalesOrder:
    """What we post: everything an ERP needs, keyed by our own ``reference`` (never posted twice)."""

    reference: str
    bc_order_id: int
    customer_id: int
    sold_to: str  # the ERP's customer account: "company:<id>" for B2B buyers, "customer:<id>" else
    currency: str
    lines: tuple[SalesOrderLine, ...]
    ship_to: ShipTo | None = None
    po_number: str | None = None
    document_type: str = "SO"
    cancelled: bool = False


@dataclass(frozen=True)
class ErpSalesOrder:
    """The ERP's view of a posted order."""

    number: str
    reference: str
    status: ErpStatus
    lines: tuple[SalesOrderLine, ...] = ()
    version: int = 0


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """An ERP shipment of a sales order (``com.pricingedge.shipment.created``)."""

    shipment_id: str
    order_number: str
    reference: str
    carrier: str
    tracking_number: str
    lines: tuple[ShipmentLine, ...]
    order_status: ErpStatus = ErpStatus.SHIPPED


@dataclass(frozen=True)
class PriceMismatch:
    sku: str
    quantity: int
    ordered: Decimal
    erp: Decimal

    def describe(self) -> dict[str, str | int]:
        return {"sku": self.sku, "quantity": self.quantity, "ordered": str(self.ordered), "erp": str(self.erp)}


@dataclass(frozen=True)
class OrderSettings:
    """The merchant's choices for posting orders."""

    store_hash: str = "demo"
    document_type: str = "SO"
    po_payment_methods: tuple[str, ...] = ("Purchase Order", "PO")
    extra: Mapping[str, str] = field(default_factory=dict)


_REFERENCE = re.compile(r"^BC-(?P<store>[A-Za-z0-9_-]+)-(?P<order>[0-9]+)$")


def order_reference(store_hash: str, order_id: int) -> str:
    """Our key for an order in the ERP: the same for every retry, replay and process."""
    return f"BC-{store_hash}-{order_id}"


def order_id_of(reference: str) -> int | None:
    """The BigCommerce order id in one of our references, or None for anything else."""
    match = _REFERENCE.match(reference)
    return int(match["order"]) if match else None


def bc_status(order: Mapping[str, Any]) -> BcStatus:
    try:
        return BcStatus(int(order["status_id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise OrderMappingError(f"order has no valid status_id: {order.get('status_id')!r}") from exc


def is_postable(order: Mapping[str, Any]) -> bool:
    """Incomplete orders (status 0: checkout not finished) are never posted."""
    return bc_status(order) is not BcStatus.INCOMPLETE


def _money(value: object, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise OrderMappingError(f"{where}: not an amount: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise OrderMappingError(f"{where}: not an amount: {value!r}")
    return amount


def _lines(products: Sequence[Mapping[str, Any]]) -> tuple[SalesOrderLine, ...]:
    if not products:
        raise OrderMappingError("order has no products")
    lines = []
    for index, product in enumerate(products, start=1):
        sku = str(product.get("sku") or "").strip()
        if not sku:
            raise OrderMappingError(f"line {index}: product {product.get('product_id')} has no SKU")
        try:
            quantity = int(product["quantity"])
        except (KeyError, TypeError, ValueError) as exc:
            raise OrderMappingError(f"line {index} ({sku}): no valid quantity") from exc
        if quantity < 1:
            raise OrderMappingError(f"line {index} ({sku}): quantity {quantity} is not positive")
        lines.append(SalesOrderLine(sku, quantity, _money(product.get("price_ex_tax"), f"line {index} ({sku}) price")))
    return tuple(lines)


def _ship_to(addresses: Sequence[Mapping[str, Any]]) -> ShipTo | None:
    if not addresses:
        return None
    first = addresses[0]

    def text(key: str) -> str:
        return str(first.get(key) or "")

    name = " ".join(part for part in (text("first_name"), text("last_name")) if part)
    return ShipTo(name, text("company"), text("street_1"), text("street_2"), text("city"), text("state"),
                  text("zip"), text("country_iso2"))


def sold_to(customer_id: int, company_id: int | None) -> str:
    """B2B buyers buy on their company's account; everyone else on their own (guests: customer 0)."""
    return f"company:{company_id}" if company_id is not None else f"customer:{customer_id}"


def po_number(order: Mapping[str, Any], settings: OrderSettings) -> str | None:
    """The buyer's PO number: with a purchase-order payment method, its message (``customer_message``)."""
    if str(order.get("payment_method") or "") not in settings.po_payment_methods:
        return None
    message = str(order.get("customer_message") or "").strip()
    return message[:35] or None  # 35: the shortest PO field among the ERPs we target (SAP BSTKD)


def to_sales_order(order: Mapping[str, Any], products: Sequence[Mapping[str, Any]],
                   addresses: Sequence[Mapping[str, Any]], company_id: int | None,
                   settings: OrderSettings) -> SalesOrder:
    """The ERP sales order for a BigCommerce order; raises :class:`OrderMappingError` if it cannot be one."""
    try:
        order_id = int(order["id"])
        customer_id = int(order.get("customer_id") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        raise OrderMappingError(f"order has no valid id: {order.get('id')!r}") from exc
    currency = str(order.get("currency_code") or order.get("default_currency_code") or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise OrderMappingError(f"order {order_id}: no valid currency code: {currency!r}")
    status = bc_status(order)
    return SalesOrder(
        reference=order_reference(settings.store_hash, order_id), bc_order_id=order_id, customer_id=customer_id,
        sold_to=sold_to(customer_id, company_id), currency=currency, lines=_lines(products),
        ship_to=_ship_to(addresses), po_number=po_number(order, settings), document_type=settings.document_type,
        cancelled=status in CANCELLING_BC_STATUSES)


def price_mismatches(lines: Sequence[SalesOrderLine], erp_prices: Mapping[str, PriceRecord]) -> list[PriceMismatch]:
    """Lines whose ordered unit price differs from the ERP's for that quantity (the "price shown =
    price ordered" check). A SKU the ERP does not price is an :class:`OrderMappingError`."""
    found = []
    for line in lines:
        record = erp_prices.get(line.sku)
        if record is None:
            raise OrderMappingError(f"SKU {line.sku!r} is unknown to the ERP (no price for this buyer)")
        expected = unit_price(record, line.quantity)
        if expected != line.unit_price:
            found.append(PriceMismatch(line.sku, line.quantity, line.unit_price, expected))
    return found


def bc_status_for(status: ErpStatus) -> BcStatus:
    return BC_STATUS_FOR_ERP[status]
