"""Orders are never missed: a poller asks BigCommerce for the orders modified since its cursor
(``GET /v2/orders?min_date_modified=``) on a schedule and puts every one the ledger has not synced at that
version on the BigCommerce intake stream, as the ``store/order/updated`` webhook that never came.

It adds nothing new to the write path: the router, the per-order queue and the order flow (which posts
exactly once: ERP lookup by reference, ledger claim and link) handle a polled order like a webhook. Each
order version is appended once (the dedup key is the order id and its ``date_modified``), and an order
already synced at or after that version is skipped, so a poll re-reading its overlap costs REST calls, never
ERP posts. The cursor is BigCommerce's own ``date_modified`` of the newest order seen (never this host's
clock), read back by ``OVERLAP_SECONDS`` each time (an order saved in the same second as the last poll).
One worker polls at a time (a lease), though two at once would still post each order once.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceError
from pricing_edge.domain.orders import BcStatus
from pricing_edge.ops import tracing
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE
from pricing_edge.store.ledger import Ledger
from pricing_edge.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)
FLOW = "orders"
SCOPE = "store/order/updated"
CURSOR = "order-poller:cursor"
LEASE = "order-poller"
OVERLAP_SECONDS = 60.0
CURSOR_TTL_SECONDS = 90 * 24 * 3600.0


def modified_at(order: dict[str, Any]) -> float | None:
    """An order's ``date_modified`` (RFC 2822, as v2 answers) in Unix seconds; None if it has none."""
    raw = order.get("date_modified")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def queue_order_check(store: Store, order_id: int, delivery_id: str, created_at: int, *, store_hash: str,
                            dedup_ttl: float) -> bool:
    """Put an order on the BigCommerce intake stream as the ``store/order/updated`` webhook would (once per
    ``delivery_id``): the order flow fetches its current state and does what it calls for. False: already
    queued under that id."""
    body = orjson.dumps({"scope": SCOPE, "store_id": "", "data": {"type": "order", "id": order_id}, "hash": "",
                         "created_at": created_at, "producer": f"stores/{store_hash}"})
    with tracing.span("order check queue", kind=tracing.PRODUCER) as traceparent:
        fields = {"type": SCOPE.encode(), "body": body, "webhook_id": delivery_id.encode(),
                  "traceparent": traceparent.encode(), "received_at": str(int(time.time() * 1000)).encode()}
        return await store.append_once(BIGCOMMERCE_INTAKE, f"bigcommerce:{delivery_id}", fields,
                                       dedup_ttl) is not None


class OrderPoller:
    def __init__(self, admin: BigCommerceAdmin, store: Store, ledger: Ledger, metrics: WorkerMetrics, *,
                 store_hash: str, interval: float, lookback: float, dedup_ttl: float) -> None:
        self.admin = admin
        self.store = store
        self.ledger = ledger
        self.metrics = metrics
        self.store_hash = store_hash
        self.interval = interval
        self.lookback = lookback
        self.dedup_ttl = dedup_ttl

    async def poll_once(self) -> int:
        """One poll: the orders it put on the intake stream."""
        raw = await self.store.get_value(CURSOR)
        cursor = float(raw) if raw else None
        since = cursor - OVERLAP_SECONDS if cursor is not None else time.time() - self.lookback
        newest = cursor if cursor is not None else since
        queued = 0
        for order in await self.admin.orders_modified_since(datetime.fromtimestamp(since, UTC)):
            modified = modified_at(order)
            if modified is None or not isinstance(order.get("id"), int):
                continue
            newest = max(newest, modified)
            queued += await self._consider(order, modified)
        await self.store.set_value(CURSOR, repr(newest).encode(), CURSOR_TTL_SECONDS)
        return queued

    async def _consider(self, order: dict[str, Any], modified: float) -> int:
        order_id = int(order["id"])
        if int(order.get("status_id") or 0) == BcStatus.INCOMPLETE:
            self.metrics.orders_polled.labels("skipped").inc()  # checkout not finished: never posted
            return 0
        entry = await self.ledger.get(FLOW, str(order_id))
        if entry is not None and entry.erp_id and (entry.last_synced_ms or 0) >= modified * 1000:
            self.metrics.orders_polled.labels("skipped").inc()  # synced at (or after) this version
            return 0
        version = int(modified)
        appended = await queue_order_check(self.store, order_id, f"poll_{order_id}_{version}", version,
                                           store_hash=self.store_hash, dedup_ttl=self.dedup_ttl)
        self.metrics.orders_polled.labels("queued" if appended else "duplicate").inc()
        if appended:
            log.info("order poller: order %s (modified %s) queued: not synced at that version", order_id, version)
        return 1 if appended else 0

    async def run(self, hold_lease: Any, lease_ms: int, stop: asyncio.Event) -> None:
        """Poll every ``interval`` seconds while this process holds the poller's lease; a failed poll is logged,
        counted, and the next one starts from the same cursor."""
        token = uuid.uuid4().hex
        while not stop.is_set():
            started = time.monotonic()
            try:
                if await hold_lease(LEASE, token, max(lease_ms, int(self.interval * 3000))):
                    await self.poll_once()
                    self.metrics.order_polls.labels("ok").inc()
            except (BigCommerceError, StoreError) as exc:
                log.warning("order poller: poll failed, will retry from the same cursor: %s", exc)
                self.metrics.order_polls.labels("failed").inc()
            except Exception:  # noqa: BLE001 — a bug in one poll must not end polling for the worker's life
                log.exception("order poller: poll crashed")
                self.metrics.order_polls.labels("crashed").inc()
            delay = max(0.0, self.interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stop.wait()
