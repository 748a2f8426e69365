"""The S/4HANA face's rows, computed from the simulator's one state on every read.

Prices are ``PPR0`` condition records: a price list's records are keyed by price-list type (table
306-like: sales organisation, distribution channel, price-list type, currency, material), a company's
own price list by customer (305-like); volume breaks are the record's scale lines. Only the current
price is shown — the state's sale, MSRP and MAP prices have no place in one condition type. Stock is
unrestricted-use stock per plant; credit is the open items of the company's account (its balance) and
the order block (its hold); orders, deliveries and billing documents mirror the state's sales orders,
shipments and invoices.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pricing_edge.domain.money import quantize
from pricing_edge.domain.orders import ErpStatus, ShipTo
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.sim.erp.faces.odata.server import Provider, Row
from pricing_edge.sim.erp.faces.s4hana import codes as c
from pricing_edge.sim.erp.faces.s4hana import conditions as cn
from pricing_edge.sim.erp.faces.s4hana.codes import S4Codes
from pricing_edge.sim.erp.sales_orders import SalesOrders, SimOrder
from pricing_edge.sim.erp.state import ErpState

VALID_FROM = datetime(2020, 1, 1)
VALID_TO = datetime(9999, 12, 31)
Hints = Mapping[str, set[Any]]


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _day(ms: int) -> datetime:
    return datetime.combine(moment(ms).date(), datetime.min.time())


def _wanted(hints: Hints, name: str) -> set[Any] | None:
    return hints.get(name)


class Rows:
    """Row sources of every entity set, over one state."""

    def __init__(self, state: ErpState, orders: SalesOrders, codes: S4Codes) -> None:
        self.state = state
        self.orders = orders
        self.codes = codes

    # --- pricing ----------------------------------------------------------------------------------

    def _price_records(self, hints: Hints) -> Iterator[tuple[str, PriceRecord]]:
        prices = self.state.dataset.prices.records
        numbers = _wanted(hints, "ConditionRecord")
        if numbers is not None:
            for number in numbers:
                key = self.codes.record_key_of(str(number))
                if key is None:
                    continue
                _, list_text, currency, sku = key.split(":", 3)
                record = prices.get((int(list_text), sku, currency))
                if record is not None:
                    yield number, record
            return
        materials = _wanted(hints, "Material")
        skus = [sku for sku in (self.codes.sku_of(str(m)) for m in materials) if sku] if materials is not None \
            else None
        lists = [p.id for p in self.state.dataset.price_lists]
        types = _wanted(hints, "PriceListType")
        if types is not None:
            lists = [i for i in lists if self.codes.price_list_type(i) in types
                     and i not in self.state.company_price_lists]
        customers = _wanted(hints, "Customer")
        if customers is not None:
            lists = [i for i in lists if i in self.state.company_price_lists
                     and self.codes.company_account(self.state.company_price_lists[i]) in customers]
        for list_id in lists:
            for sku in (skus if skus is not None else self.state.skus):
                for currency in self.state.currencies:
                    record = prices.get((list_id, sku, currency))
                    if record is not None:
                        yield self.codes.condition_record(f"price:{list_id}:{currency}:{sku}"), record

    def _changed(self, record: PriceRecord) -> int:
        return self.state.last_change_ms(f"price:{record.price_list_id}:{record.currency}:{record.sku}")

    def condition_records(self, hints: Hints) -> Iterable[Row]:
        for number, record in self._price_records(hints):
            changed = self._changed(record)
            own = record.price_list_id in self.state.company_price_lists
            yield {"ConditionRecord": number, "ConditionSequentialNumber": "01", "ConditionTable": "305" if own else "306",
                   "ConditionApplication": "V", "ConditionType": c.CONDITION_TYPE, "ConditionValidityEndDate": VALID_TO,
                   "ConditionValidityStartDate": VALID_FROM, "CreationDate": _day(self.state.loaded_at_ms),
                   "PricingScaleType": "A" if record.bulk_tiers else "", "PricingScaleBasis": "C" if record.bulk_tiers else "",
                   "ConditionCalculationType": "C", "ConditionRateValue": record.price,
                   "ConditionRateValueUnit": record.currency, "ConditionQuantity": Decimal(1),
                   "ConditionQuantityUnit": c.BASE_UNIT, "ConditionIsDeleted": False, "ConditionReleaseStatus": "",
                   "LastChangeDateTime": moment(changed), "ETag": str(changed)}

    def validities(self, hints: Hints) -> Iterable[Row]:
        for number, record in self._price_records(hints):
            company = self.state.company_price_lists.get(record.price_list_id)
            yield {"ConditionRecord": number, "ConditionValidityEndDate": VALID_TO,
                   "ConditionValidityStartDate": VALID_FROM, "ConditionApplication": "V",
                   "ConditionType": c.CONDITION_TYPE, "ConditionReleaseStatus": "", "CustomerPriceGroup": "",
                   "Customer": self.codes.company_account(company) if company else "",
                   "Material": self.codes.material(record.sku),
                   "PriceListType": "" if company else self.codes.price_list_type(record.price_list_id),
                   "SalesOrganization": c.SALES_ORGANIZATION, "DistributionChannel": c.DISTRIBUTION_CHANNEL,
                   "TransactionCurrency": "" if company else record.currency}

    def scales(self, hints: Hints) -> Iterable[Row]:
        for number, record in self._price_records(hints):
            if not record.bulk_tiers:
                continue
            lines = [(1, record.price)] + [(tier.min_quantity, tier.amount) for tier in record.bulk_tiers]
            for index, (quantity, amount) in enumerate(lines, start=1):
                yield {"ConditionRecord": number, "ConditionSequentialNumber": "01",
                       "ConditionScaleLine": f"{index:04d}", "ConditionScaleQuantity": Decimal(quantity),
                       "ConditionScaleQuantityUnit": c.BASE_UNIT, "ConditionRateValue": amount,
                       "ConditionRateValueUnit": record.currency}

    # --- stock ------------------------------------------------------------------------------------

    def _stock_skus(self, hints: Hints) -> list[str]:
        materials = _wanted(hints, "Material")
        if materials is None:
            return list(self.state.skus)
        return [sku for sku in (self.codes.sku_of(str(m)) for m in materials) if sku]

    def materials(self, hints: Hints) -> Iterable[Row]:
        for sku in self._stock_skus(hints):
            yield {"Material": self.codes.material(sku), "MaterialBaseUnit": c.BASE_UNIT}

    def stock(self, hints: Hints) -> Iterable[Row]:
        for sku in self._stock_skus(hints):
            for level in self.state.dataset.stock_for(sku):
                yield {"Material": self.codes.material(sku), "Plant": self.codes.plant(level.location_id),
                       "StorageLocation": c.STORAGE_LOCATION, "Batch": "", "Supplier": "", "Customer": "",
                       "WBSElementInternalID": "", "SDDocument": "", "SDDocumentItem": "",
                       "InventorySpecialStockType": "", "InventoryStockType": c.UNRESTRICTED,
                       "MaterialBaseUnit": c.BASE_UNIT, "MatlWrhsStkQtyInMatlBaseUnit": Decimal(level.on_hand)}

    # --- business partners ------------------------------------------------------------------------

    def _partners(self) -> Iterator[dict[str, Any]]:
        dataset = self.state.dataset
        yield {"bp": c.GUEST_ACCOUNT, "customer": c.GUEST_ACCOUNT, "org": "Web shop guests", "group": 0,
               "hold": False, "changed": self.state.loaded_at_ms}
        for company in dataset.companies:
            yield {"bp": self.codes.company_account(company.id), "customer": self.codes.company_account(company.id),
                   "org": company.name, "group": company.customer_group_id, "hold": company.status == "hold",
                   "changed": self.state.last_change_ms(f"credit:{company.id}")}
        for customer in dataset.customers:
            yield {"bp": self.codes.person(customer.id),
                   "customer": self.codes.person(customer.id) if customer.company_id is None else "",
                   "first": customer.first_name, "last": customer.last_name, "group": customer.customer_group_id,
                   "hold": False, "changed": self.state.last_change_ms(f"customer:{customer.id}"),
                   "company": self.codes.company_account(customer.company_id) if customer.company_id else None}

    def business_partners(self, hints: Hints) -> Iterable[Row]:
        wanted = _wanted(hints, "BusinessPartner")
        for p in self._partners():
            if wanted is not None and p["bp"] not in wanted:
                continue
            changed = moment(p["changed"])
            name = p.get("org") or f"{p['first']} {p['last']}"
            yield {"BusinessPartner": p["bp"], "Customer": p["customer"], "BusinessPartnerCategory": "2" if "org" in p else "1",
                   "BusinessPartnerFullName": name, "FirstName": p.get("first", ""), "LastName": p.get("last", ""),
                   "OrganizationBPName1": p.get("org", ""), "LastChangeDate": _day(p["changed"]),
                   "LastChangeTime": timedelta(hours=changed.hour, minutes=changed.minute, seconds=changed.second),
                   "BusinessPartnerIsBlocked": False, "ETag": str(p["changed"])}

    def contacts(self, hints: Hints) -> Iterable[Row]:
        for customer in self.state.dataset.customers:
            if customer.company_id is None:
                continue
            yield {"RelationshipNumber": f"{customer.id:012d}",
                   "BusinessPartnerCompany": self.codes.company_account(customer.company_id),
                   "BusinessPartnerPerson": self.codes.person(customer.id), "ValidityEndDate": VALID_TO,
                   "ValidityStartDate": VALID_FROM, "IsStandardRelationship": True, "RelationshipCategory": "BUR001"}

    def customers(self, hints: Hints) -> Iterable[Row]:
        for p in self._partners():
            if p["customer"]:
                yield {"Customer": p["customer"], "CustomerName": p.get("org") or f"{p['first']} {p['last']}",
                       "CustomerFullName": p.get("org") or f"{p['first']} {p['last']}",
                       "OrderIsBlockedForCustomer": "01" if p["hold"] else "", "DeliveryIsBlocked": "",
                       "BillingIsBlockedForCustomer": "", "PostingIsBlocked": False, "DeletionIndicator": False}

    def sales_areas(self, hints: Hints) -> Iterable[Row]:
        dataset = self.state.dataset
        for p in self._partners():
            if p["customer"]:
                price_list = dataset.price_list_for_group(p["group"])
                yield {"Customer": p["customer"], "SalesOrganization": c.SALES_ORGANIZATION,
                       "DistributionChannel": c.DISTRIBUTION_CHANNEL, "Division": c.DIVISION, "Currency": "USD",
                       "CustomerGroup": self.codes.customer_group(p["group"]), "CustomerPriceGroup": "",
                       "PriceListType": self.codes.price_list_type(price_list), "OrderIsBlockedForCustomer": "",
                       "DeletionIndicator": False}

    # --- open items -------------------------------------------------------------------------------

    def open_items(self, hints: Hints) -> Iterable[Row]:
        posted = _day(self.state.loaded_at_ms)
        for company in self.state.dataset.companies:
            balance = company.balance
            first = quantize(balance * Decimal("0.6"))
            amounts = [(first, False), (balance - first, False)] if balance else []
            amounts.append((Decimal("1000.00"), True))  # paid long ago: cleared, not owed
            for n, (amount, cleared) in enumerate(amounts, start=1):
                yield {"CompanyCode": c.COMPANY_CODE, "FiscalYear": str(posted.year),
                       "AccountingDocument": f"{1400000000 + company.id * 10 + n}", "AccountingDocumentItem": "001",
                       "Customer": self.codes.company_account(company.id), "IsCleared": cleared,
                       "ClearingDate": posted if cleared else None, "PostingDate": posted,
                       "NetDueDate": posted + timedelta(days=30), "DebitCreditCode": "S" if amount >= 0 else "H",
                       "AccountingDocumentType": "RV", "BillingDocument": "", "CompanyCodeCurrency": company.currency,
                       "AmountInCompanyCodeCurrency": amount, "TransactionCurrency": company.currency,
                       "AmountInTransactionCurrency": amount}

    # --- sales orders ------------------------------------------------------------------------------

    def _orders(self, hints: Hints) -> Iterable[SimOrder]:
        numbers = _wanted(hints, "SalesOrder")
        if numbers is not None:
            return [o for o in (self.orders.by_number.get(self.codes.state_order(str(n))) for n in numbers) if o]
        references = _wanted(hints, "PurchaseOrderByCustomer")
        if references is not None:
            return [o for o in (self.orders.by_reference.get(str(r)) for r in references) if o]
        return self.orders.all()

    def sales_orders(self, hints: Hints) -> Iterable[Row]:
        for order in self._orders(hints):
            changed = self.state.last_change_ms(f"order:{order.number}")
            process, delivery, billing, rejection = _statuses(order.status)
            yield {"SalesOrder": self.codes.sales_order(order.number), "SalesOrderType": order.order.document_type,
                   "SalesOrganization": c.SALES_ORGANIZATION, "DistributionChannel": c.DISTRIBUTION_CHANNEL,
                   "OrganizationDivision": c.DIVISION, "SoldToParty": self.codes.account(order.order.sold_to),
                   "CreationDate": _day(_ms(order.created_at)), "LastChangeDate": _day(changed),
                   "LastChangeDateTime": moment(changed), "PurchaseOrderByCustomer": order.order.reference,
                   "PurchaseOrderByShipToParty": order.order.po_number or "", "SalesOrderDate": _day(_ms(order.created_at)),
                   "TotalNetAmount": order.order.net_total, "TransactionCurrency": order.order.currency,
                   "OverallSDProcessStatus": process, "OverallDeliveryStatus": delivery,
                   "OverallOrdReltdBillgStatus": billing, "OverallSDDocumentRejectionSts": rejection,
                   "DeliveryBlockReason": ""}

    def _items(self, hints: Hints) -> Iterator[tuple[SimOrder, int]]:
        for order in self._orders(hints):
            for index in range(len(order.order.lines)):
                if "SalesOrderItem" in hints and str((index + 1) * 10) not in hints["SalesOrderItem"]:
                    continue
                yield order, index

    def _item_amounts(self, hints: Hints) -> Iterator[tuple[SimOrder, int, cn.ItemAmounts]]:
        """Items with their amounts, worked out once per order (a header condition's share needs them all)."""
        amounts: tuple[SimOrder | None, list[cn.ItemAmounts]] = (None, [])
        for order, index in self._items(hints):
            if amounts[0] is not order:
                amounts = (order, cn.item_amounts(order.order))
            yield order, index, amounts[1][index]

    def sales_order_items(self, hints: Hints) -> Iterable[Row]:
        for order, index, amounts in self._item_amounts(hints):
            line, shipped = order.order.lines[index], order.shipped[index]
            delivery = "C" if shipped >= line.quantity else ("B" if shipped else "A")
            yield {"SalesOrder": self.codes.sales_order(order.number), "SalesOrderItem": str((index + 1) * 10),
                   "SalesOrderItemCategory": "TAN", "SalesOrderItemText": "", "Material": self.codes.material(line.sku),
                   "RequestedQuantity": Decimal(line.quantity), "RequestedQuantityUnit": c.BASE_UNIT,
                   "TransactionCurrency": order.order.currency, "NetAmount": amounts.net, "TaxAmount": amounts.tax,
                   "SalesDocumentRjcnReason": "61" if order.status is ErpStatus.CANCELLED else "",
                   "DeliveryStatus": delivery, "SDProcessStatus": "C" if delivery == "C" else ("B" if shipped else "A")}

    def _condition(self, order: SimOrder, step: str, counter: int, kind: str, rate: Decimal,
                   amount: Decimal | None = None, quantity: int = 1) -> Row:
        currency = order.order.currency
        return {"SalesOrder": self.codes.sales_order(order.number), "PricingProcedureStep": step,
                "PricingProcedureCounter": f"{counter:03d}", "ConditionType": kind, "ConditionRateValue": rate,
                "ConditionCurrency": currency, "ConditionQuantity": Decimal(1), "ConditionQuantityUnit": c.BASE_UNIT,
                "ConditionAmount": rate * quantity if amount is None else amount, "TransactionCurrency": currency,
                "ConditionIsManuallyChanged": True}

    def pricing_elements(self, hints: Hints) -> Iterable[Row]:
        """An item's own conditions: its manual price, discount, its consignment's shipping, its tax."""
        for order, index, amounts in self._item_amounts(hints):
            line, item = order.order.lines[index], {"SalesOrderItem": str((index + 1) * 10)}
            yield self._condition(order, "010", 1, c.CONDITION_TYPE, line.unit_price, quantity=line.quantity) | item
            if line.discount:
                yield self._condition(order, "020", 1, cn.DISCOUNT, -line.discount) | item
            shipping = amounts.shipping
            for counter, charge in enumerate(shipping, start=1):
                yield self._condition(order, "030", counter, cn.SHIPPING, charge.amount) | item
            tax = line.tax + sum((charge.tax for charge in shipping), Decimal(0))
            if tax:
                yield self._condition(order, "900", 1, cn.TAX, tax) | item

    def header_pricing_elements(self, hints: Hints) -> Iterable[Row]:
        """The header's manual conditions: the order's discount, its charges not on an item, their tax."""
        for order in self._orders(hints):
            if order.order.discount:
                yield self._condition(order, "020", 1, cn.ORDER_DISCOUNT, -order.order.discount)
            charges = cn.header_charges(order.order)
            for counter, charge in enumerate(charges, start=1):
                yield self._condition(order, "030", counter, cn.TYPE_OF_CHARGE[charge.kind], charge.amount)
            tax = sum((charge.tax for charge in charges), Decimal(0))
            if tax:
                yield self._condition(order, "900", 1, cn.TAX, tax)

    def header_texts(self, hints: Hints) -> Iterable[Row]:
        for order in self._orders(hints):
            note = cn.note_text(order.order)
            if note:
                yield {"SalesOrder": self.codes.sales_order(order.number), "Language": cn.TEXT_LANGUAGE,
                       "LongTextID": cn.NOTE_TEXT_ID, "LongText": note}

    def _shipped_apart(self, hints: Hints) -> Iterator[tuple[SimOrder, int, ShipTo]]:
        """Items going to a ship-to of their own (not the header's): an item partner WE each."""
        for order, index in self._items(hints):
            consignment = order.order.lines[index].consignment
            if 0 < consignment < len(order.order.consignments):
                ship_to = order.order.consignments[consignment].ship_to
                if ship_to != order.order.ship_to:
                    yield order, index, ship_to

    def item_partners(self, hints: Hints) -> Iterable[Row]:
        for order, index, _ in self._shipped_apart(hints):
            yield {"SalesOrder": self.codes.sales_order(order.number), "SalesOrderItem": str((index + 1) * 10),
                   "PartnerFunction": "WE", "Customer": self.codes.account(order.order.sold_to), "ContactPerson": ""}

    def item_addresses(self, hints: Hints) -> Iterable[Row]:
        for order, index, ship_to in self._shipped_apart(hints):
            yield _address_row(ship_to) | {"SalesOrder": self.codes.sales_order(order.number),
                                           "SalesOrderItem": str((index + 1) * 10), "PartnerFunction": "WE"}

    def item_texts(self, hints: Hints) -> Iterable[Row]:
        for order, index in self._items(hints):
            line = order.order.lines[index]
            if line.options:
                yield {"SalesOrder": self.codes.sales_order(order.number), "SalesOrderItem": str((index + 1) * 10),
                       "Language": cn.TEXT_LANGUAGE, "LongTextID": cn.OPTIONS_TEXT_ID, "LongText": cn.options_text(line)}

    def partners(self, hints: Hints) -> Iterable[Row]:
        for order in self._orders(hints):
            party = self.codes.account(order.order.sold_to)
            for function in ("AG", "WE"):
                yield {"SalesOrder": self.codes.sales_order(order.number), "PartnerFunction": function,
                       "Customer": party, "ContactPerson": ""}

    def addresses(self, hints: Hints) -> Iterable[Row]:
        for order in self._orders(hints):
            if order.order.ship_to is not None:
                yield _address_row(order.order.ship_to) | {"SalesOrder": self.codes.sales_order(order.number),
                                                           "PartnerFunction": "WE"}

    # --- deliveries and billing ---------------------------------------------------------------------

    def _shipments(self, hints: Hints) -> Iterator[tuple[SimOrder, str]]:
        wanted = _wanted(hints, "DeliveryDocument")
        referenced = _wanted(hints, "ReferenceSDDocument")
        for order in self.orders.all():
            if referenced is not None and self.codes.sales_order(order.number) not in referenced:
                continue
            for shipment_id in order.shipment_ids:
                if wanted is None or self.codes.delivery(shipment_id) in wanted:
                    yield order, shipment_id

    def delivery_headers(self, hints: Hints) -> Iterable[Row]:
        for order, shipment_id in self._shipments(hints):
            shipment = self.orders.shipments[shipment_id].shipment
            shipped = moment(self.state.last_change_ms(f"shipment:{shipment_id}")).replace(tzinfo=None)
            party = self.codes.account(order.order.sold_to)
            yield {"DeliveryDocument": self.codes.delivery(shipment_id), "DeliveryDocumentType": "LF",
                   "SoldToParty": party, "ShipToParty": party, "ShippingPoint": c.SALES_ORGANIZATION,
                   "BillOfLading": shipment.tracking_number, "MeansOfTransport": shipment.carrier,
                   "ActualGoodsMovementDate": shipped, "OverallGoodsMovementStatus": "C",
                   "OverallSDProcessStatus": "C", "CreationDate": shipped, "LastChangeDate": shipped}

    def delivery_items(self, hints: Hints) -> Iterable[Row]:
        for order, shipment_id in self._shipments(hints):
            shipment = self.orders.shipments[shipment_id].shipment
            skus = [line.sku for line in order.order.lines]
            for index, line in enumerate(shipment.lines, start=1):
                yield {"DeliveryDocument": self.codes.delivery(shipment_id), "DeliveryDocumentItem": str(index * 10),
                       "Material": self.codes.material(line.sku), "ActualDeliveryQuantity": Decimal(line.quantity),
                       "DeliveryQuantityUnit": c.BASE_UNIT, "ReferenceSDDocument": self.codes.sales_order(order.number),
                       "ReferenceSDDocumentItem": str((skus.index(line.sku) + 1) * 10),
                       "Plant": self.codes.plant(1), "GoodsMovementStatus": "C"}

    def _invoices(self, hints: Hints) -> Iterator[tuple[SimOrder, int]]:
        wanted = _wanted(hints, "BillingDocument")
        references = _wanted(hints, "PurchaseOrderByCustomer")
        for order in self.orders.all():
            if references is not None and order.order.reference not in references:
                continue
            for index, number in enumerate(order.invoice_ids):
                if wanted is None or self.codes.billing_document(number) in wanted:
                    yield order, index

    def billing_documents(self, hints: Hints) -> Iterable[Row]:
        for order, index in self._invoices(hints):
            invoice = self.orders.invoices[order.invoice_ids[index]]
            billed = self.state.last_change_ms(f"shipment:{order.shipment_ids[index]}")
            yield {"BillingDocument": self.codes.billing_document(invoice.number), "BillingDocumentType": "F2",
                   "SoldToParty": self.codes.account(order.order.sold_to),
                   "BillingDocumentDate": datetime.combine(invoice.issued_on, datetime.min.time()),
                   "BillingDocumentIsCancelled": invoice.cancelled, "TotalNetAmount": invoice.net_amount,
                   "TaxAmount": invoice.tax_amount, "TotalGrossAmount": invoice.gross_amount,
                   "TransactionCurrency": invoice.currency, "PurchaseOrderByCustomer": invoice.reference,
                   "CreationDate": _day(billed), "LastChangeDateTime": moment(billed)}

    def billing_items(self, hints: Hints) -> Iterable[Row]:
        for order, index in self._invoices(hints):
            invoice = self.orders.invoices[order.invoice_ids[index]]
            skus = [line.sku for line in order.order.lines]
            for n, line in enumerate(invoice.lines, start=1):
                yield {"BillingDocument": self.codes.billing_document(invoice.number), "BillingDocumentItem": str(n * 10),
                       "Material": self.codes.material(line.sku), "BillingQuantity": Decimal(line.quantity),
                       "BillingQuantityUnit": c.BASE_UNIT, "NetAmount": line.net_amount,
                       "TransactionCurrency": invoice.currency,
                       "ReferenceSDDocument": self.codes.delivery(order.shipment_ids[index]),
                       "SalesDocument": self.codes.sales_order(order.number),
                       "SalesDocumentItem": str((skus.index(line.sku) + 1) * 10)}

    def providers(self) -> dict[str, Provider]:
        return {name: Provider(source) for name, source in {
            "A_SlsPrcgConditionRecord": self.condition_records, "A_SlsPrcgCndnRecdValidity": self.validities,
            "A_SlsPrcgCndnRecordScale": self.scales, "A_MaterialStock": self.materials,
            "A_MatlStkInAcctMod": self.stock, "A_BusinessPartner": self.business_partners,
            "A_BusinessPartnerContact": self.contacts, "A_Customer": self.customers,
            "A_CustomerSalesArea": self.sales_areas, "A_OperationalAcctgDocItemCube": self.open_items,
            "A_SalesOrder": self.sales_orders, "A_SalesOrderItem": self.sales_order_items,
            "A_SalesOrderItemPrElement": self.pricing_elements, "A_SalesOrderHeaderPartner": self.partners,
            "A_SalesOrderHeaderPrElement": self.header_pricing_elements, "A_SalesOrderItemPartner": self.item_partners,
            "A_SalesOrderItemPartnerAddress": self.item_addresses, "A_SalesOrderItemText": self.item_texts,
            "A_SalesOrderText": self.header_texts,
            "A_SalesOrderPartnerAddress": self.addresses, "A_OutbDeliveryHeader": self.delivery_headers,
            "A_OutbDeliveryItem": self.delivery_items, "A_BillingDocument": self.billing_documents,
            "A_BillingDocumentItem": self.billing_items}.items()}


def _address_row(ship_to: ShipTo) -> Row:
    return {"AddressRepresentationCode": "", "AddresseeFullName": ship_to.name, "OrganizationName1": ship_to.company,
            "StreetName": ship_to.street_1, "StreetSuffixName1": ship_to.street_2, "CityName": ship_to.city,
            "PostalCode": ship_to.zip, "Region": ship_to.state[:3], "Country": ship_to.country_iso2}


def _ms(moment_: datetime) -> int:
    return int(moment_.timestamp() * 1000)


def _statuses(status: ErpStatus) -> tuple[str, str, str, str]:
    """(OverallSDProcessStatus, OverallDeliveryStatus, OverallOrdReltdBillgStatus, rejection status)."""
    return {
        ErpStatus.OPEN: ("A", "A", "A", "A"),
        ErpStatus.RELEASED: ("B", "A", "A", "A"),
        ErpStatus.PARTIALLY_SHIPPED: ("B", "B", "B", "A"),
        ErpStatus.SHIPPED: ("C", "C", "B", "A"),
        ErpStatus.COMPLETED: ("C", "C", "C", "A"),
        ErpStatus.CANCELLED: ("C", "A", "A", "C"),
    }[status]

