"""The SAP S/4HANA connector's ``ErpAdapter`` (OData V2, the ``API_*`` services), through its mapping.

- Prices: current ``A_SlsPrcgCndnRecdValidity`` rows of the configured condition type (``PPR0``) and
  key combination — sales organisation, distribution channel, the price-list key field
  (``PriceListType`` by default) and material; or customer and material for a company's own price
  list — with their condition record and its scale lines (volume breaks). The pricing procedure is
  *not* run: discounts, surcharges, sale prices in other condition types and the access sequence's
  other tables are not seen. Version: the record's ``LastChangeDateTime``.
- Stock: unrestricted-use stock (``InventoryStockType`` 01) per mapped plant, summed over storage
  locations; a mapped plant without a row has none. S/4 keeps no change time for it: the version is
  the read time.
- Credit: the company's order block (hold) and the sum of its open items in the company code
  (balance); the limit comes from the mapping, S/4's credit management API not being used.
- Customers: a business partner that is a customer of its own (its sales area's customer group), or
  the contact person of a company (the company's group, or the company's own group when it has its
  own price list).
- Orders: see ``orders.py``; shipments from outbound deliveries with goods issue posted, invoices
  from billing documents carrying our reference.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.invoices import Invoice, InvoiceLine
from pricing_edge.domain.orders import ErpSalesOrder, SalesOrder, Shipment, ShipmentLine
from pricing_edge.domain.pricing import BulkTier, PriceRecord
from pricing_edge.erp.errors import DuplicateReference, ErpBadResponse, ErpRejected, from_status
from pricing_edge.erp.sap_s4 import orders
from pricing_edge.erp.sap_s4.mapping import S4Mapping
from pricing_edge.erp.sap_s4.odata import ODataClient
from pricing_edge.erp.sap_s4.settings import S4Settings
from pricing_edge.erp.sap_s4.values import amount, datetime_literal, epoch_ms, literal, parse_date, quantity

PRICING = "API_SLSPRICINGCONDITIONRECORD_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"
PARTNERS = "API_BUSINESS_PARTNER"
OPEN_ITEMS = "API_OPLACCTGDOCITEMCUBE_SRV"
SALES_ORDERS = "API_SALES_ORDER_SRV"
DELIVERIES = "API_OUTBOUND_DELIVERY_SRV"
BILLING = "API_BILLING_DOCUMENT_SRV"
MATERIALS_PER_READ = 40  # keeps each $filter well inside Gateway's URL limits
READS_PER_BATCH = 10
UNRESTRICTED = "01"
DUPLICATE_PO_CODES = frozenset({"V4/115"})
ORDER_EXPAND = "to_Item,to_Item/to_PricingElement"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def _any_of(field: str, values: Iterable[str]) -> str:
    return "(" + " or ".join(f"{field} eq {literal(v)}" for v in values) + ")"


class S4HanaAdapter:
    name = "s4hana"

    def __init__(self, settings: S4Settings, mapping: S4Mapping, client: ODataClient | None = None) -> None:
        self.settings = settings
        self.mapping = mapping
        self.odata = client or ODataClient(settings.base_url, settings.logon, sap_client=settings.sap_client,
                                           timeout=settings.timeout, erp=self.name)

    # --- prices ----------------------------------------------------------------------------------

    def _price_filter(self, price_list_id: int) -> str | None:
        key = self.mapping.price_list(price_list_id)
        if key is None:
            return None
        kind, code = key
        s = self.settings
        today = datetime_literal(datetime.now(UTC).date())
        field = s.price_list_field if kind == "list" else "Customer"
        return (f"ConditionType eq {literal(s.condition_type)} and SalesOrganization eq {literal(s.sales_organization)}"
                f" and DistributionChannel eq {literal(s.distribution_channel)} and {field} eq {literal(code)}"
                f" and ConditionValidityStartDate le {today} and ConditionValidityEndDate ge {today}")

    def _prices(self, price_list_id: int, currency: str, rows: Iterable[dict[str, Any]]) -> dict[str, PriceRecord]:
        """Records by SKU from validity rows (their record and scales expanded); the latest start wins."""
        chosen: dict[str, tuple[datetime, PriceRecord]] = {}
        for row in rows:
            record = row.get("to_SlsPrcgConditionRecord")
            sku = self.mapping.sku(str(row.get("Material") or ""))
            if not isinstance(record, dict) or sku is None:
                continue
            if record.get("ConditionIsDeleted") or record.get("ConditionReleaseStatus"):
                continue
            if record.get("ConditionRateValueUnit") != currency:
                continue
            price = amount(record.get("ConditionRateValue"))
            per = amount(record.get("ConditionQuantity") or "1") or Decimal(1)
            scales = sorted((quantity(line.get("ConditionScaleQuantity")), amount(line.get("ConditionRateValue")) / per)
                            for line in (record.get("to_SlsPrcgCndnRecordScale") or {}).get("results", []))
            tiers = tuple(BulkTier(low, (scales[i + 1][0] - 1) if i + 1 < len(scales) else None, value)
                          for i, (low, value) in enumerate(scales) if low > 1)
            changed = parse_date(record.get("LastChangeDateTime"))
            start = parse_date(row.get("ConditionValidityStartDate")) or datetime.min.replace(tzinfo=UTC)
            candidate = PriceRecord(price_list_id, sku, currency, price / per, bulk_tiers=tiers,
                                    version=epoch_ms(changed) if changed else _now_ms())
            if sku not in chosen or start > chosen[sku][0]:
                chosen[sku] = (start, candidate)
        return {sku: record for sku, (_, record) in chosen.items()}

    async def get_prices(self, price_list_id: int, currency: str, skus: Iterable[str]) -> dict[str, PriceRecord]:
        base = self._price_filter(price_list_id)
        materials = [m for m in (self.mapping.material(s) for s in dict.fromkeys(skus) if s) if m]
        if base is None or not materials:
            return {}
        expand = "to_SlsPrcgConditionRecord/to_SlsPrcgCndnRecordScale"
        reads = [("A_SlsPrcgCndnRecdValidity", {"$filter": f"{base} and {_any_of('Material', chunk)}",
                                                "$expand": expand})
                 for chunk in _chunks(materials, MATERIALS_PER_READ)]
        rows = await self._batched(PRICING, reads)
        return self._prices(price_list_id, currency, rows)

    async def iter_price_list(self, price_list_id: int, currency: str) -> AsyncIterator[list[PriceRecord]]:
        base = self._price_filter(price_list_id)
        if base is None:
            return
        params = {"$filter": base, "$expand": "to_SlsPrcgConditionRecord/to_SlsPrcgCndnRecordScale",
                  "$orderby": "Material"}
        async for page in self.odata.pages(PRICING, "A_SlsPrcgCndnRecdValidity", params):
            yield list(self._prices(price_list_id, currency, page).values())

    async def _batched(self, service: str, reads: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
        """Several reads in ``$batch`` round trips; one read (the edge's usual page of SKUs) as a plain GET."""
        if len(reads) == 1:
            return list(await self.odata.all(service, *reads[0]))
        groups = _chunks_of(reads, READS_PER_BATCH)
        answers = await asyncio.gather(*(self.odata.batch_get(service, group) for group in groups))
        return [row for answer in answers for rows in answer for row in rows]

    # --- stock -----------------------------------------------------------------------------------

    def _levels(self, rows: Iterable[dict[str, Any]], materials: Iterable[str], version: int) -> dict[str, list[StockLevel]]:
        totals: dict[tuple[str, int], Decimal] = {}
        for row in rows:
            location = self.mapping.locations.bc(str(row.get("Plant") or ""))
            if location is None or row.get("InventoryStockType") != UNRESTRICTED or row.get("InventorySpecialStockType"):
                continue
            key = (str(row.get("Material")), location)
            totals[key] = totals.get(key, Decimal(0)) + amount(row.get("MatlWrhsStkQtyInMatlBaseUnit"))
        found: dict[str, list[StockLevel]] = {}
        for material in materials:
            sku = self.mapping.sku(material)
            if sku is None:
                continue
            found[sku] = [StockLevel(sku, location, int(totals.get((material, location), Decimal(0))), version=version)
                          for location in sorted(self.mapping.locations.to_erp)]
        return found

    def _stock_filter(self) -> str:
        return f"InventoryStockType eq {literal(UNRESTRICTED)}"

    async def get_stock(self, skus: Iterable[str]) -> dict[str, list[StockLevel]]:
        materials = [m for m in (self.mapping.material(s) for s in dict.fromkeys(skus) if s) if m]
        if not materials:
            return {}
        version = _now_ms()
        reads = [("A_MatlStkInAcctMod", {"$filter": f"{self._stock_filter()} and {_any_of('Material', chunk)}"})
                 for chunk in _chunks(materials, MATERIALS_PER_READ)]
        return self._levels(await self._batched(STOCK, reads), materials, version)

    async def iter_stock(self) -> AsyncIterator[list[StockLevel]]:
        """Every mapped SKU's levels, a page at a time; a material's rows never straddle two batches."""
        pending: list[dict[str, Any]] = []
        version = _now_ms()
        params = {"$filter": self._stock_filter(), "$orderby": "Material"}
        async for page in self.odata.pages(STOCK, "A_MatlStkInAcctMod", params):
            pending.extend(page)
            if not pending:
                continue
            last = pending[-1].get("Material")
            complete = [row for row in pending if row.get("Material") != last]
            pending = [row for row in pending if row.get("Material") == last]
            levels = self._levels(complete, dict.fromkeys(str(r.get("Material")) for r in complete), version)
            if levels:
                yield [level for group in levels.values() for level in group]
        if pending:
            levels = self._levels(pending, dict.fromkeys(str(r.get("Material")) for r in pending), version)
            yield [level for group in levels.values() for level in group]

    # --- credit and customers ----------------------------------------------------------------------

    async def get_credit(self, company_id: int) -> CreditRecord | None:
        customer = self.mapping.companies.erp(company_id)
        if customer is None:
            return None
        version = _now_ms()
        account = await self.odata.get(PARTNERS, f"A_Customer({literal(customer)})", missing_ok=True)
        if account is None:
            return None
        open_filter = (f"CompanyCode eq {literal(self.settings.company_code)} and Customer eq {literal(customer)}"
                       f" and IsCleared eq false")
        items = await self.odata.all(OPEN_ITEMS, "A_OperationalAcctgDocItemCube",
                                     {"$filter": open_filter, "$select": "AmountInCompanyCodeCurrency,IsCleared"})
        balance = sum((amount(item.get("AmountInCompanyCodeCurrency")) for item in items if not item.get("IsCleared")),
                      Decimal(0))
        hold = bool(account.get("OrderIsBlockedForCustomer")) or bool(account.get("PostingIsBlocked"))
        limit = self.mapping.credit_limits.get(customer, Decimal(0))
        return CreditRecord(company_id, limit, balance, "hold" if hold else "ok", version)

    async def _group_of(self, customer: str) -> int | None:
        own = self.mapping.own_price_list_of(customer)
        if own is not None:
            return own.customer_group_id
        s = self.settings
        key = (f"A_CustomerSalesArea(Customer={literal(customer)},SalesOrganization={literal(s.sales_organization)},"
               f"DistributionChannel={literal(s.distribution_channel)},Division={literal(s.division)})")
        area = await self.odata.get(PARTNERS, key, missing_ok=True)
        return self.mapping.customer_groups.bc(str(area.get("CustomerGroup") or "")) if area else None

    async def get_customer(self, customer_id: int) -> CustomerRecord | None:
        partner = self.mapping.customers.erp(customer_id)
        if partner is None:
            return None
        version = _now_ms()
        found = await self.odata.get(PARTNERS, f"A_BusinessPartner({literal(partner)})", missing_ok=True)
        if found is None:
            return None
        own_account = str(found.get("Customer") or "")
        if own_account:
            return CustomerRecord(customer_id, await self._group_of(own_account), None, version)
        relations = await self.odata.all(PARTNERS, "A_BusinessPartnerContact",
                                         {"$filter": f"BusinessPartnerPerson eq {literal(partner)}"})
        today = datetime.now(UTC)
        for relation in relations:
            company_bp = str(relation.get("BusinessPartnerCompany") or "")
            company_id = self.mapping.companies.bc(company_bp)
            valid_to = parse_date(relation.get("ValidityEndDate"))
            if company_id is not None and (valid_to is None or valid_to >= today):
                return CustomerRecord(customer_id, await self._group_of(company_bp), company_id, version)
        return CustomerRecord(customer_id, None, None, version)

    # --- sales orders ------------------------------------------------------------------------------

    async def _order_entities(self, reference: str) -> list[dict[str, Any]]:
        return await self.odata.all(SALES_ORDERS, "A_SalesOrder", {
            "$filter": f"PurchaseOrderByCustomer eq {literal(reference)}", "$expand": ORDER_EXPAND})

    def _sales_order(self, entity: dict[str, Any]) -> ErpSalesOrder:
        try:
            return orders.erp_sales_order(entity, self.mapping, self.settings.condition_type)
        except (KeyError, TypeError, ValueError) as exc:
            raise ErpBadResponse(f"{self.name}: unreadable sales order: {exc!r}", erp=self.name) from exc

    async def find_sales_order(self, reference: str) -> ErpSalesOrder | None:
        found = [e for e in await self._order_entities(reference) if e.get("PurchaseOrderByCustomer") == reference]
        if len(found) > 1:
            numbers = ", ".join(str(e.get("SalesOrder")) for e in found)
            raise ErpBadResponse(f"{self.name}: several sales orders carry reference {reference}: {numbers}",
                                 erp=self.name)
        return self._sales_order(found[0]) if found else None

    async def create_sales_order(self, order: SalesOrder) -> ErpSalesOrder:
        try:
            body = orders.deep_insert(order, self.mapping, self.settings.order_defaults)
        except orders.OrderMappingProblem as exc:
            raise ErpRejected(f"{self.name}: {exc}", erp=self.name) from exc
        response = await self.odata.create(SALES_ORDERS, "A_SalesOrder", body)
        if not response.is_success:
            error = from_status(response, erp=self.name)
            if response.status_code == 400 and _code(response) in DUPLICATE_PO_CODES:
                raise DuplicateReference(str(error), reference=order.reference, erp=self.name, status=400)
            raise error
        created = response.json().get("d", {})
        number = str(created.get("SalesOrder") or "")
        if not number:
            raise ErpBadResponse(f"{self.name}: the created sales order has no number", erp=self.name)
        return await self._reread(number)

    async def _reread(self, number: str) -> ErpSalesOrder:
        entity = await self.odata.get(SALES_ORDERS, f"A_SalesOrder({literal(number)})", {"$expand": ORDER_EXPAND})
        return self._sales_order(entity)

    async def update_sales_order(self, number: str, order: SalesOrder) -> ErpSalesOrder:
        entity = await self.odata.get(SALES_ORDERS, f"A_SalesOrder({literal(number)})", {"$expand": ORDER_EXPAND})
        etag = (entity.get("__metadata") or {}).get("etag") if isinstance(entity, dict) else None
        if not isinstance(etag, str):
            raise ErpBadResponse(f"{self.name}: sales order {number} came without an ETag", erp=self.name)
        try:
            operations = orders.changes(number, etag, entity, order, self.mapping, self.settings.order_defaults)
        except orders.OrderMappingProblem as exc:
            raise ErpRejected(f"{self.name}: {exc}", erp=self.name) from exc
        await self.odata.changeset(SALES_ORDERS, operations)
        return await self._reread(number)

    # --- shipments and invoices ----------------------------------------------------------------------

    async def list_shipments(self, reference: str) -> list[Shipment]:
        order = await self.find_sales_order(reference)
        if order is None:
            return []
        items = await self.odata.all(DELIVERIES, "A_OutbDeliveryItem",
                                     {"$filter": f"ReferenceSDDocument eq {literal(order.number)}"})
        documents = sorted({str(i.get("DeliveryDocument")) for i in items})
        if not documents:
            return []
        headers = await self.odata.all(DELIVERIES, "A_OutbDeliveryHeader",
                                       {"$filter": _any_of("DeliveryDocument", documents)})
        shipments = []
        for header in sorted(headers, key=lambda h: str(h.get("DeliveryDocument"))):
            if header.get("OverallGoodsMovementStatus") != "C":
                continue  # picked or packed, not yet shipped
            document = str(header.get("DeliveryDocument"))
            lines = tuple(ShipmentLine(self.mapping.sku(str(i.get("Material"))) or str(i.get("Material")),
                                       quantity(i.get("ActualDeliveryQuantity")))
                          for i in items if str(i.get("DeliveryDocument")) == document)
            shipments.append(Shipment(document, order.number, reference, str(header.get("MeansOfTransport") or ""),
                                      str(header.get("BillOfLading") or ""), lines, order.status))
        return shipments

    async def list_invoices(self, reference: str) -> list[Invoice]:
        documents = await self.odata.all(BILLING, "A_BillingDocument", {
            "$filter": f"PurchaseOrderByCustomer eq {literal(reference)}", "$expand": "to_Item"})
        invoices = []
        for doc in documents:
            items = (doc.get("to_Item") or {}).get("results", [])
            lines = tuple(InvoiceLine(self.mapping.sku(str(i.get("Material"))) or str(i.get("Material")),
                                      quantity(i.get("BillingQuantity")), amount(i.get("NetAmount"))) for i in items)
            issued = parse_date(doc.get("BillingDocumentDate"))
            order = next((str(i.get("SalesDocument")) for i in items if i.get("SalesDocument")), None)
            invoices.append(Invoice(str(doc.get("BillingDocument")), reference, str(doc.get("TransactionCurrency")),
                                    amount(doc.get("TotalNetAmount")), amount(doc.get("TaxAmount") or "0"),
                                    issued.date() if issued else datetime.now(UTC).date(), lines, order,
                                    bool(doc.get("BillingDocumentIsCancelled"))))
        return invoices

    async def aclose(self) -> None:
        await self.odata.aclose()


def _chunks_of(reads: list[tuple[str, dict[str, str]]], size: int) -> list[list[tuple[str, dict[str, str]]]]:
    return [reads[i:i + size] for i in range(0, len(reads), size)]


def _code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None

