"""An ERP invoice (billing document) of a sales order we posted: what the buyer owes for it.

Pure data; each connector reads its ERP's billing documents into this shape (money as ``Decimal``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    quantity: int
    net_amount: Decimal


@dataclass(frozen=True)
class Invoice:
    number: str
    reference: str  # our reference of the order it bills (``domain.orders.order_reference``)
    currency: str
    net_amount: Decimal
    tax_amount: Decimal
    issued_on: date
    lines: tuple[InvoiceLine, ...] = ()
    order_number: str | None = None
    cancelled: bool = False

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount
