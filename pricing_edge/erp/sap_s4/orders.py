"""Sales orders between our model and ``API_SALES_ORDER_SRV``: pure, no IO.

What we post (a deep insert of ``A_SalesOrder``): our reference in ``PurchaseOrderByCustomer`` (the
key looked up before every create), the buyer's own PO number in ``PurchaseOrderByShipToParty`` (a field of
its own), the first ship-to address as the header's ``WE`` partner, and each line an item with:

- its material, quantity and our unit price (options included) as a manual ``PPR0`` pricing element;
- its discounts (its share of coupons and promotions) as a manual discount condition (``RB00``, negative);
- the shipping of its consignment, on the consignment's first item, as a freight condition — S/4 has no
  consignment, so the item is where a per-address charge can stay with its address;
- its tax (and that shipping's) as a tax condition: the amount BigCommerce charged, not a rate S/4 works out;
- its options as the item's sales text (``to_Text``, text id 0001, one ``name: value`` a line). Why text: the
  option's price is already in the unit price; ``SalesOrderItemText`` is the 40-character material short
  text; variant configuration needs configurable materials this API cannot create; the long text is what
  S/4 prints on the confirmation and delivery note;
- a ship-to of its own (a second consignment) as an item partner ``WE`` with its address.

The header note (``to_Text``, text id 0002) names the coupons' codes and each consignment's shipping method.
Header pricing elements carry what belongs to the order as a whole: the order-level discount (``HB00``,
negative), handling, wrapping and fees, and their tax — S/4 distributes header conditions over the items by
value. All condition types come from ``PRICING_EDGE_S4_ORDER_CONDITIONS`` (manual, fixed-amount types of the
merchant's pricing procedure).

What we read back: the status from S/4's overall statuses, the lines from the items that are not rejected
(a rejected item is cancelled), priced by their ``PPR0`` element, and the total S/4 computed: the header's
``TotalNetAmount`` plus the items' ``TaxAmount`` (the header has no tax field).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from pricing_edge.domain.orders import Charge, ErpSalesOrder, ErpStatus, SalesOrder, SalesOrderLine, ShipTo
from pricing_edge.erp.sap_s4.mapping import S4Mapping
from pricing_edge.erp.sap_s4.values import amount, parse_date, quantity

SHIP_TO = "WE"
SOLD_TO = "AG"
OPTIONS_TEXT_ID = "0001"  # the item's sales text
NOTE_TEXT_ID = "0002"  # the header note
TEXT_LANGUAGE = "EN"
_CONDITION_TYPE = re.compile(r"^[A-Z0-9]{1,4}$")


class OrderMappingProblem(ValueError):
    """An order that cannot be expressed in S/4's codes (an unmapped account or SKU)."""


@dataclass(frozen=True)
class OrderConditions:
    """The manual, fixed-amount condition types of the merchant's pricing procedure for everything besides the
    price (``PRICING_EDGE_S4_ORDER_CONDITIONS``, ``kind=TYPE`` pairs). The defaults are SAP's standard header
    discount (HB00) and absolute discount (RB00); S/4's standard freight and tax types are not fixed amounts, so
    those are the simulator's customer types (Z...), to be replaced by the merchant's own."""

    discount: str = "RB00"  # item: a line's discounts, negative
    order_discount: str = "HB00"  # header: the order-level discount, negative
    shipping: str = "ZSHP"  # item: a consignment's shipping, on its first item
    handling: str = "ZHDL"  # header
    wrapping: str = "ZWRP"  # header
    fee: str = "ZFEE"  # header
    tax: str = "ZTAX"  # item: a line's tax with its shipping's; header: the charges' tax

    @classmethod
    def parse(cls, text: str, price_type: str) -> OrderConditions:
        """``kind=TYPE`` pairs, comma-separated; kinds not given keep their default. Kinds may share a type (S/4
        takes RB00 at both levels), but neither the price's nor the tax's: those must stay apart to be read."""
        known = {f.name for f in fields(cls)}
        chosen: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            kind, _, code = (part.strip() for part in pair.partition("="))
            if kind not in known:
                raise ValueError(f"unknown kind {kind!r} (known: {', '.join(sorted(known))})")
            if not _CONDITION_TYPE.match(code):
                raise ValueError(f"{kind}: {code!r} is not a condition type (1-4 capitals or digits)")
            chosen[kind] = code
        conditions = cls(**chosen)
        amounts = [getattr(conditions, name) for name in sorted(known - {"tax"})]
        if price_type in (*amounts, conditions.tax):
            raise ValueError(f"the price's condition type {price_type} cannot carry anything else")
        if conditions.tax in amounts:
            raise ValueError(f"the tax needs a condition type of its own, not {conditions.tax}")
        return conditions

    def charge(self, kind: str) -> str:
        """A charge's condition type (a kind we do not know is a fee)."""
        return {"shipping": self.shipping, "handling": self.handling, "wrapping": self.wrapping}.get(kind, self.fee)


@dataclass(frozen=True)
class OrderDefaults:
    sales_organization: str
    distribution_channel: str
    division: str
    condition_type: str
    rejection_reason: str
    conditions: OrderConditions = field(default_factory=OrderConditions)


def header(order: SalesOrder, mapping: S4Mapping, defaults: OrderDefaults) -> dict[str, Any]:
    sold_to = mapping.sold_to(order.sold_to)
    if sold_to is None:
        raise OrderMappingProblem(f"{order.reference}: account {order.sold_to} has no S/4 sold-to in the mapping")
    return {"SalesOrderType": order.document_type, "SalesOrganization": defaults.sales_organization,
            "DistributionChannel": defaults.distribution_channel, "OrganizationDivision": defaults.division,
            "SoldToParty": sold_to, "PurchaseOrderByCustomer": order.reference,
            "PurchaseOrderByShipToParty": order.po_number or "", "TransactionCurrency": order.currency}


def _rate(rate: Decimal) -> str:
    return f"{rate or Decimal(0):f}"  # never "-0"


def _condition(kind: str, rate: Decimal, currency: str) -> dict[str, str]:
    return {"ConditionType": kind, "ConditionRateValue": _rate(rate), "ConditionCurrency": currency}


def item(line: SalesOrderLine, currency: str, mapping: S4Mapping, defaults: OrderDefaults, *,
         shipping: tuple[Charge, ...] = (), ship_to: ShipTo | None = None, sold_to: str = "") -> dict[str, Any]:
    """One item: material, quantity, its conditions, its options text and (``ship_to``) a ship-to of its own."""
    material = mapping.material(line.sku)
    if material is None:
        raise OrderMappingProblem(f"SKU {line.sku!r} has no S/4 material in the mapping")
    kinds = defaults.conditions
    elements = [_condition(defaults.condition_type, line.unit_price, currency)]
    if line.discount:
        elements.append(_condition(kinds.discount, -line.discount, currency))
    elements += [_condition(kinds.shipping, charge.amount, currency) for charge in shipping]
    tax = line.tax + sum((charge.tax for charge in shipping), Decimal(0))
    if tax:
        elements.append(_condition(kinds.tax, tax, currency))
    body: dict[str, Any] = {"Material": material, "RequestedQuantity": str(line.quantity),
                            "to_PricingElement": {"results": elements}}
    if line.options:
        body["to_Text"] = {"results": [{"Language": TEXT_LANGUAGE, "LongTextID": OPTIONS_TEXT_ID,
                                        "LongText": "\n".join(f"{name}: {value}" for name, value in line.options)}]}
    if ship_to is not None:
        body["to_Partner"] = {"results": [_partner(ship_to, sold_to)]}
    return body


def _partner(address: ShipTo, sold_to: str) -> dict[str, Any]:
    return {"PartnerFunction": SHIP_TO, "Customer": sold_to, "to_Address": {"results": [{
        "AddresseeFullName": address.name[:80], "OrganizationName1": address.company[:40],
        "StreetName": address.street_1[:60], "StreetSuffixName1": address.street_2[:40],
        "CityName": address.city[:40], "PostalCode": address.zip[:10], "Region": address.state[:3],
        "Country": address.country_iso2[:3]}]}}


def ship_to_partner(order: SalesOrder, sold_to: str) -> dict[str, Any] | None:
    return _partner(order.ship_to, sold_to) if order.ship_to is not None else None


def _shipping_item(order: SalesOrder, charge: Charge) -> int | None:
    """The line a consignment's shipping goes on (the consignment's first), or None: a header condition."""
    if charge.kind != "shipping" or charge.consignment is None:
        return None
    return next((n for n, line in enumerate(order.lines) if line.consignment == charge.consignment), None)


def _shipping_by_line(order: SalesOrder) -> list[tuple[Charge, ...]]:
    found: list[list[Charge]] = [[] for _ in order.lines]
    for charge in order.charges:
        index = _shipping_item(order, charge)
        if index is not None:
            found[index].append(charge)
    return [tuple(charges) for charges in found]


def _own_ship_to(order: SalesOrder, line: SalesOrderLine) -> ShipTo | None:
    """A line's ship-to when it is not the header's (a later consignment)."""
    if 0 < line.consignment < len(order.consignments):
        address = order.consignments[line.consignment].ship_to
        return address if address != order.ship_to else None
    return None


def header_conditions(order: SalesOrder, defaults: OrderDefaults) -> list[dict[str, str]]:
    """The order-level discount, the charges not on an item (handling, wrapping, fees) and their tax."""
    kinds, currency = defaults.conditions, order.currency
    elements = [_condition(kinds.order_discount, -order.discount, currency)] if order.discount else []
    charges = [charge for charge in order.charges if _shipping_item(order, charge) is None]
    elements += [_condition(kinds.charge(charge.kind), charge.amount, currency) for charge in charges]
    tax = sum((charge.tax for charge in charges), Decimal(0))
    if tax:
        elements.append(_condition(kinds.tax, tax, currency))
    return elements


def deep_insert(order: SalesOrder, mapping: S4Mapping, defaults: OrderDefaults) -> dict[str, Any]:
    """The ``POST A_SalesOrder`` body for a new order: everything the buyer agreed to."""
    body = header(order, mapping, defaults)
    sold_to = body["SoldToParty"]
    shipping = _shipping_by_line(order)
    body["to_Item"] = {"results": [item(line, order.currency, mapping, defaults, shipping=shipping[n],
                                        ship_to=_own_ship_to(order, line), sold_to=sold_to)
                                   for n, line in enumerate(order.lines)]}
    partner = ship_to_partner(order, sold_to)
    if partner is not None:
        body["to_Partner"] = {"results": [partner]}
    elements = header_conditions(order, defaults)
    if elements:
        body["to_PricingElement"] = {"results": elements}
    text = note(order)
    if text:
        body["to_Text"] = {"results": [{"Language": TEXT_LANGUAGE, "LongTextID": NOTE_TEXT_ID, "LongText": text}]}
    return body


def note(order: SalesOrder) -> str:
    """The header note (text id 0002): the coupons' codes and each consignment's shipping method, which have no
    field of their own in S/4 (a coupon's amount is in the lines' discounts, a shipping's in its condition)."""
    rows = [f"Coupons: {', '.join(order.coupons)}"] if order.coupons else []
    rows += [f"Shipping {n}: {c.method}" for n, c in enumerate(order.consignments, start=1) if c.method]
    return "\n".join(rows)


def status_of(entity: Mapping[str, Any]) -> ErpStatus:
    """S/4's overall statuses → ours: rejected → cancelled; fully delivered → shipped (completed once
    fully billed); partly delivered → partially shipped; in process → released; else open."""
    if entity.get("OverallSDDocumentRejectionSts") == "C":
        return ErpStatus.CANCELLED
    delivery = entity.get("OverallDeliveryStatus")
    if delivery == "C":
        return ErpStatus.COMPLETED if entity.get("OverallOrdReltdBillgStatus") == "C" else ErpStatus.SHIPPED
    if delivery == "B":
        return ErpStatus.PARTIALLY_SHIPPED
    if entity.get("OverallSDProcessStatus") == "B":
        return ErpStatus.RELEASED
    return ErpStatus.OPEN


Key = tuple[str, str]  # (PricingProcedureStep, PricingProcedureCounter)


@dataclass(frozen=True)
class Item:
    """An S/4 order item as read: its number, line, whether it is rejected, and its manual conditions by type
    (their rates added up, and the key of the last: where a change goes)."""

    number: str
    line: SalesOrderLine
    rejected: bool
    elements: Mapping[str, tuple[Decimal, Key]] = field(default_factory=dict)

    @property
    def price_element(self) -> Key | None:
        return self.elements[PRICE][1] if PRICE in self.elements else None


PRICE = ""  # Item.elements' name for the price condition, whatever its type


def items_of(entity: Mapping[str, Any], mapping: S4Mapping, condition_type: str) -> list[Item]:
    found = []
    for raw in (entity.get("to_Item") or {}).get("results", []):
        material = str(raw.get("Material") or "")
        sku = mapping.sku(material) or material  # an item added in S/4 for a material we do not sell
        elements: dict[str, tuple[Decimal, Key]] = {}
        for element in (raw.get("to_PricingElement") or {}).get("results", []):
            kind = str(element.get("ConditionType") or "")
            kind = PRICE if kind == condition_type else kind
            rate = amount(element.get("ConditionRateValue"))
            elements[kind] = (rate if kind == PRICE else elements.get(kind, (Decimal(0), ("", "")))[0] + rate,
                              (str(element.get("PricingProcedureStep")), str(element.get("PricingProcedureCounter"))))
        if PRICE in elements:
            price = elements[PRICE][0]
        else:
            ordered = quantity(raw.get("RequestedQuantity")) or 1
            price = amount(raw.get("NetAmount")) / Decimal(ordered)
        found.append(Item(str(raw.get("SalesOrderItem")),
                          SalesOrderLine(sku, quantity(raw.get("RequestedQuantity")), price),
                          bool(raw.get("SalesDocumentRjcnReason")), elements))
    return found


def total_of(entity: Mapping[str, Any]) -> Decimal | None:
    """What S/4 says the buyer pays: its net value plus the tax of the items not rejected (None: not read)."""
    net = entity.get("TotalNetAmount")
    if net is None:
        return None
    items = (entity.get("to_Item") or {}).get("results", [])
    return amount(net) + sum((amount(i.get("TaxAmount") or "0") for i in items if not i.get("SalesDocumentRjcnReason")),
                             Decimal(0))


def erp_sales_order(entity: Mapping[str, Any], mapping: S4Mapping, condition_type: str) -> ErpSalesOrder:
    lines = tuple(i.line for i in items_of(entity, mapping, condition_type) if not i.rejected)
    changed = parse_date(entity.get("LastChangeDateTime"))
    return ErpSalesOrder(number=str(entity["SalesOrder"]), reference=str(entity.get("PurchaseOrderByCustomer") or ""),
                         status=status_of(entity), lines=lines,
                         version=int(changed.timestamp() * 1000) if changed else 0, total=total_of(entity))


Operation = tuple[str, str, dict[str, Any] | None, dict[str, str]]


def _condition_change(number: str, have: Item, kind: str, rate: Decimal, currency: str) -> Operation | None:
    """A manual condition brought to ``rate``: its rate changed, or (none yet) one added to the item."""
    current, where = have.elements.get(kind, (have.line.unit_price if kind == PRICE else Decimal(0), None))
    if current == rate:
        return None
    if where is None:
        return ("POST", f"A_SalesOrderItem(SalesOrder='{number}',SalesOrderItem='{have.number}')/to_PricingElement",
                _condition(kind, rate, currency), {})
    step, counter = where
    return ("PATCH", f"A_SalesOrderItemPrElement(SalesOrder='{number}',SalesOrderItem='{have.number}',"
                     f"PricingProcedureStep='{step}',PricingProcedureCounter='{counter}')",
            {"ConditionRateValue": _rate(rate)}, {})


def changes(number: str, etag: str, entity: Mapping[str, Any], order: SalesOrder, mapping: S4Mapping,
            defaults: OrderDefaults) -> list[Operation]:
    """The changeset bringing S/4's order in line with ``order``: the header first, under ``If-Match``
    (so the whole changeset fails if someone changed the order since we read it), then per position:
    the item's material and quantity, its manual price, a rejection (cancelled, or no longer ordered),
    or a new item. Positions stay where they are, so a re-read compares like with like."""
    key = f"A_SalesOrder('{number}')"
    operations: list[Operation] = [("PATCH", key, {"PurchaseOrderByShipToParty": order.po_number or ""},
                                    {"If-Match": etag})]
    current = [i for i in items_of(entity, mapping, defaults.condition_type) if not i.rejected]
    wanted = [] if order.cancelled else list(order.lines)
    shipping = _shipping_by_line(order)
    reject = {"SalesDocumentRjcnReason": defaults.rejection_reason}
    for index in range(max(len(current), len(wanted))):
        have = current[index] if index < len(current) else None
        want = wanted[index] if index < len(wanted) else None
        item_key = f"A_SalesOrderItem(SalesOrder='{number}',SalesOrderItem='{have.number}')" if have else ""
        if have is not None and want is None:
            operations.append(("PATCH", item_key, reject, {}))
        elif have is None and want is not None:
            operations.append(("POST", f"{key}/to_Item", item(want, order.currency, mapping, defaults), {}))
        elif have is not None and want is not None:
            patch: dict[str, Any] = {}
            if have.line.sku != want.sku:
                material = mapping.material(want.sku)
                if material is None:
                    raise OrderMappingProblem(f"SKU {want.sku!r} has no S/4 material in the mapping")
                patch["Material"] = material
            if have.line.quantity != want.quantity:
                patch["RequestedQuantity"] = str(want.quantity)
            if patch:
                operations.append(("PATCH", item_key, patch, {}))
            if have.line.unit_price != want.unit_price and have.price_element is None:
                raise OrderMappingProblem(f"{order.reference}: item {have.number} has no "
                                          f"{defaults.condition_type} price to change")
            kinds = defaults.conditions
            tax = want.tax + sum((charge.tax for charge in shipping[index]), Decimal(0))
            for kind, rate in ((PRICE, want.unit_price), (kinds.discount, -want.discount), (kinds.tax, tax)):
                operation = _condition_change(number, have, kind, rate, order.currency)
                if operation is not None:
                    operations.append(operation)
    return operations
