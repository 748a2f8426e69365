"""How the engine treats a failure: one classification for every flow.

- transient: the other side is down, slow or rate-limiting — retry with backoff, without limit
  until ``give_up_after`` (an ERP outage must not dead-letter the orders waiting for it);
- permanent: retrying the same message cannot help (unknown SKU, rejected by the ERP, a ledger
  conflict) — dead-lettered at once as "needs attention", with the reason;
- anything else is a bug or a surprise: retried, and dead-lettered as "poison" after N attempts.
"""
from __future__ import annotations

from enum import StrEnum

from pricing_edge.bigcommerce.errors import BigCommerceRejected, BigCommerceUnavailable
from pricing_edge.domain.orders import OrderMappingError
from pricing_edge.erp.errors import ErpRejected, ErpUnavailable
from pricing_edge.store.base import StoreError
from pricing_edge.store.ledger import LedgerConflict


class FailureClass(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "needs-attention"
    POISON = "poison"


class TransientError(Exception):
    """Raised by a flow for "not now" conditions of its own (e.g. the ERP has not caught up yet)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Raised by a flow for data it can never process as it stands."""


TRANSIENT = (TransientError, ErpUnavailable, BigCommerceUnavailable, StoreError)
PERMANENT = (PermanentError, OrderMappingError, ErpRejected, BigCommerceRejected, LedgerConflict)


def classify(exc: BaseException) -> FailureClass:
    if isinstance(exc, TRANSIENT):
        return FailureClass.TRANSIENT
    if isinstance(exc, PERMANENT):
        return FailureClass.PERMANENT
    return FailureClass.POISON


def retry_after(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, (int, float)) else None


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]
