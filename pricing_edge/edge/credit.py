"""``customer { b2bCredit }``: the buyer's own company's credit, with DESIGN.md's conservative rule.

Fresh from the store within its window (credit events keep it current); otherwise the ERP is asked
within the request budget (through the same breaker as every ERP read). When it cannot be asked, the
last good record is shown, flagged stale — and on-account checkout is refused once it is too old.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from purgatory.domain.model import OpenedState

from pricing_edge.clock import SYSTEM_CLOCK, Clock
from pricing_edge.domain.credit import CreditRecord, on_account_allowed
from pricing_edge.domain.money import to_decimal
from pricing_edge.edge.projection import Obj, Resolver
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.edge.records import ErpGate
from pricing_edge.store.base import Store, StoreError
import contextlib


@dataclass(frozen=True)
class CreditView:
    record: CreditRecord | None
    as_of_ms: int | None
    erp_reachable: bool
    ttl: float
    max_age: float
    currency: str
    order_total: Decimal | None = None
    now_ms: int | None = None  # when the view was taken (the service's clock); unset: the wall clock

    @property
    def age_seconds(self) -> float | None:
        now = time.time() * 1000 if self.now_ms is None else self.now_ms
        return None if self.as_of_ms is None else (now - self.as_of_ms) / 1000

    @property
    def stale(self) -> bool:
        age = self.age_seconds
        return age is None or age >= self.ttl

    def allowed(self, order_total: Decimal | None) -> bool:
        return on_account_allowed(self.record, order_total, age_seconds=self.age_seconds,
                                  max_age_seconds=self.max_age, erp_reachable=self.erp_reachable)

    def as_of(self) -> str | None:
        if self.as_of_ms is None:
            return None
        return datetime.fromtimestamp(self.as_of_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order_total(value: Any) -> Decimal | None:
    """``orderTotal`` as a Decimal; a JSON float is read back through its shortest repr (what was typed)."""
    if value is None:
        return None
    return to_decimal(str(value) if isinstance(value, float) else value)


class CreditService:
    def __init__(self, store: Store, erp: ErpAdapter, gate: ErpGate, *, ttl: float, max_age: float, budget: float,
                 currency: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self.store = store
        self.erp = erp
        self.gate = gate
        self.ttl = ttl
        self.max_age = max_age
        self.budget = budget
        self.currency = currency

    async def view(self, company_id: int) -> CreditView:
        try:
            stored = await self.store.credit_as_of(company_id)
        except StoreError:
            stored = None
        if stored is not None and self.clock.wall_ms() - stored.as_of_ms < self.ttl * 1000:
            return self._view(stored.record, stored.as_of_ms, True)
        try:
            async with asyncio.timeout(self.budget):  # not wait_for: on 3.11 it can swallow a cancellation
                record = await self.gate.call("credit", lambda: self.erp.get_credit(company_id))
        except (ErpError, OpenedState, TimeoutError):
            return self._view(stored.record if stored else None, stored.as_of_ms if stored else None, False)
        if record is not None:
            with contextlib.suppress(StoreError):
                await self.store.put_credit(record, touch=True)
        return self._view(record, self.clock.wall_ms() if record else None, True)

    def _view(self, record: CreditRecord | None, as_of_ms: int | None, reachable: bool) -> CreditView:
        return CreditView(record, as_of_ms, reachable, self.ttl, self.max_age, self.currency,
                          now_ms=self.clock.wall_ms())


def _money(value: Decimal | None, currency: str) -> Obj | None:
    return None if value is None else Obj("Money", (value, currency))


CREDIT_RESOLVERS: dict[str, Resolver] = {
    "status": lambda v, a, _: v.record.status if v.record else "unknown",
    "creditLimit": lambda v, a, _: _money(v.record.credit_limit if v.record else None, v.currency),
    "balance": lambda v, a, _: _money(v.record.balance if v.record else None, v.currency),
    "availableCredit": lambda v, a, _: _money(v.record.available_credit if v.record else None, v.currency),
    "onAccountAllowed": lambda v, a, _: v.allowed(v.order_total),
    "asOf": lambda v, a, _: v.as_of(),
    "stale": lambda v, a, _: v.stale or not v.erp_reachable,
}
