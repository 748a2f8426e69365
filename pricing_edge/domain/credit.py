"""A B2B company's credit as the ERP states it: the ERP is the credit master, we only mirror it.

Kept separate from the conservative checkout rules so those can be tested against any record,
including stale or missing ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

CreditStatus = Literal["ok", "hold"]
CREDIT_STATUSES: tuple[str, ...] = get_args(CreditStatus)


@dataclass(frozen=True)
class CreditRecord:
    """One company's credit line; ``balance`` is what it owes now (it can be negative: a credit note)."""

    company_id: int
    credit_limit: Decimal
    balance: Decimal
    status: CreditStatus
    version: int = 0

    @property
    def on_hold(self) -> bool:
        return self.status == "hold"

    @property
    def available_credit(self) -> Decimal:
        """Limit less balance, never negative; a hold does not change it (the checkout rules decide that)."""
        return max(Decimal(0), self.credit_limit - self.balance)


def on_account_allowed(record: CreditRecord | None, order_total: Decimal | None, *, age_seconds: float | None,
                       max_age_seconds: float, erp_reachable: bool) -> bool:
    """DESIGN.md's conservative credit rule for on-account checkout.

    Never on hold; never over the available credit; and when the truth is unknown — no record, or a
    record older than its limit while the ERP cannot be asked — not allowed.
    """
    if record is None or record.on_hold:
        return False
    if not erp_reachable and (age_seconds is None or age_seconds > max_age_seconds):
        return False
    return order_total is None or order_total <= record.available_credit


def placement_hold(record: CreditRecord | None, order_total: Decimal) -> str | None:
    """Why an order paid on account must be held rather than posted as an open order, or None to post it.

    The rule at placement (the storefront's check may be minutes old, or skipped): a company on hold, an
    order above the company's available credit (limit less what it owes now, as the ERP states it), or
    credit the ERP does not know, hold the order. It is posted when the ERP's credit later allows it (a
    payment lowers the balance, the limit is raised, the hold is lifted): never sooner, never twice.
    """
    if record is None:
        return "the ERP has no credit line for the company"
    if record.on_hold:
        return "the company's account is on hold"
    if order_total > record.available_credit:
        return f"the order's total {order_total} exceeds the available credit {record.available_credit}"
    return None
