"""Sales-order writes on the S/4HANA face: deep insert of ``A_SalesOrder`` (items with a manual
``PPR0`` price, partners with a ship-to address), header changes, item changes, additions and
deletions, item rejection as cancellation — staged per request or ``$batch`` changeset and applied
to the one state at commit, all or nothing.

Like an S/4 system whose duplicate-PO check is set to *error*, a second order with the same
``PurchaseOrderByCustomer`` is refused (``V4/115``); connectors must look the reference up first
anyway. Errors are Gateway bodies with SAP-style message codes naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pricing_edge.domain import events
from pricing_edge.sim.erp.faces.odata.model import Service
from pricing_edge.sim.erp.faces.odata.server import ODataError, Provider, Row
from pricing_edge.sim.erp.faces.odata.values import ValueError_, from_json
from pricing_edge.sim.erp.faces.s4hana import codes as c
from pricing_edge.sim.erp.faces.s4hana.codes import S4Codes
from pricing_edge.sim.erp.sales_orders import OrderError, SalesOrders, SimOrder
from pricing_edge.sim.erp.state import ErpState

DUPLICATE_PO = "V4/115"
REJECTION_REASON = "61"


@dataclass
class Staged:
    """One order's pending change: its lines (sku, quantity, unit price) and header fields."""

    lines: list[tuple[str, int, Decimal]]
    po_number: str | None
    cancel: bool = False
    touched: bool = False


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
            remaining = [line for line in staged.lines if line[1] > 0]
            if staged.cancel or not remaining:
                body["cancelled"] = True
            else:
                body["lines"] = [{"sku": sku, "quantity": q, "unit_price": events.money_str(p)}
                                 for sku, q, p in remaining]
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
        lines = [self._line(item, index, header.get("TransactionCurrency")) for index, item in enumerate(items)]
        generic = {"reference": reference or f"S4-{len(self.orders.by_number) + 1}", "bc_order_id": 0,
                   "customer_id": 0, "sold_to": account, "currency": header.get("TransactionCurrency") or "USD",
                   "document_type": header.get("SalesOrderType") or c.SALES_ORDER_TYPE,
                   "po_number": header.get("PurchaseOrderByShipToParty") or None,
                   "ship_to": self._ship_to(body.get("to_Partner")),
                   "lines": [{"sku": sku, "quantity": q, "unit_price": events.money_str(p)} for sku, q, p in lines]}
        try:
            created = self.orders.create(generic)
        except OrderError as exc:
            raise ODataError(400, f"{exc.message}", "V1/320") from None
        self.created.append(created)
        return self._row("A_SalesOrder", {"SalesOrder": {self.codes.sales_order(created.number)}})

    def _line(self, item: dict[str, Any], index: int, currency: object) -> tuple[str, int, Decimal]:
        values = self._props("A_SalesOrderItem", item)
        material = str(values.get("Material") or "")
        sku = self.codes.sku_of(material)
        if sku is None:
            raise ODataError(400, f"Material {material or '(none)'} does not exist (item {(index + 1) * 10})", "M3/305")
        quantity = values.get("RequestedQuantity")
        if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
            raise ODataError(400, f"Item {(index + 1) * 10}: enter a positive whole order quantity", "V1/060")
        price = None
        for element in _results(item.get("to_PricingElement"), "to_PricingElement"):
            fields = self._props("A_SalesOrderItemPrElement", element)
            if fields.get("ConditionType") == c.CONDITION_TYPE:
                price = fields.get("ConditionRateValue")
        if price is None:  # no manual price: the condition record's (what pricing would find)
            price = self._list_price(sku, str(currency or "USD"))
        return sku, int(quantity), Decimal(price)

    def _list_price(self, sku: str, currency: str) -> Decimal:
        record = self.state.dataset.prices.get(self.state.dataset.default_price_list_id, sku, currency)
        if record is None:
            raise ODataError(400, f"Pricing error: no {c.CONDITION_TYPE} condition for {self.codes.material(sku)}",
                             "V1/849")
        return record.price

    def _ship_to(self, partners: object) -> dict[str, str] | None:
        for partner in _results(partners, "to_Partner"):
            if partner.get("PartnerFunction") != "WE":
                continue
            for address in _results(partner.get("to_Address"), "to_Address"):
                fields = self._props("A_SalesOrderPartnerAddress", address)
                return {"name": fields.get("AddresseeFullName") or "", "company": fields.get("OrganizationName1") or "",
                        "street_1": fields.get("StreetName") or "", "street_2": fields.get("StreetSuffixName1") or "",
                        "city": fields.get("CityName") or "", "state": fields.get("Region") or "",
                        "zip": fields.get("PostalCode") or "", "country_iso2": fields.get("Country") or ""}
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
            self.staged[number] = Staged([(ln.sku, ln.quantity, ln.unit_price) for ln in order.order.lines],
                                         order.order.po_number)
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
        sku, quantity, price = staged.lines[index]
        if quantity == 0:
            raise ODataError(400, f"Item {row['SalesOrderItem']} is rejected and cannot be changed", "V1/046")
        if values.get("SalesDocumentRjcnReason"):
            staged.lines[index] = (sku, 0, price)  # rejected: no longer ordered
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
        staged.lines[index] = (sku, quantity, price)
        staged.touched = True

    def update_price(self, row: Row, body: dict[str, Any]) -> None:
        values = self._props("A_SalesOrderItemPrElement", body)
        if set(values) - {"ConditionRateValue", "ConditionCurrency"}:
            raise ODataError(400, "Only the rate of a manual condition can be changed", "V1/046")
        staged = self._stage(row["SalesOrder"])
        index = int(row["SalesOrderItem"]) // 10 - 1
        sku, quantity, _ = staged.lines[index]
        rate = values.get("ConditionRateValue")
        if rate is None or rate < 0:
            raise ODataError(400, "Enter a condition rate of zero or more", "V1/061")
        staged.lines[index] = (sku, quantity, Decimal(rate))
        staged.touched = True

    def delete_item(self, row: Row) -> None:
        staged = self._stage(row["SalesOrder"])
        index = int(row["SalesOrderItem"]) // 10 - 1
        sku, _, price = staged.lines[index]
        staged.lines[index] = (sku, 0, price)
        staged.touched = True

    def add_item(self, parent: Row, body: dict[str, Any]) -> Row:
        staged = self._stage(parent["SalesOrder"])
        order = self.orders.get(self.codes.state_order(parent["SalesOrder"]))
        staged.lines.append(self._line(body, len(staged.lines), order.order.currency))
        staged.touched = True
        number = str(len(staged.lines) * 10)
        sku, quantity, price = staged.lines[-1]
        return {"SalesOrder": parent["SalesOrder"], "SalesOrderItem": number, "SalesOrderItemCategory": "TAN",
                "SalesOrderItemText": "", "Material": self.codes.material(sku), "RequestedQuantity": Decimal(quantity),
                "RequestedQuantityUnit": c.BASE_UNIT, "TransactionCurrency": order.order.currency,
                "NetAmount": price * quantity, "SalesDocumentRjcnReason": "", "DeliveryStatus": "A", "SDProcessStatus": "A"}

    def wire(self, providers: dict[str, Provider]) -> None:
        providers["A_SalesOrder"].create = self.create
        providers["A_SalesOrder"].update = self.update_header
        providers["A_SalesOrder"].create_child["to_Item"] = self.add_item
        providers["A_SalesOrderItem"].update = self.update_item
        providers["A_SalesOrderItem"].delete = self.delete_item
        providers["A_SalesOrderItemPrElement"].update = self.update_price


def _results(value: object, name: str) -> list[dict[str, Any]]:
    """A deep insert's inline collection: ``{"results": [...]}`` or a plain list."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("results")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError_(f"{name}: must be a list of entities")
    return value

