"""Sales-order writes on the S/4HANA face: deep insert of ``A_SalesOrder`` (items with their manual
conditions, sales text and own ship-to partner; header conditions; partners with a ship-to address),
header changes, item changes, condition changes, additions and deletions, item rejection as cancellation
— staged per request or ``$batch`` changeset and applied to the one state at commit, all or nothing.

Only what the EDMX has is taken, and only the manual condition types of the face's pricing procedure
(``conditions.py``): anything else is an OData error. Amounts pricing determines (``TotalNetAmount``,
``NetAmount``, ``TaxAmount``, ``ConditionAmount``) are refused, never stored: the totals shown are computed.

Like an S/4 system whose duplicate-PO check is set to *error*, a second order with the same
``PurchaseOrderByCustomer`` is refused (``V4/115``); connectors must look the reference up first
anyway. Errors are Gateway bodies with SAP-style message codes naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from pricing_edge.domain import events
from pricing_edge.domain.orders import Charge, SalesOrderLine, ShipTo
from pricing_edge.sim.erp import order_parts
from pricing_edge.sim.erp.faces.odata.model import Service
from pricing_edge.sim.erp.faces.odata.server import ODataError, Provider, Row
from pricing_edge.sim.erp.faces.odata.values import ValueError_, from_json
from pricing_edge.sim.erp.faces.s4hana import codes as c
from pricing_edge.sim.erp.faces.s4hana import conditions as cn
from pricing_edge.sim.erp.faces.s4hana.codes import S4Codes
from pricing_edge.sim.erp.sales_orders import OrderError, SalesOrders, SimOrder
from pricing_edge.sim.erp.state import ErpState

DUPLICATE_PO = "V4/115"
COMPUTED = frozenset({"TotalNetAmount", "NetAmount", "TaxAmount", "ConditionAmount"})  # pricing's, never taken
REJECTION_REASON = "61"


@dataclass
class Staged:
    """One order's pending change: its lines (a rejected one at quantity 0) and header fields."""

    lines: list[SalesOrderLine]
    po_number: str | None
    cancel: bool = False
    touched: bool = False


@dataclass(frozen=True)
class Item:
    """An item as a deep insert gives it: the line, its consignment's shipping amounts, its own ship-to."""

    line: SalesOrderLine
    shipping: tuple[Decimal, ...]
    ship_to: ShipTo | None


@dataclass
class SalesOrderWrites:
    state: ErpState
    orders: SalesOrders
    codes: S4Codes
    service: Service
    staged: dict[str, Staged] = field(default_factory=dict)
    created: list[SimOrder] = field(default_factory=list)
    on_change: list[Any] = field(default_factory=list)  # callbacks(order) after a commit changed it
    last_commit_created: bool = False

    # --- transactions (gateway: one per modifying request or changeset) ----------------------------

    def begin(self) -> None:
        self.staged.clear()
        self.created.clear()
        self.last_commit_created = False

    def rollback(self) -> None:
        for order in self.created:  # a deep insert inside a failed changeset never happened
            self.orders.by_number.pop(order.number, None)
            self.orders.by_reference.pop(order.order.reference, None)
        self.staged.clear()
        self.created.clear()

    def commit(self) -> None:
        for number, staged in list(self.staged.items()):
            current = self.orders.get(number)
            body: dict[str, Any] = {"po_number": staged.po_number}
            remaining = [line for line in staged.lines if line.quantity > 0]
            if staged.cancel or not remaining:
                body["cancelled"] = True
            else:
                body["lines"] = [_line_body(line) for line in remaining]
            try:
                _, event = self.orders.update(number, body)
            except OrderError as exc:
                raise ODataError(400, f"Sales order {self.codes.sales_order(number)}: {exc.message}", "V1/045") from None
            for callback in self.on_change:
                callback(current, event)
        for order in self.created:
            for callback in self.on_change:
                callback(order, None)
        self.last_commit_created = bool(self.created)
        self.staged.clear()
        self.created.clear()

    def reply_delay(self) -> float:
        """The simulator's held replies (``/_sim/sales-orders/hold-replies``) for order creates."""
        return self.orders.reply_hold_seconds if self.last_commit_created else 0.0

    # --- the providers' writes ---------------------------------------------------------------------

    def _props(self, set_name: str, body: dict[str, Any]) -> dict[str, Any]:
        entity = self.service.sets[set_name]
        values = {}
        for name, raw in body.items():
            prop = entity.prop(name)
            if prop is None:
                if entity.nav(name) is not None or name == "__metadata":
                    continue
                raise ODataError(400, f"property {name} is not known in {entity.type_name}", "/IWBEP/CM_MGW_RT/004")
            if name in COMPUTED:
                raise ODataError(400, f"{name} is determined by pricing and cannot be entered (give conditions)",
                                 "V1/046")
            values[name] = from_json(prop, raw)
        return values

    def create(self, body: dict[str, Any]) -> Row:
        header = self._props("A_SalesOrder", body)
        party = str(header.get("SoldToParty") or "")
        account = self.codes.state_account(party)
        if account is None:
            raise ODataError(400, f"Sold-to party {party} not maintained for sales area "
                                  f"{c.SALES_ORGANIZATION}/{c.DISTRIBUTION_CHANNEL}/{c.DIVISION}", "V1/302")
        reference = str(header.get("PurchaseOrderByCustomer") or "")
        existing = self.orders.find(reference) if reference else None
        if existing is not None:
            raise ODataError(400, f"A purchase order already exists under number {reference} "
                                  f"(sales order {self.codes.sales_order(existing.number)})", DUPLICATE_PO)
        items = _results(body.get("to_Item"), "to_Item")
        if not items:
            raise ODataError(400, "Sales order has no items: enter at least one item", "V1/555")
        currency = str(header.get("TransactionCurrency") or "USD")
        ship_to = self._ship_to(body.get("to_Partner"))
        consignments = [ship_to] if ship_to is not None else []
        lines, charges = [], []
        for index, raw in enumerate(items):
            parsed = self._item(raw, index, currency)
            consignment = 0
            if parsed.ship_to is not None:
                if parsed.ship_to not in consignments:
                    consignments.append(parsed.ship_to)
                consignment = consignments.index(parsed.ship_to)
            lines.append(replace(parsed.line, consignment=consignment))
            charges += [Charge("shipping", "shipping", amount, consignment=consignment) for amount in parsed.shipping]
        discount, header_charges, header_tax = self._header_conditions(body.get("to_PricingElement"))
        coupons, methods = self._note(body.get("to_Text"))
        charges = [replace(ch, description=methods.get(ch.consignment or 0, ch.description)) for ch in charges]
        if header_charges:  # the header's tax stays with the header's charges
            shares = cn.allocate(header_tax, [ch.amount for ch in header_charges])
            header_charges = [replace(ch, tax=share) for ch, share in zip(header_charges, shares, strict=True)]
        else:
            lines = _with_header_tax(lines, charges, header_tax)
        generic = {"reference": reference or f"S4-{len(self.orders.by_number) + 1}", "bc_order_id": 0,
                   "customer_id": 0, "sold_to": account, "currency": currency,
                   "document_type": header.get("SalesOrderType") or c.SALES_ORDER_TYPE,
                   "po_number": header.get("PurchaseOrderByShipToParty") or None,
                   "ship_to": _address_body(ship_to) if ship_to else None,
                   "lines": [_line_body(line) for line in lines],
                   "consignments": [{"ship_to": _address_body(a), "method": methods.get(n, "")}
                                    for n, a in enumerate(consignments)],
                   "coupons": coupons,
                   "charges": [_charge_body(ch) for ch in [*charges, *header_charges]],
                   "discount": events.money_str(discount)}
        try:
            created = self.orders.create(generic)
        except OrderError as exc:
            raise ODataError(400, f"{exc.message}", "V1/320") from None
        self.created.append(created)
        return self._row("A_SalesOrder", {"SalesOrder": {self.codes.sales_order(created.number)}})

    def _manual(self, fields: dict[str, Any], allowed: frozenset[str], where: str) -> tuple[str, Decimal]:
        """A manual condition the pricing procedure takes at ``where``: its type and rate (discounts negative)."""
        kind = str(fields.get("ConditionType") or "")
        if kind not in allowed:
            raise ODataError(400, f"Condition type {kind or '(none)'} is not allowed manually at {where} level",
                             "V1/212")
        rate = fields.get("ConditionRateValue")
        if rate is None or (rate > 0 if kind in cn.NEGATIVE_TYPES else rate < 0):
            sign = "zero or less" if kind in cn.NEGATIVE_TYPES else "zero or more"
            raise ODataError(400, f"Condition {kind}: enter a condition rate of {sign}", "V1/061")
        return kind, Decimal(rate)

    def _item(self, item: dict[str, Any], index: int, currency: str) -> Item:
        values = self._props("A_SalesOrderItem", item)
        number = (index + 1) * 10
        material = str(values.get("Material") or "")
        sku = self.codes.sku_of(material)
        if sku is None:
            raise ODataError(400, f"Material {material or '(none)'} does not exist (item {number})", "M3/305")
        quantity = values.get("RequestedQuantity")
        if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
            raise ODataError(400, f"Item {number}: enter a positive whole order quantity", "V1/060")
        price, discount, tax, shipping = None, Decimal(0), Decimal(0), []
        for element in _results(item.get("to_PricingElement"), "to_PricingElement"):
            kind, rate = self._manual(self._props("A_SalesOrderItemPrElement", element), cn.ITEM_TYPES, "item")
            if kind == c.CONDITION_TYPE:
                price = rate
            elif kind == cn.DISCOUNT:
                discount -= rate
            elif kind == cn.SHIPPING:
                shipping.append(rate)
            else:
                tax += rate
        options = []
        for text in _results(item.get("to_Text"), "to_Text"):
            fields = self._props("A_SalesOrderItemText", text)
            if fields.get("LongTextID") != cn.OPTIONS_TEXT_ID:
                raise ODataError(400, f"Text ID {fields.get('LongTextID')} is not defined for sales items "
                                      f"(item {number})", "TD/600")
            options += cn.options_of(str(fields.get("LongText") or ""))
        ship_to = self._ship_to(item.get("to_Partner"), item=True)
        line = SalesOrderLine(sku, int(quantity), price if price is not None else self._list_price(sku, currency),
                              discount=discount, tax=tax, options=tuple((o["name"], o["value"]) for o in options))
        return Item(line, tuple(shipping), ship_to)

    def _note(self, texts: object) -> tuple[list[str], dict[int, str]]:
        """Coupon codes and shipping methods from the header note; no other header text is defined here."""
        coupons: list[str] = []
        methods: dict[int, str] = {}
        for text in _results(texts, "to_Text"):
            fields = self._props("A_SalesOrderText", text)
            if fields.get("LongTextID") != cn.NOTE_TEXT_ID:
                raise ODataError(400, f"Text ID {fields.get('LongTextID')} is not defined for sales orders", "TD/600")
            found, by_consignment = cn.note_of(str(fields.get("LongText") or ""))
            coupons += found
            methods.update(by_consignment)
        return coupons, methods

    def _header_conditions(self, elements: object) -> tuple[Decimal, list[Charge], Decimal]:
        """The header's manual conditions: the order's discount, its charges, and their tax."""
        discount, charges, tax = Decimal(0), [], Decimal(0)
        for element in _results(elements, "to_PricingElement"):
            kind, rate = self._manual(self._props("A_SalesOrderHeaderPrElement", element), cn.HEADER_TYPES, "header")
            if kind == cn.ORDER_DISCOUNT:
                discount -= rate
            elif kind == cn.TAX:
                tax += rate
            else:
                charges.append(Charge(cn.CHARGE_TYPES[kind], cn.CHARGE_TYPES[kind], rate))
        return discount, charges, tax

    def _list_price(self, sku: str, currency: str) -> Decimal:
        record = self.state.dataset.prices.get(self.state.dataset.default_price_list_id, sku, currency)
        if record is None:
            raise ODataError(400, f"Pricing error: no {c.CONDITION_TYPE} condition for {self.codes.material(sku)}",
                             "V1/849")
        return record.price

    def _ship_to(self, partners: object, item: bool = False) -> ShipTo | None:
        """The ship-to (WE) address among header or item partners; an item takes no other partner function."""
        prefix = "A_SalesOrderItem" if item else "A_SalesOrderHeader"
        for partner in _results(partners, "to_Partner"):
            function = self._props(f"{prefix}Partner", partner).get("PartnerFunction")
            if function != "WE":
                if item:
                    raise ODataError(400, f"Partner function {function} cannot be entered for an item", "V1/128")
                continue
            for address in _results(partner.get("to_Address"), "to_Address"):
                fields = self._props("A_SalesOrderItemPartnerAddress" if item else "A_SalesOrderPartnerAddress",
                                     address)
                return ShipTo(*(str(fields.get(name) or "") for name in ADDRESS_FIELDS))
        return None

    def _row(self, set_name: str, hints: dict[str, set[Any]]) -> Row:
        from pricing_edge.sim.erp.faces.s4hana.rows import Rows

        rows = list(Rows(self.state, self.orders, self.codes).providers()[set_name].rows(hints))
        if not rows:
            raise ODataError(404, "resource not found", "/IWBEP/CM_MGW_RT/021")
        return rows[0]

    def _stage(self, sales_order: str) -> Staged:
        number = self.codes.state_order(sales_order)
        if number not in self.staged:
            order = self.orders.get(number)
            self.staged[number] = Staged(list(order.order.lines), order.order.po_number)
        return self.staged[number]

    def update_header(self, row: Row, body: dict[str, Any]) -> None:
        values = self._props("A_SalesOrder", body)
        staged = self._stage(row["SalesOrder"])
        allowed = {"PurchaseOrderByShipToParty", "DeliveryBlockReason"}
        for name, value in values.items():
            if name not in allowed and value != row.get(name):
                raise ODataError(400, f"Field {name} cannot be changed in this document", "V1/046")
        if "PurchaseOrderByShipToParty" in values:
            staged.po_number = values["PurchaseOrderByShipToParty"] or None
        staged.touched = True

    def update_item(self, row: Row, body: dict[str, Any]) -> None:
        values = self._props("A_SalesOrderItem", body)
        staged = self._stage(row["SalesOrder"])
        index = int(row["SalesOrderItem"]) // 10 - 1
        line = staged.lines[index]
        sku, quantity = line.sku, line.quantity
        if quantity == 0:
            raise ODataError(400, f"Item {row['SalesOrderItem']} is rejected and cannot be changed", "V1/046")
        if values.get("SalesDocumentRjcnReason"):
            staged.lines[index] = replace(line, quantity=0)  # rejected: no longer ordered
            staged.touched = True
            return
        if "Material" in values and values["Material"] != row["Material"]:
            new_sku = self.codes.sku_of(str(values["Material"] or ""))
            if new_sku is None:
                raise ODataError(400, f"Material {values['Material']} does not exist", "M3/305")
            sku = new_sku  # allowed while nothing is delivered (the state refuses it afterwards)
        if "RequestedQuantity" in values:
            wanted = values["RequestedQuantity"]
            if wanted is None or wanted <= 0 or wanted != wanted.to_integral_value():
                raise ODataError(400, "Enter a positive whole order quantity", "V1/060")
            quantity = int(wanted)
        staged.lines[index] = replace(line, sku=sku, quantity=quantity)
        staged.touched = True

    def update_price(self, row: Row, body: dict[str, Any]) -> None:
        """A manual item condition's new rate: the price, the discount or the tax."""
        values = self._props("A_SalesOrderItemPrElement", body)
        if set(values) - {"ConditionRateValue", "ConditionCurrency"}:
            raise ODataError(400, "Only the rate of a manual condition can be changed", "V1/046")
        kind = str(row.get("ConditionType"))
        if kind == cn.SHIPPING:
            raise ODataError(400, f"Condition {kind} cannot be changed in this document", "V1/046")
        _, rate = self._manual({"ConditionType": kind, **values}, cn.ITEM_TYPES, "item")
        self._set_condition(row, kind, rate)

    def add_condition(self, parent: Row, body: dict[str, Any]) -> Row:
        """A manual condition added to an item of an existing order (a second one of a type adds to the first)."""
        kind, rate = self._manual(self._props("A_SalesOrderItemPrElement", body), cn.ITEM_TYPES - {cn.SHIPPING},
                                  "item")
        self._set_condition(parent, kind, rate, add=True)
        currency = str(parent.get("TransactionCurrency") or "USD")
        return {"SalesOrder": parent["SalesOrder"], "SalesOrderItem": parent["SalesOrderItem"],
                "PricingProcedureStep": cn.STEPS[kind], "PricingProcedureCounter": "002", "ConditionType": kind,
                "ConditionRateValue": rate, "ConditionCurrency": currency, "ConditionQuantity": Decimal(1),
                "ConditionQuantityUnit": c.BASE_UNIT, "ConditionAmount": rate, "TransactionCurrency": currency,
                "ConditionIsManuallyChanged": True}

    def _set_condition(self, row: Row, kind: str, rate: Decimal, add: bool = False) -> None:
        staged = self._stage(row["SalesOrder"])
        index = int(row["SalesOrderItem"]) // 10 - 1
        line = staged.lines[index]
        if kind == c.CONDITION_TYPE:
            line = replace(line, unit_price=rate)
        elif kind == cn.DISCOUNT:
            line = replace(line, discount=(line.discount if add else Decimal(0)) - rate)
        else:  # the tax condition: the line's tax and its consignment shipping's
            order = self.orders.get(self.codes.state_order(row["SalesOrder"])).order
            shipping = cn.item_amounts(order)[index].shipping if index < len(order.lines) else ()
            tax = (line.tax if add else -sum((ch.tax for ch in shipping), Decimal(0))) + rate
            if tax < 0:
                raise ODataError(400, f"Condition {kind}: less than the item's shipping tax", "V1/061")
            line = replace(line, tax=tax)
        staged.lines[index] = line
        staged.touched = True

    def delete_item(self, row: Row) -> None:
        staged = self._stage(row["SalesOrder"])
        index = int(row["SalesOrderItem"]) // 10 - 1
        staged.lines[index] = replace(staged.lines[index], quantity=0)
        staged.touched = True

    def add_item(self, parent: Row, body: dict[str, Any]) -> Row:
        staged = self._stage(parent["SalesOrder"])
        order = self.orders.get(self.codes.state_order(parent["SalesOrder"]))
        added = self._item(body, len(staged.lines), order.order.currency)
        if added.shipping or added.ship_to is not None:
            raise ODataError(400, "An item added to an existing order takes no shipping condition or ship-to here",
                             "V1/046")
        staged.lines.append(added.line)
        staged.touched = True
        line = added.line
        return {"SalesOrder": parent["SalesOrder"], "SalesOrderItem": str(len(staged.lines) * 10),
                "SalesOrderItemCategory": "TAN", "SalesOrderItemText": "", "Material": self.codes.material(line.sku),
                "RequestedQuantity": Decimal(line.quantity), "RequestedQuantityUnit": c.BASE_UNIT,
                "TransactionCurrency": order.order.currency, "NetAmount": line.net, "TaxAmount": line.tax,
                "SalesDocumentRjcnReason": "", "DeliveryStatus": "A", "SDProcessStatus": "A"}

    def wire(self, providers: dict[str, Provider]) -> None:
        providers["A_SalesOrder"].create = self.create
        providers["A_SalesOrder"].update = self.update_header
        providers["A_SalesOrder"].create_child["to_Item"] = self.add_item
        providers["A_SalesOrderItem"].update = self.update_item
        providers["A_SalesOrderItem"].delete = self.delete_item
        providers["A_SalesOrderItem"].create_child["to_PricingElement"] = self.add_condition
        providers["A_SalesOrderItemPrElement"].update = self.update_price


ADDRESS_FIELDS = ("AddresseeFullName", "OrganizationName1", "StreetName", "StreetSuffixName1", "CityName", "Region",
                  "PostalCode", "Country")  # in ShipTo's order


def _address_body(ship_to: ShipTo) -> dict[str, str]:
    return {name: getattr(ship_to, name) for name in ShipTo.__dataclass_fields__}


def _line_body(line: SalesOrderLine) -> dict[str, Any]:
    return {"sku": line.sku, "quantity": line.quantity, "unit_price": events.money_str(line.unit_price),
            **order_parts.line_view(line)}


def _charge_body(charge: Charge) -> dict[str, Any]:
    return {"kind": charge.kind, "description": charge.description, "amount": events.money_str(charge.amount),
            "tax": events.money_str(charge.tax), "consignment": charge.consignment}


def _with_header_tax(lines: list[SalesOrderLine], charges: list[Charge], tax: Decimal) -> list[SalesOrderLine]:
    """A header tax condition distributed over the items by net value (consignment shipping included)."""
    if not tax:
        return lines
    first: dict[int, int] = {}
    for n, line in enumerate(lines):
        first.setdefault(line.consignment, n)
    weights = [line.net + (sum((ch.amount for ch in charges if ch.consignment == line.consignment), Decimal(0))
                           if first[line.consignment] == n else Decimal(0)) for n, line in enumerate(lines)]
    return [replace(line, tax=line.tax + share) for line, share in zip(lines, cn.allocate(tax, weights), strict=True)]


def _results(value: object, name: str) -> list[dict[str, Any]]:
    """A deep insert's inline collection: ``{"results": [...]}`` or a plain list."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("results")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError_(f"{name}: must be a list of entities")
    return value

