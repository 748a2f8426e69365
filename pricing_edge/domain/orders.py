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


ZERO = Decimal("0")


@dataclass(frozen=True)
class SalesOrderLine:
    """One line as the buyer agreed to it. ``unit_price`` is net (ex tax) and includes what the chosen options
    add; ``discount`` is everything taken off the line (its share of coupons and promotions), ``tax`` the
    line's tax — so the line is worth ``unit_price × quantity − discount + tax``."""

    sku: str
    quantity: int
    unit_price: Decimal
    line_id: int = 0  # BigCommerce's order product id: shipments come back to it
    discount: Decimal = ZERO
    tax: Decimal = ZERO
    options: tuple[tuple[str, str], ...] = ()  # (option, value) as the buyer chose them
    consignment: int = 0  # index into SalesOrder.consignments
    gross_price: Decimal | None = None  # the unit price with tax, as a tax-inclusive store shows it

    def key(self) -> tuple[str, int, Decimal]:
        """What every ERP keeps of a line and a change to it changes (what "the lines differ" compares)."""
        return self.sku, self.quantity, self.unit_price

    @property
    def net(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True)
class Consignment:
    """Where some of the lines go, and how: one BigCommerce shipping address."""

    ship_to: ShipTo
    method: str = ""


@dataclass(frozen=True)
class Charge:
    """Something the buyer pays besides the lines: shipping (per consignment), handling, wrapping, a fee."""

    kind: str  # shipping | handling | wrapping | fee
    description: str
    amount: Decimal  # net (ex tax)
    tax: Decimal = ZERO
    consignment: int | None = None


def same_lines(a: Sequence[SalesOrderLine], b: Sequence[SalesOrderLine]) -> bool:
    return [line.key() for line in a] == [line.key() for line in b]


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
    consignments: tuple[Consignment, ...] = ()  # every ship-to (``ship_to`` is the first, for one-address ERPs)
    charges: tuple[Charge, ...] = ()
    discount: Decimal = ZERO  # taken off the order as a whole (not on any line)
    coupons: tuple[str, ...] = ()  # codes; their amounts are in the lines' discounts
    tax_inclusive: bool = False  # the store shows gross prices

    @property
    def tax_total(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO) + sum((c.tax for c in self.charges), ZERO)

    @property
    def net_total(self) -> Decimal:
        return (sum((line.net for line in self.lines), ZERO) + sum((c.amount for c in self.charges), ZERO)
                - self.discount)

    @property
    def total(self) -> Decimal:
        """What the buyer pays, computed from the lines and charges (never taken from a header)."""
        return self.net_total + self.tax_total


@dataclass(frozen=True)
class ErpSalesOrder:
    """The ERP's view of a posted order (``total``: as the ERP computed it, when it says)."""

    number: str
    reference: str
    status: ErpStatus
    lines: tuple[SalesOrderLine, ...] = ()
    version: int = 0
    total: Decimal | None = None


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int
    line_id: int = 0  # the BigCommerce order product the ERP line was posted with (0: unknown, map by SKU)


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


def _lines(products: Sequence[Mapping[str, Any]], address_index: Mapping[int, int] | None = None,
           tax_inclusive: bool = False) -> tuple[SalesOrderLine, ...]:
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
        where = f"line {index} ({sku})"
        discount = sum((_money(d.get("amount"), f"{where} discount") for d in product.get("applied_discounts") or []
                        if isinstance(d, Mapping)), ZERO)
        total_ex, total_inc = product.get("total_ex_tax"), product.get("total_inc_tax")
        tax = (_money(total_inc, f"{where} total") - _money(total_ex, f"{where} total")
               if total_ex is not None and total_inc is not None else ZERO)
        options = tuple((str(o.get("display_name") or o.get("name") or ""), str(o.get("display_value") or ""))
                        for o in product.get("product_options") or [] if isinstance(o, Mapping))
        address = product.get("order_address_id")
        consignment = (address_index or {}).get(address, 0) if isinstance(address, int) else 0
        gross = (_money(product.get("price_inc_tax"), f"{where} gross price")
                 if tax_inclusive and product.get("price_inc_tax") is not None else None)
        lines.append(SalesOrderLine(sku, quantity, _money(product.get("price_ex_tax"), f"{where} price"),
                                    line_id=int(product.get("id") or 0), discount=discount, tax=tax,
                                    options=options, consignment=consignment, gross_price=gross))
    return tuple(lines)


def _address(address: Mapping[str, Any]) -> ShipTo:
    def text(key: str) -> str:
        return str(address.get(key) or "")

    name = " ".join(part for part in (text("first_name"), text("last_name")) if part)
    return ShipTo(name, text("company"), text("street_1"), text("street_2"), text("city"), text("state"),
                  text("zip"), text("country_iso2"))


def _consignments(addresses: Sequence[Mapping[str, Any]]) -> tuple[tuple[Consignment, ...], tuple[Charge, ...]]:
    """Every shipping address, and its shipping as a charge of its own."""
    consignments, charges = [], []
    for n, address in enumerate(addresses):
        method = str(address.get("shipping_method") or "")
        consignments.append(Consignment(_address(address), method))
        cost = _money(address.get("cost_ex_tax") or 0, f"shipping address {n + 1} cost")
        tax = _money(address.get("cost_tax") or 0, f"shipping address {n + 1} tax")
        if cost or tax:
            charges.append(Charge("shipping", method or "shipping", cost, tax, n))
    return tuple(consignments), tuple(charges)


def _order_charges(order: Mapping[str, Any]) -> tuple[Charge, ...]:
    """Handling and wrapping (shipping is per consignment, from the addresses)."""
    found = []
    for kind in ("handling", "wrapping"):
        cost = _money(order.get(f"{kind}_cost_ex_tax") or 0, f"{kind} cost")
        tax = _money(order.get(f"{kind}_cost_tax") or 0, f"{kind} tax")
        if cost or tax:
            found.append(Charge(kind, kind, cost, tax))
    return tuple(found)


def _fees(fees: Sequence[Mapping[str, Any]]) -> tuple[Charge, ...]:
    return tuple(Charge("fee", str(fee.get("display_name_merchant") or fee.get("display_name_customer") or "fee"),
                        _money(fee.get("cost_ex_tax") or 0, f"fee {n + 1}"), _money(fee.get("cost_tax") or 0,
                                                                                   f"fee {n + 1} tax"))
                 for n, fee in enumerate(fees))


def bc_total(order: Mapping[str, Any]) -> Decimal:
    """What BigCommerce says the buyer pays (``total_inc_tax``): the ERP's own total must equal it."""
    return _money(order.get("total_inc_tax"), "total_inc_tax")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _ship_to(addresses: Sequence[Mapping[str, Any]]) -> ShipTo | None:
    return _address(addresses[0]) if addresses else None


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
                   settings: OrderSettings, *, coupons: Sequence[Mapping[str, Any]] = (),
                   fees: Sequence[Mapping[str, Any]] = ()) -> SalesOrder:
    """The ERP sales order for a BigCommerce order, with everything the buyer agreed to: lines with their
    options, discounts and tax; every consignment and its shipping; handling, wrapping, fees; the order-level
    discount (``discount_amount``; coupons are on the lines). Raises :class:`OrderMappingError` if it cannot
    be one."""
    try:
        order_id = int(order["id"])
        customer_id = int(order.get("customer_id") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        raise OrderMappingError(f"order has no valid id: {order.get('id')!r}") from exc
    currency = str(order.get("currency_code") or order.get("default_currency_code") or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise OrderMappingError(f"order {order_id}: no valid currency code: {currency!r}")
    status = bc_status(order)
    tax_inclusive = bool(order.get("is_tax_inclusive_pricing"))
    address_index = {int(a["id"]): n for n, a in enumerate(addresses) if isinstance(a.get("id"), int)}
    consignments, shipping = _consignments(addresses)
    return SalesOrder(
        reference=order_reference(settings.store_hash, order_id), bc_order_id=order_id, customer_id=customer_id,
        sold_to=sold_to(customer_id, company_id), currency=currency,
        lines=_lines(products, address_index, tax_inclusive),
        ship_to=_ship_to(addresses), po_number=po_number(order, settings), document_type=settings.document_type,
        cancelled=status in CANCELLING_BC_STATUSES, consignments=consignments,
        charges=shipping + _order_charges(order) + _fees(fees),
        discount=_money(order.get("discount_amount") or 0, "discount_amount"),
        coupons=tuple(str(c.get("code") or "") for c in coupons if isinstance(c, Mapping) and c.get("code")),
        tax_inclusive=tax_inclusive)


def price_mismatches(lines: Sequence[SalesOrderLine], erp_prices: Mapping[str, PriceRecord]) -> list[PriceMismatch]:
    """Lines whose ordered unit price differs from the ERP's for that quantity (the "price shown =
    price ordered" check; in a tax-inclusive store the shown price is the gross one, as the ERP's list is).
    A SKU the ERP does not price is an :class:`OrderMappingError`."""
    found = []
    for line in lines:
        record = erp_prices.get(line.sku)
        if record is None:
            raise OrderMappingError(f"SKU {line.sku!r} is unknown to the ERP (no price for this buyer)")
        expected = unit_price(record, line.quantity)
        ordered = line.gross_price if line.gross_price is not None else line.unit_price
        if expected != ordered:
            found.append(PriceMismatch(line.sku, line.quantity, ordered, expected))
    return found


def bc_status_for(status: ErpStatus) -> BcStatus:
    return BC_STATUS_FOR_ERP[status]
