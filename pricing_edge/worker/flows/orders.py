"""Orders, BigCommerce → ERP exactly once, and their fulfilment back.

Two-stage: an order webhook only names the order; the handler fetches its current state from the
REST Admin API, so created/updated/statusUpdated arriving in any order end in the same ERP state.
Exactly once: the order is looked up in the ERP by our reference before it is created (the ERP
also refuses a second order with that reference), the write is claimed in the ledger first, and
the ledger links the pair uniquely — a retry, a replay or a crash between the ERP's reply and the
acknowledgement finds the order and links it instead of posting it again.

ERP events (shipment created, sales-order status changed) queue under the same entity as the
order's webhooks (``order:<id>``, from the reference they carry), so they never overtake its post.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import orjson

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.domain import order_events
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import CREDIT_CHANGED, SALES_ORDER_CHANGED, SHIPMENT_CREATED, EventDataError
from pricing_edge.domain.orders import (
    BcStatus,
    ErpSalesOrder,
    ErpStatus,
    OrderSettings,
    SalesOrder,
    bc_status,
    bc_status_for,
    bc_total,
    cents,
    is_postable,
    order_id_of,
    price_mismatches,
    same_lines,
    to_sales_order,
)
from pricing_edge.domain.scope import PriceListAssignments
from pricing_edge.erp.errors import DuplicateReference
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.intake.bigcommerce_webhooks import data_problem
from pricing_edge.ops import tracing
from pricing_edge.store.base import Store
from pricing_edge.store.ledger import Ledger, LedgerEntry, now_ms
from pricing_edge.worker.errors import PermanentError, TransientError
from pricing_edge.worker.flows.credit_hold import CreditHold
from pricing_edge.worker.messages import Message
from pricing_edge.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)
FLOW = "orders"
ORDER_SCOPES = frozenset({"store/order/created", "store/order/updated", "store/order/statusUpdated"})
ERP_ORDER_EVENTS = frozenset({SHIPMENT_CREATED, SALES_ORDER_CHANGED})
CHANGEABLE = frozenset({ErpStatus.OPEN, ErpStatus.RELEASED})
HISTORY = 20
INVALID_ENTITY = "order:invalid"  # deliveries whose data fails the webhook schema: dead-lettered with the reason


def _detail(entry: LedgerEntry | None) -> dict[str, Any]:
    if entry is None or not entry.detail:
        return {}
    value = orjson.loads(entry.detail)
    return value if isinstance(value, dict) else {}


def _has_coupons(order: dict[str, Any]) -> bool:
    """Only an order with a coupon discount costs the extra call for its coupons' codes."""
    try:
        return Decimal(str(order.get("coupon_discount") or 0)) != 0
    except ArithmeticError:
        return True


def _has_fees(order: dict[str, Any], products: list[dict[str, Any]], addresses: list[dict[str, Any]]) -> bool:
    """Whether the order's total has more in it than its lines, shipping, handling and wrapping, less its
    discounts: only then does it cost the extra call for its fees."""
    try:
        def money(value: Any) -> Decimal:
            return Decimal(str(value or 0))

        known = (sum((money(p.get("total_inc_tax")) for p in products), Decimal(0))
                 + sum((money(a.get("cost_inc_tax")) for a in addresses), Decimal(0))
                 + money(order.get("handling_cost_inc_tax")) + money(order.get("wrapping_cost_inc_tax"))
                 - money(order.get("discount_amount")) - money(order.get("coupon_discount")))
        return money(order.get("total_inc_tax")) != known
    except ArithmeticError:
        return True


class OrderFlow:
    name = FLOW

    def __init__(self, admin: BigCommerceAdmin, erp: ErpAdapter, ledger: Ledger, assignments: PriceListAssignments,
                 settings: OrderSettings, metrics: WorkerMetrics, *, claim_ms: int = 10_000, store: Store | None = None,
                 dedup_ttl: float = 7 * 24 * 3600.0) -> None:
        self.credit = CreditHold(admin, erp, ledger, settings, metrics, store, dedup_ttl=dedup_ttl)
        self.admin = admin
        self.erp = erp
        self.ledger = ledger
        self.assignments = assignments
        self.settings = settings
        self.metrics = metrics
        self.claim_ms = claim_ms

    def route(self, source: str, kind: str, data: dict[str, Any]) -> str | None:
        if source in ("bigcommerce", "replay") and kind in ORDER_SCOPES:
            if data_problem({"scope": kind, "data": data}) is not None:
                return INVALID_ENTITY  # handled only to be dead-lettered with the reason, never dropped
            return f"order:{data['id']}"
        if source == "erp" and kind in ERP_ORDER_EVENTS:
            order_id = order_id_of(str(data.get("reference") or ""))
            return f"order:{order_id}" if order_id else None
        if source == "erp" and kind == CREDIT_CHANGED:
            company_id = data.get("company_id")
            return f"credit:{company_id}" if isinstance(company_id, int) and company_id > 0 else None
        return None

    async def handle(self, message: Message, token: str) -> None:
        if message.kind == CREDIT_CHANGED:  # not an order's message: no ledger history of its own
            queued = await self.credit.recheck(int(message.data["company_id"]), message.id)
            log.info("credit of company %s changed: %d held order(s) queued for a new check",
                     message.data["company_id"], queued)
            return
        if message.kind in ORDER_SCOPES and (problem := data_problem({"scope": message.kind, "data": message.data})):
            raise PermanentError(f"invalid webhook {message.id}: {problem}")
        if message.kind in ORDER_SCOPES:
            await self.sync_order(int(message.data["id"]), message, token)
        elif message.kind == SHIPMENT_CREATED:
            await self.ship(order_events.shipment_from_data(message.data), message)
        elif message.kind == SALES_ORDER_CHANGED:
            await self.reflect_status(order_events.order_changed_from_data(message.data), message)
        else:
            raise PermanentError(f"the orders flow has no handler for {message.kind}")
        await self._remember(message, status=None, error="")

    async def failed(self, message: Message, reason: str, final: bool) -> None:
        """The ledger shows the last error, and whether the message waits for a retry or for ops."""
        if message.kind == CREDIT_CHANGED:
            return
        if message.entity == INVALID_ENTITY:
            return  # no order to note it on: the dead letter carries the reason
        await self._remember(message, status="dead-lettered" if final else "retrying", error=reason)

    async def _remember(self, message: Message, status: str | None, error: str) -> None:
        """Append this attempt to the order's ledger history (the last few, in the order handled), with its
        trace and the calls it made: which attempts touched the ERP, and where to find each one's trace."""
        bc_id = message.entity.partition(":")[2]
        entry = await self.ledger.get(FLOW, bc_id)
        detail = _detail(entry)
        calls = tracing.calls_so_far()
        attempt = tracing.current_traceparent() or message.traceparent
        step = {"kind": message.kind, "id": message.id, "outcome": status or "ok", "attempt": message.retries + 1,
                "at": now_ms(), "trace_id": tracing.trace_id(attempt), "traceparent": attempt,
                "erp_calls": calls.get("erp", 0), "bigcommerce_calls": calls.get("bigcommerce", 0)}
        detail["history"] = [*detail.get("history", []), step][-HISTORY:]
        await self.ledger.record(FLOW, bc_id, status=status or (entry.status if entry else "seen"),
                                 correlation_id=message.traceparent, last_error=error,
                                 detail=orjson.dumps(detail).decode())

    # -- BigCommerce → ERP ----------------------------------------------------------------------
    async def sync_order(self, order_id: int, message: Message, token: str) -> None:
        order = await self.admin.get_order(order_id)
        if order is None:
            raise PermanentError(f"order {order_id} does not exist in BigCommerce")
        bc_id, correlation = str(order_id), message.traceparent
        entry = await self.ledger.get(FLOW, bc_id)
        if not is_postable(order):
            if entry is None or not entry.erp_id:
                await self.ledger.record(FLOW, bc_id, status="incomplete", correlation_id=correlation)
            self.metrics.orders_posted.labels("skipped").inc()
            return
        sales_order, customer = await self._sales_order(order)
        if entry is not None and entry.erp_id:
            await self._update_posted(sales_order, entry, correlation)
            return
        existing = await self.erp.find_sales_order(sales_order.reference)
        if existing is None and sales_order.cancelled:
            await self.ledger.record(FLOW, bc_id, status="cancelled-before-post", correlation_id=correlation)
            self.metrics.orders_posted.labels("skipped").inc()
            return
        if existing is None and not sales_order.cancelled:
            hold = await self.credit.reason(order, customer, entry)
            if hold is not None:
                await self.credit.hold(order, *hold, correlation)
                return
        mismatches = await self._price_check(sales_order, customer)
        if existing is None:
            if not await self.ledger.claim(FLOW, bc_id, token, self.claim_ms, correlation):
                raise TransientError(f"order {order_id}: another worker holds the claim to post it")
            existing = await self._create(sales_order)
        else:
            self.metrics.orders_posted.labels("found").inc()
        # One atomic write: the pair, "synced" and the detail together (a reader never sees one without the others).
        detail = await self.credit.released(order, _detail(await self.ledger.get(FLOW, bc_id)) | {
            "reference": sales_order.reference, "erp_status": existing.status.value,
            "price_mismatches": [m.describe() for m in mismatches], "totals": self._totals(order, existing)})
        linked = await self.ledger.link(FLOW, bc_id, existing.number, correlation, detail=orjson.dumps(detail).decode())
        if existing.status in CHANGEABLE and (not same_lines(existing.lines, sales_order.lines) or sales_order.cancelled):
            await self._update_posted(sales_order, linked, correlation, current=existing)
        await self._write_back(order, existing.number)

    def _totals(self, order: dict[str, Any], posted: ErpSalesOrder) -> dict[str, Any]:
        """BigCommerce's total against the one the ERP computed from what it received (to the cent); a
        difference is counted and logged: something the buyer agreed to did not arrive."""
        ours = cents(bc_total(order))
        theirs = None if posted.total is None else cents(posted.total)
        if theirs is not None and theirs != ours:
            self.metrics.total_mismatches.inc()
            log.warning("order %s: BigCommerce's total %s but ERP order %s totals %s", order.get("id"), ours,
                        posted.number, theirs)
        return {"bigcommerce": str(ours), "erp": None if theirs is None else str(theirs),
                "equal": None if theirs is None else theirs == ours}

    async def _create(self, sales_order: SalesOrder) -> ErpSalesOrder:
        try:
            created = await self.erp.create_sales_order(sales_order)
        except DuplicateReference:
            # Posted by an attempt whose reply we never saw: the ERP has it; find it.
            found = await self.erp.find_sales_order(sales_order.reference)
            if found is None:
                raise TransientError(f"{sales_order.reference}: the ERP reports a duplicate it cannot find yet") from None
            self.metrics.orders_posted.labels("found").inc()
            return found
        log.info("posted %s as ERP sales order %s", sales_order.reference, created.number)
        self.metrics.orders_posted.labels("created").inc()
        return created

    async def _sales_order(self, order: dict[str, Any]) -> tuple[SalesOrder, CustomerRecord | None]:
        """The sales order to post, and the buyer as the ERP knows it (its company; its group's prices)."""
        order_id = int(order["id"])
        customer_id = int(order.get("customer_id") or 0)
        customer = await self.erp.get_customer(customer_id) if customer_id else None
        if customer_id and customer is None:
            raise PermanentError(f"order {order_id}: customer {customer_id} is unknown to the ERP")
        products = await self.admin.get_order_products(order_id)
        addresses = await self.admin.get_shipping_addresses(order_id)
        coupons = await self.admin.get_order_coupons(order_id) if _has_coupons(order) else []
        fees = await self.admin.get_order_fees(order_id) if _has_fees(order, products, addresses) else []
        company_id = customer.company_id if customer else None
        return (to_sales_order(order, products, addresses, company_id, self.settings, coupons=coupons, fees=fees),
                customer)

    async def _price_check(self, sales_order: SalesOrder, customer: CustomerRecord | None) -> list[Any]:
        """Each line against the ERP's price for this buyer and quantity; an unknown SKU is permanent."""
        price_list = self.assignments.price_list_for(customer.customer_group_id if customer else None)
        skus = sorted({line.sku for line in sales_order.lines})
        prices = await self.erp.get_prices(price_list, sales_order.currency, skus)
        mismatches = price_mismatches(sales_order.lines, prices)
        if mismatches:
            self.metrics.price_mismatches.inc(len(mismatches))
            log.warning("%s: %d line(s) priced differently from the ERP: %s", sales_order.reference,
                        len(mismatches), [m.describe() for m in mismatches])
        return mismatches

    async def _update_posted(self, sales_order: SalesOrder, entry: LedgerEntry, correlation: str,
                             current: ErpSalesOrder | None = None) -> None:
        """An order already in the ERP (``current``, when just read): pass on cancellations and line
        changes while the ERP allows them."""
        assert entry.erp_id is not None
        current = current or await self.erp.find_sales_order(sales_order.reference)
        if current is None:
            raise TransientError(f"{sales_order.reference}: linked to {entry.erp_id} but the ERP cannot find it yet")
        wants_change = sales_order.cancelled != (current.status is ErpStatus.CANCELLED) or (
            not sales_order.cancelled and not same_lines(current.lines, sales_order.lines))
        if wants_change and current.status not in CHANGEABLE:
            change = "cancellation" if sales_order.cancelled else "line changes"
            raise PermanentError(f"{sales_order.reference}: BigCommerce has {change} but ERP order {current.number} "
                                 f"is already {current.status.value}")
        if wants_change:
            current = await self.erp.update_sales_order(current.number, sales_order)
            self.metrics.orders_posted.labels("updated").inc()
        else:
            self.metrics.orders_posted.labels("unchanged").inc()
        detail = _detail(entry) | {"erp_status": current.status.value}
        await self.ledger.record(FLOW, entry.bc_id, status="synced", correlation_id=correlation, synced=True,
                                 detail=orjson.dumps(detail).decode())

    async def _write_back(self, order: dict[str, Any], number: str) -> None:
        """The ERP's number on the BigCommerce order (its ``external_order_id``), once."""
        if order.get("external_order_id") != number:
            await self.admin.update_order(int(order["id"]), {"external_order_id": number})

    # -- ERP → BigCommerce ----------------------------------------------------------------------
    async def _applicable(self, order_id: int, version: int) -> LedgerEntry | None:
        """The order's ledger entry if this ERP event is newer than the last one applied to it."""
        entry = await self.ledger.get(FLOW, str(order_id))
        if entry is None or not entry.erp_id:
            raise TransientError(f"order {order_id}: an ERP event arrived before the order's post was recorded")
        if int(_detail(entry).get("erp_version", -1)) >= version:
            log.info("order %s: ERP event version %d already applied", order_id, version)
            return None
        return entry

    async def ship(self, event: order_events.ShipmentCreated, message: Message) -> None:
        shipment = event.shipment
        order_id = order_id_of(shipment.reference)
        if order_id is None:
            raise PermanentError(f"shipment {shipment.shipment_id}: reference {shipment.reference!r} is not ours")
        entry = await self._applicable(order_id, event.version)
        if entry is None:
            return
        marker = f"ERP shipment {shipment.shipment_id}"
        done = {str(s.get("order_address_id")) for s in await self.admin.list_shipments(order_id)
                if marker in str(s.get("comments") or "")}
        products = await self.admin.get_order_products(order_id)
        addresses = await self.admin.get_shipping_addresses(order_id)
        if not addresses:
            raise PermanentError(f"order {order_id} has no shipping address to ship to")
        # BigCommerce ships per address: one shipment per consignment the lines belong to (each once).
        try:
            by_address = order_events.shipment_items(shipment, products, int(addresses[0]["id"]))
        except EventDataError as exc:
            raise PermanentError(f"shipment {shipment.shipment_id} does not fit order {order_id}: {exc}") from None
        for address_id, items in by_address.items():
            if str(address_id) not in done:
                await self.admin.create_shipment(order_id, {
                    "order_address_id": address_id, "tracking_number": shipment.tracking_number,
                    "tracking_carrier": shipment.carrier, "comments": marker, "items": items})
        await self._set_bc_status(order_id, shipment.order_status, event.version, entry, message)

    async def reflect_status(self, event: order_events.SalesOrderChanged, message: Message) -> None:
        order_id = order_id_of(event.reference)
        if order_id is None:
            raise PermanentError(f"sales order {event.order_number}: reference {event.reference!r} is not ours")
        entry = await self._applicable(order_id, event.version)
        if entry is not None:
            await self._set_bc_status(order_id, event.status, event.version, entry, message)

    async def _set_bc_status(self, order_id: int, status: ErpStatus, version: int, entry: LedgerEntry,
                             message: Message) -> None:
        target = bc_status_for(status)
        order = await self.admin.get_order(order_id)
        if order is None:
            raise PermanentError(f"order {order_id} does not exist in BigCommerce")
        if bc_status(order) is not target and bc_status(order) is not BcStatus.INCOMPLETE:
            await self.admin.update_order(order_id, {"status_id": int(target)})
        detail = _detail(entry) | {"erp_status": status.value, "erp_version": version}
        await self.ledger.record(FLOW, str(order_id), status="synced", correlation_id=message.traceparent,
                                 synced=True, detail=orjson.dumps(detail).decode())
