"""Credit at order placement: an order paid on account that exceeds its company's available credit, or from a
company on hold, is held — not posted to the ERP as an open order — until the ERP's credit allows it.

Held means: the ledger entry's status is ``held`` (its detail says why, for which company and total), the
BigCommerce order is moved to *Manual Verification Required* (so the merchant sees it), and it is counted in
``pricing_edge_orders_posted_total{result="held"}``. The rule itself is ``domain.credit.placement_hold``.

Release by the merchant: moving the order out of *Manual Verification Required* in BigCommerce posts it, whatever
the credit. Release by the ERP: every ``com.pricingedge.credit.changed`` event of a company (a payment lowered its balance, its limit
was raised, its hold lifted) queues a fresh check of that company's held orders (the ledger indexes its
``held`` entries; ``pricing-edge ops status`` counts them), and the order flow posts each one the credit now
allows, once, and moves it back to *Awaiting Fulfillment*.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import orjson

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.domain.credit import placement_hold
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.orders import BcStatus, OrderSettings, bc_status, bc_total
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.store.base import Store
from pricing_edge.store.ledger import Ledger, LedgerEntry, now_ms
from pricing_edge.worker.metrics import WorkerMetrics
from pricing_edge.worker.order_poller import queue_order_check

log = logging.getLogger(__name__)
FLOW = "orders"
HELD = "held"
HOLD_STATUS = BcStatus.MANUAL_VERIFICATION_REQUIRED
RELEASED_STATUS = BcStatus.AWAITING_FULFILLMENT


def detail_of(entry: LedgerEntry | None) -> dict[str, Any]:
    if entry is None or not entry.detail:
        return {}
    value = orjson.loads(entry.detail)
    return value if isinstance(value, dict) else {}


class CreditHold:
    def __init__(self, admin: BigCommerceAdmin, erp: ErpAdapter, ledger: Ledger, settings: OrderSettings,
                 metrics: WorkerMetrics, store: Store | None, *, dedup_ttl: float) -> None:
        self.admin = admin
        self.erp = erp
        self.ledger = ledger
        self.settings = settings
        self.metrics = metrics
        self.store = store
        self.dedup_ttl = dedup_ttl

    def on_account(self, order: dict[str, Any]) -> bool:
        return str(order.get("payment_method") or "") in self.settings.po_payment_methods

    async def reason(self, order: dict[str, Any], customer: CustomerRecord | None,
                     entry: LedgerEntry | None) -> tuple[str, int, Decimal] | None:
        """(why, company, total) when the order must be held; None to post it. An order we hold that the
        merchant moved out of *Manual Verification Required* is released by them: posted whatever the credit."""
        if customer is None or customer.company_id is None or not self.on_account(order):
            return None
        if entry is not None and entry.status == HELD and bc_status(order) is not HOLD_STATUS:
            log.info("order %s: released from its credit hold by the merchant (status %s)", order.get("id"),
                     bc_status(order).name)
            return None
        total = bc_total(order)
        why = placement_hold(await self.erp.get_credit(customer.company_id), total)
        return None if why is None else (why, customer.company_id, total)

    async def hold(self, order: dict[str, Any], why: str, company_id: int, total: Decimal,
                   correlation: str) -> None:
        order_id = int(order["id"])
        # BigCommerce first, then the ledger: a ledger that says "held" while BigCommerce does not means the
        # merchant released it (see ``reason``), never a hold we failed to show.
        if bc_status(order) is not HOLD_STATUS:
            await self.admin.update_order(order_id, {"status_id": int(HOLD_STATUS)})
            log.warning("order %s held, not posted: %s", order_id, why)
        entry = await self.ledger.get(FLOW, str(order_id))
        detail = detail_of(entry) | {"hold": {"reason": why, "company_id": company_id, "total": str(total),
                                              "since": detail_of(entry).get("hold", {}).get("since", now_ms())}}
        await self.ledger.record(FLOW, str(order_id), status=HELD, correlation_id=correlation,
                                 detail=orjson.dumps(detail).decode())
        self.metrics.orders_posted.labels("held").inc()

    async def released(self, order: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
        """After a held order was posted: back to Awaiting Fulfillment in BigCommerce; the detail keeps the
        hold's story with when it ended."""
        hold = detail.get("hold")
        if not isinstance(hold, dict) or "released_at" in hold:
            return detail
        if bc_status(order) is HOLD_STATUS:
            await self.admin.update_order(int(order["id"]), {"status_id": int(RELEASED_STATUS)})
        log.info("order %s released from its credit hold and posted", order.get("id"))
        return detail | {"hold": hold | {"released_at": now_ms()}}

    async def recheck(self, company_id: int, event_id: str) -> int:
        """A company's credit changed: queue a check of each order we hold for it (the ledger indexes held
        entries); how many were queued."""
        if self.store is None:
            return 0
        queued = 0
        for bc_id in await self.ledger.with_status(FLOW, HELD):
            entry = await self.ledger.get(FLOW, bc_id)
            hold = detail_of(entry).get("hold")
            if entry is None or entry.status != HELD or not isinstance(hold, dict) or hold.get("company_id") != company_id:
                continue
            if await queue_order_check(self.store, int(bc_id), f"credit_{bc_id}_{event_id}", int(now_ms() / 1000),
                                       store_hash=self.settings.store_hash, dedup_ttl=self.dedup_ttl):
                queued += 1
        return queued
