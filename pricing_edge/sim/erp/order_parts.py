"""What a posted sales order carries besides SKU, quantity and price — each line's id, discount, tax, options
and consignment; the order's consignments (ship-tos), charges (shipping, handling, wrapping, fees), order-level
discount, coupons and tax mode — parsed as the simulated ERP's API takes them, and the totals the ERP computes
from them (it never trusts a total it is sent: none is accepted)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pricing_edge.domain import events
from pricing_edge.domain.orders import Charge, Consignment, SalesOrder, SalesOrderLine
from pricing_edge.sim.erp import sales_orders as so

CHARGE_KINDS = ("shipping", "handling", "wrapping", "fee")
_CHARGE_FIELDS = ("kind", "description", "amount", "tax", "consignment")


def line_extras(line: Mapping[str, Any], where: str, consignments: int) -> dict[str, Any]:
    """The optional parts of one line, as SalesOrderLine keywords."""
    options = line.get("options") or []
    if not isinstance(options, list):
        raise so._invalid(f"{where}.options", "must be a list of {name, value}")
    parsed = []
    for n, option in enumerate(options):
        raw = so._object(option, where=f"{where}.options[{n}]")
        so._only(raw, ("name", "value"), f"{where}.options[{n}]")
        parsed.append((so._text(raw, "name", where=f"{where}.options[{n}]"),
                       so._text(raw, "value", where=f"{where}.options[{n}]")))
    consignment = so._integer(line, "consignment", where=where, default=0)
    if consignment and consignment >= consignments:
        raise so._invalid(f"{where}.consignment", f"the order has {consignments} consignment(s)")
    return {"line_id": so._integer(line, "line_id", where=where, default=0),
            "discount": so._money(line, "discount", where=where, default="0"),
            "tax": so._money(line, "tax", where=where, default="0"),
            "options": tuple(parsed), "consignment": consignment}


def header_parts(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The optional order-level parts given in ``raw``, as SalesOrder keywords."""
    parts: dict[str, Any] = {}
    if raw.get("consignments") is not None:
        items = raw["consignments"]
        if not isinstance(items, list):
            raise so._invalid("consignments", "must be a list of {ship_to, method}")
        found = []
        for n, item in enumerate(items):
            value = so._object(item, where=f"consignments[{n}]")
            so._only(value, ("ship_to", "method"), f"consignments[{n}]")
            ship_to = so._ship_to(value)
            if ship_to is None:
                raise so._invalid(f"consignments[{n}].ship_to", "is required")
            method = value.get("method") or ""
            if not isinstance(method, str):
                raise so._invalid(f"consignments[{n}].method", "must be a string")
            found.append(Consignment(ship_to, method))
        parts["consignments"] = tuple(found)
    if raw.get("charges") is not None:
        parts["charges"] = _charges(raw["charges"], len(parts.get("consignments", ())))
    if raw.get("discount") is not None:
        parts["discount"] = so._money(raw, "discount")
    if raw.get("coupons") is not None:
        coupons = raw["coupons"]
        if not isinstance(coupons, list) or not all(isinstance(c, str) and c for c in coupons):
            raise so._invalid("coupons", "must be a list of coupon codes")
        parts["coupons"] = tuple(coupons)
    if raw.get("tax_inclusive") is not None:
        parts["tax_inclusive"] = so._flag(raw, "tax_inclusive")
    return parts


def _charges(items: Any, consignments: int) -> tuple[Charge, ...]:
    if not isinstance(items, list):
        raise so._invalid("charges", "must be a list of {kind, description, amount, tax, consignment}")
    found = []
    for n, item in enumerate(items):
        where = f"charges[{n}]"
        value = so._object(item, where=where)
        so._only(value, _CHARGE_FIELDS, where)
        kind = so._text(value, "kind", where=where)
        if kind not in CHARGE_KINDS:
            raise so._invalid(f"{where}.kind", f"must be one of {', '.join(CHARGE_KINDS)}, got {kind!r}")
        consignment = value.get("consignment")
        if consignment is not None and (isinstance(consignment, bool) or not isinstance(consignment, int)
                                        or not 0 <= consignment < max(consignments, 1)):
            raise so._invalid(f"{where}.consignment", f"must be a consignment index below {max(consignments, 1)}")
        found.append(Charge(kind, so._text(value, "description", where=where, default=kind),
                            so._money(value, "amount", where=where), so._money(value, "tax", where=where,
                                                                                 default="0"), consignment))
    return tuple(found)


def check_discounts(order: SalesOrder) -> None:
    """A discount larger than what it is taken off is refused (the ERP's totals never go negative)."""
    for n, line in enumerate(order.lines):
        if line.discount > line.unit_price * line.quantity:
            raise so._invalid(f"lines[{n}].discount", f"{line.discount} is more than the line's amount")
    if order.net_total < 0:
        raise so._invalid("discount", f"{order.discount} is more than the order's amount")


def totals(order: SalesOrder) -> dict[str, str]:
    """The ERP's totals, computed from the lines and charges it holds."""
    return {"net_total": events.money_str(order.net_total, "net_total"),
            "tax_total": events.money_str(order.tax_total, "tax_total"),
            "total": events.money_str(order.total, "total")}


def line_view(line: SalesOrderLine) -> dict[str, Any]:
    return {"line_id": line.line_id, "discount": events.money_str(line.discount, "discount"),
            "tax": events.money_str(line.tax, "tax"),
            "options": [{"name": name, "value": value} for name, value in line.options],
            "consignment": line.consignment}
