"""The simulated S/4 system's pricing procedure for sales orders: which manual condition types it takes at the
item and at the header, and the amounts it computes from what an order holds (never from a total it is sent).

Like SAP's, a header condition of a fixed amount (HB00, freight, fees, tax) is distributed over the items in
proportion to their net value, the rounding difference going to the last item, so the items' net values add up
to the order's ``TotalNetAmount`` and their ``TaxAmount`` to its tax. A consignment's shipping is an item
condition on the first item shipped there; options are the item's sales text (``to_Text``, text id 0001).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pricing_edge.domain.orders import Charge, SalesOrder, SalesOrderLine
from pricing_edge.sim.erp.faces.s4hana import codes as c

DISCOUNT = "RB00"  # item: absolute discount (negative rate)
ORDER_DISCOUNT = "HB00"  # header: absolute discount (negative rate)
SHIPPING = "ZSHP"  # item (a consignment's shipping) or header
HANDLING = "ZHDL"
WRAPPING = "ZWRP"
FEE = "ZFEE"
TAX = "ZTAX"  # item or header: a tax amount
CHARGE_TYPES = {SHIPPING: "shipping", HANDLING: "handling", WRAPPING: "wrapping", FEE: "fee"}
TYPE_OF_CHARGE = {kind: code for code, kind in CHARGE_TYPES.items()}
ITEM_TYPES = frozenset({c.CONDITION_TYPE, DISCOUNT, SHIPPING, TAX})
HEADER_TYPES = frozenset({ORDER_DISCOUNT, SHIPPING, HANDLING, WRAPPING, FEE, TAX})
NEGATIVE_TYPES = frozenset({DISCOUNT, ORDER_DISCOUNT})
STEPS = {c.CONDITION_TYPE: "010", DISCOUNT: "020", ORDER_DISCOUNT: "020", SHIPPING: "030", HANDLING: "030",
         WRAPPING: "030", FEE: "030", TAX: "900"}  # where each sits in the procedure
OPTIONS_TEXT_ID = "0001"  # the item's sales text
NOTE_TEXT_ID = "0002"  # the header note: coupon codes and shipping methods
TEXT_LANGUAGE = "EN"
CENT = Decimal("0.01")


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``amount`` split in proportion to ``weights`` (equally when they are all zero), in cents, adding up."""
    if not weights:
        return []
    total = sum(weights, Decimal(0))
    shares = [w / total if total else Decimal(1) / len(weights) for w in weights]
    parts = [(amount * share).quantize(CENT, ROUND_HALF_UP) for share in shares[:-1]]
    return [*parts, amount - sum(parts, Decimal(0))]


def shipping_item(order: SalesOrder, charge: Charge) -> int | None:
    """The item a consignment's shipping sits on (its first line), or None for a header condition."""
    if charge.kind != "shipping" or charge.consignment is None:
        return None
    return next((i for i, line in enumerate(order.lines) if line.consignment == charge.consignment), None)


@dataclass(frozen=True)
class ItemAmounts:
    net: Decimal  # the item's net value: its own conditions and its share of the header's
    tax: Decimal
    shipping: tuple[Charge, ...]  # the consignment shipping conditions on this item


def header_charges(order: SalesOrder) -> list[Charge]:
    return [charge for charge in order.charges if shipping_item(order, charge) is None]


def item_amounts(order: SalesOrder) -> list[ItemAmounts]:
    """Each item's net value and tax, the header conditions distributed over them by value."""
    attached: list[list[Charge]] = [[] for _ in order.lines]
    for charge in order.charges:
        index = shipping_item(order, charge)
        if index is not None:
            attached[index].append(charge)
    own = [line.net + sum((ch.amount for ch in extra), Decimal(0)) for line, extra in zip(order.lines, attached,
                                                                                      strict=True)]
    header = header_charges(order)
    net_shares = allocate(sum((ch.amount for ch in header), Decimal(0)) - order.discount, own)
    tax_shares = allocate(sum((ch.tax for ch in header), Decimal(0)), own)
    return [ItemAmounts(base + net_share, line.tax + sum((ch.tax for ch in extra), Decimal(0)) + tax_share,
                        tuple(extra))
            for line, extra, base, net_share, tax_share in zip(order.lines, attached, own, net_shares, tax_shares,
                                                               strict=True)]


def options_text(line: SalesOrderLine) -> str:
    return "\n".join(f"{name}: {value}" for name, value in line.options)


def options_of(text: str) -> list[dict[str, str]]:
    """The options in an item's sales text, one ``name: value`` a line (the simulated ERP's options need both
    parts: a line without one is kept under "Option" or with "-")."""
    found = []
    for row in text.splitlines():
        if row.strip():
            name, _, value = row.partition(":")
            found.append({"name": name.strip() or "Option", "value": value.strip() or "-"})
    return found


def note_text(order: SalesOrder) -> str:
    """The header note: the coupons' codes and each consignment's shipping method (S/4 has no field for them)."""
    rows = [f"Coupons: {', '.join(order.coupons)}"] if order.coupons else []
    rows += [f"Shipping {n}: {c.method}" for n, c in enumerate(order.consignments, start=1) if c.method]
    return "\n".join(rows)


def note_of(text: str) -> tuple[list[str], dict[int, str]]:
    """Coupon codes and shipping methods by consignment index from a header note (other lines are free text)."""
    coupons: list[str] = []
    methods: dict[int, str] = {}
    for row in text.splitlines():
        label, colon, value = row.partition(":")
        number = label.removeprefix("Shipping ").strip()
        if colon and label.strip() == "Coupons":
            coupons += [code.strip() for code in value.split(",") if code.strip()]
        elif colon and label.startswith("Shipping ") and number.isdigit() and int(number) >= 1 and value.strip():
            methods[int(number) - 1] = value.strip()
    return coupons, methods
