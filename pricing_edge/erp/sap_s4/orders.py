"""Sales orders between our model and ``API_SALES_ORDER_SRV``: pure, no IO.

What we post (a deep insert of ``A_SalesOrder``): our reference in ``PurchaseOrderByCustomer`` (the
key looked up before every create), the buyer's own PO number in ``PurchaseOrderByShipToParty``,
each line an item with its material, quantity and our unit price as a manual ``PPR0`` pricing
element, and the ship-to address as the ``WE`` partner's document address. Each field is set by one
small function here, so adding fields later (discounts, shipping, payment terms) is a line each.

What we read back: the status from S/4's overall statuses, and the lines from the items that are not
rejected (a rejected item is cancelled), priced by their ``PPR0`` element.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricing_edge.domain.orders import ErpSalesOrder, ErpStatus, SalesOrder, SalesOrderLine, ShipTo
from pricing_edge.erp.sap_s4.mapping import S4Mapping
from pricing_edge.erp.sap_s4.values import amount, parse_date, quantity

SHIP_TO = "WE"
SOLD_TO = "AG"


class OrderMappingProblem(ValueError):
    """An order that cannot be expressed in S/4's codes (an unmapped account or SKU)."""


@dataclass(frozen=True)
class OrderDefaults:
    sales_organization: str
    distribution_channel: str
    division: str
    condition_type: str
    rejection_reason: str


def header(order: SalesOrder, mapping: S4Mapping, defaults: OrderDefaults) -> dict[str, Any]:
    sold_to = mapping.sold_to(order.sold_to)
    if sold_to is None:
        raise OrderMappingProblem(f"{order.reference}: account {order.sold_to} has no S/4 sold-to in the mapping")
    return {"SalesOrderType": order.document_type, "SalesOrganization": defaults.sales_organization,
            "DistributionChannel": defaults.distribution_channel, "OrganizationDivision": defaults.division,
            "SoldToParty": sold_to, "PurchaseOrderByCustomer": order.reference,
            "PurchaseOrderByShipToParty": order.po_number or "", "TransactionCurrency": order.currency}


def item(line: SalesOrderLine, currency: str, mapping: S4Mapping, defaults: OrderDefaults) -> dict[str, Any]:
    material = mapping.material(line.sku)
    if material is None:
        raise OrderMappingProblem(f"SKU {line.sku!r} has no S/4 material in the mapping")
    return {"Material": material, "RequestedQuantity": str(line.quantity),
            "to_PricingElement": {"results": [{"ConditionType": defaults.condition_type,
                                               "ConditionRateValue": f"{line.unit_price:f}",
                                               "ConditionCurrency": currency}]}}


def ship_to_partner(order: SalesOrder, sold_to: str) -> dict[str, Any] | None:
    address: ShipTo | None = order.ship_to
    if address is None:
        return None
    return {"PartnerFunction": SHIP_TO, "Customer": sold_to, "to_Address": {"results": [{
        "AddresseeFullName": address.name[:80], "OrganizationName1": address.company[:40],
        "StreetName": address.street_1[:60], "StreetSuffixName1": address.street_2[:40],
        "CityName": address.city[:40], "PostalCode": address.zip[:10], "Region": address.state[:3],
        "Country": address.country_iso2[:3]}]}}


def deep_insert(order: SalesOrder, mapping: S4Mapping, defaults: OrderDefaults) -> dict[str, Any]:
    """The ``POST A_SalesOrder`` body for a new order."""
    body = header(order, mapping, defaults)
    body["to_Item"] = {"results": [item(line, order.currency, mapping, defaults) for line in order.lines]}
    partner = ship_to_partner(order, body["SoldToParty"])
    if partner is not None:
        body["to_Partner"] = {"results": [partner]}
    return body


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


@dataclass(frozen=True)
class Item:
    """An S/4 order item as read: its number, line, whether it is rejected, and its price element's key."""

    number: str
    line: SalesOrderLine
    rejected: bool
    price_element: tuple[str, str] | None = None  # (PricingProcedureStep, PricingProcedureCounter)


def items_of(entity: Mapping[str, Any], mapping: S4Mapping, condition_type: str) -> list[Item]:
    found = []
    for raw in (entity.get("to_Item") or {}).get("results", []):
        material = str(raw.get("Material") or "")
        sku = mapping.sku(material) or material  # an item added in S/4 for a material we do not sell
        price, element_key = None, None
        for element in (raw.get("to_PricingElement") or {}).get("results", []):
            if element.get("ConditionType") == condition_type:
                price = amount(element.get("ConditionRateValue"))
                element_key = (str(element.get("PricingProcedureStep")), str(element.get("PricingProcedureCounter")))
        if price is None:
            ordered = quantity(raw.get("RequestedQuantity")) or 1
            price = amount(raw.get("NetAmount")) / Decimal(ordered)
        found.append(Item(str(raw.get("SalesOrderItem")),
                          SalesOrderLine(sku, quantity(raw.get("RequestedQuantity")), price),
                          bool(raw.get("SalesDocumentRjcnReason")), element_key))
    return found


def erp_sales_order(entity: Mapping[str, Any], mapping: S4Mapping, condition_type: str) -> ErpSalesOrder:
    lines = tuple(i.line for i in items_of(entity, mapping, condition_type) if not i.rejected)
    changed = parse_date(entity.get("LastChangeDateTime"))
    return ErpSalesOrder(number=str(entity["SalesOrder"]), reference=str(entity.get("PurchaseOrderByCustomer") or ""),
                         status=status_of(entity), lines=lines,
                         version=int(changed.timestamp() * 1000) if changed else 0)


Operation = tuple[str, str, dict[str, Any] | None, dict[str, str]]


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
    reject = {"SalesDocumentRjcnReason": defaults.rejection_reason}
    for index in range(max(len(current), len(wanted))):
        have = current[index] if index < len(current) else None
        want = wanted[index] if index < len(wanted) else None
        item_key = f"A_SalesOrderItem(SalesOrder='{number}',SalesOrderItem='{have.number}')" if have else ""
        if have is not None and want is None:
            operations.append(("PATCH", item_key, reject, {}))
        elif have is None and want is not None:
            operations.append(("POST", f"{key}/to_Item", item(want, order.currency, mapping, defaults), {}))
        elif have is not None and want is not None and have.line != want:
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
            if have.line.unit_price != want.unit_price:
                if have.price_element is None:
                    raise OrderMappingProblem(f"{order.reference}: item {have.number} has no "
                                              f"{defaults.condition_type} price to change")
                step, counter = have.price_element
                element_key = (f"A_SalesOrderItemPrElement(SalesOrder='{number}',SalesOrderItem='{have.number}',"
                               f"PricingProcedureStep='{step}',PricingProcedureCounter='{counter}')")
                operations.append(("PATCH", element_key, {"ConditionRateValue": f"{want.unit_price:f}"}, {}))
    return operations
