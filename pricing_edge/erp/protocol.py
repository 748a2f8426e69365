"""The contract between pricing-edge and an ERP: what the edge and the worker read from it.

Small on purpose: every connector (SAP S/4 and B1, Dynamics 365 BC and F&O, NetSuite, Acumatica,
the simulator) implements exactly this, translating its own codes to BigCommerce-side ids
(price list, location, customer group, company) and SKUs. Money is ``Decimal``; every failure is
an ``ErpError`` (see ``erp.errors``), never a vendor's or a transport's exception.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Protocol, runtime_checkable

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.invoices import Invoice
from pricing_edge.domain.orders import ErpSalesOrder, SalesOrder, Shipment
from pricing_edge.domain.pricing import PriceRecord


@runtime_checkable
class ErpAdapter(Protocol):
    """Live reads by key (the cache's read-through) and bulk iteration (warming a fresh cache)."""

    name: str

    async def get_prices(self, price_list_id: int, currency: str,
                         skus: Iterable[str]) -> dict[str, PriceRecord]:
        """Records by SKU; SKUs the ERP does not price on that list in that currency are absent."""
        ...

    async def get_stock(self, skus: Iterable[str]) -> dict[str, list[StockLevel]]:
        """Levels per warehouse by SKU; unknown SKUs are absent."""
        ...

    async def get_credit(self, company_id: int) -> CreditRecord | None:
        """None when the ERP knows no such company."""
        ...

    async def get_customer(self, customer_id: int) -> CustomerRecord | None:
        """None when the ERP knows no such customer."""
        ...

    def iter_price_list(self, price_list_id: int, currency: str) -> AsyncIterator[list[PriceRecord]]:
        """The whole price list in one currency, in batches."""
        ...

    def iter_stock(self) -> AsyncIterator[list[StockLevel]]:
        """All stock, in batches that each hold every warehouse level of the SKUs in it."""
        ...

    # -- sales orders (the worker's order flow) -------------------------------------------------
    async def find_sales_order(self, reference: str) -> ErpSalesOrder | None:
        """The order carrying our ``reference`` (S/4 PurchaseOrderByCustomer, B1 NumAtCard, BC
        externalDocumentNumber, NetSuite externalId), or None. Looked up before every create."""
        ...

    async def create_sales_order(self, order: SalesOrder) -> ErpSalesOrder:
        """Post a new order; raises ``DuplicateReference`` if one with this reference exists."""
        ...

    async def update_sales_order(self, number: str, order: SalesOrder) -> ErpSalesOrder:
        """Bring an open order in line with ``order`` (lines, ship-to, cancellation); ``ErpRejected``
        if the ERP no longer allows it (already shipped)."""
        ...

    async def list_shipments(self, reference: str) -> list[Shipment]:
        """The shipped deliveries of the order carrying ``reference`` (none if no such order)."""
        ...

    async def list_invoices(self, reference: str) -> list[Invoice]:
        """The invoices (billing documents) of the order carrying ``reference``."""
        ...

    async def aclose(self) -> None:
        ...
