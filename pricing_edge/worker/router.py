"""Moves intake entries (BigCommerce webhooks, ERP events) into the flows' per-entity queues.

One router per intake stream at a time (a lease), reading with the worker's consumer group, so
entries enter the queues in the order they were accepted. Each hand-over appends to the entity's
queue and acknowledges the entry in one atomic step, deduplicated by the entry's own id: a router
that dies mid-batch leaves its entries pending, and the next lease holder reclaims and routes them
without duplicates. Acknowledged entries are trimmed from the stream.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from pricing_edge.backoff import Backoff
from pricing_edge.ops import tracing
from pricing_edge.runtime import run_loops
from pricing_edge.store.base import Store, StoreError, StreamEntry
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, ERP_INTAKE, ERP_SIGNALS, WORKER_GROUP
from pricing_edge.store.work_queue import WorkQueue
from pricing_edge.worker.engine import Flow
from pricing_edge.worker.messages import Message
from pricing_edge.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)
SOURCES = {BIGCOMMERCE_INTAKE: "bigcommerce", ERP_INTAKE: "erp", ERP_SIGNALS: "erp-signal"}
TRIM_EVERY_SECONDS = 5.0


class Unroutable(ValueError):
    pass


def to_message(source: str, fields: dict[str, bytes]) -> tuple[str, str, dict[str, Any], int]:
    """(id, kind, data, received ms) of an intake entry."""
    try:
        body = orjson.loads(fields["body"])
        if source == "bigcommerce":
            delivery_id, kind, data = fields["webhook_id"].decode(), str(body["scope"]), body["data"]
        else:
            delivery_id, kind, data = str(body["id"]), str(body["type"]), body["data"]
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise Unroutable(f"unreadable {source} intake entry: {exc!r}") from exc
    if not isinstance(data, dict):
        raise Unroutable(f"{source} {kind} {delivery_id}: data is not an object")
    received = fields.get("received_at", b"")
    return delivery_id, kind, data, int(received) if received.isdigit() else int(time.time() * 1000)


class Router:
    def __init__(self, store: Store, queue: WorkQueue, flows: Sequence[Flow], metrics: WorkerMetrics, *,
                 dedup_ttl: float, lease_ms: int, wakeup: asyncio.Event | None = None,
                 streams: Sequence[str] = (BIGCOMMERCE_INTAKE, ERP_INTAKE)) -> None:
        self.store = store
        self.queue = queue
        self.flows = list(flows)
        self.metrics = metrics
        self.dedup_ttl = dedup_ttl
        self.lease_ms = lease_ms
        self.wakeup = wakeup or asyncio.Event()
        self.streams = list(streams)
        self.token = uuid.uuid4().hex
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Route no more batches: each stream's loop ends after the batch in hand (cancel to end it sooner)."""
        self._stopping.set()

    async def run(self) -> None:
        for stream in self.streams:
            await self.store.ensure_group(stream, WORKER_GROUP)
        await run_loops([self._loop(stream) for stream in self.streams], stop=self.stop,
                        names=[f"router:{stream}" for stream in self.streams])

    async def _loop(self, stream: str) -> None:
        last_trim = 0.0
        backoff = Backoff(first=0.5, cap=5.0)
        while not self._stopping.is_set():
            try:
                if not await self.queue.hold_lease(f"router:{stream}", self.token, self.lease_ms):
                    await asyncio.sleep(self.lease_ms / 3000)
                    continue
                # Entries a previous router read but did not route come first: they are the oldest.
                entries = await self.store.claim_stale(stream, WORKER_GROUP, "router", 0, 100)
                if not entries:
                    entries = await self.store.read_group(stream, WORKER_GROUP, "router", 100,
                                                          min(1000, self.lease_ms // 3))
                await self.route(stream, entries)
                if time.monotonic() - last_trim > TRIM_EVERY_SECONDS:
                    last_trim = time.monotonic()
                    await self.store.trim_acknowledged(stream)
                backoff.reset()
            except StoreError as exc:
                delay = backoff.next_delay()
                log.warning("router %s: %s; again in %.1fs", stream, exc, delay)
                await asyncio.sleep(delay)
            except Exception:  # noqa: BLE001 — a bug must not stop routing for good: log it, go on
                delay = backoff.next_delay()
                log.exception("router %s: unexpected error; again in %.1fs", stream, delay)
                await asyncio.sleep(delay)

    async def route(self, stream: str, entries: list[StreamEntry]) -> None:
        source = SOURCES.get(stream, stream)
        for entry_id, fields in entries:
            # The message keeps this span's traceparent: its handling continues the webhook's trace.
            with tracing.span(f"{stream} route", tracing.stored(fields), kind=tracing.CONSUMER) as traceparent:
                await self._route_one(stream, source, entry_id, fields, traceparent)

    async def _route_one(self, stream: str, source: str, entry_id: str, fields: dict[str, bytes],
                         traceparent: str) -> None:
        try:
            delivery_id, kind, data, received = to_message(source, fields)
        except Unroutable as exc:
            log.error("%s; acknowledged without routing", exc)
            self.metrics.routed.labels(source, "-", "unreadable").inc()
            await self.queue.ack_only(stream, WORKER_GROUP, entry_id)
            return
        for flow in self.flows:
            entity = flow.route(source, kind, data)
            if entity is None:
                continue
            message = Message(delivery_id, flow.name, entity, kind, source, data, traceparent, received)
            fresh = await self.queue.route(flow.name, entity, message.encode(), dedup_key=f"{stream}:{entry_id}",
                                           dedup_ttl_seconds=self.dedup_ttl, stream=stream, group=WORKER_GROUP,
                                           entry_id=entry_id)
            self.metrics.routed.labels(source, flow.name, "queued" if fresh else "duplicate").inc()
            tracing.annotate(flow=flow.name, entity=entity, outcome="queued" if fresh else "duplicate")
            self.wakeup.set()
            return
        self.metrics.routed.labels(source, "-", "ignored").inc()
        await self.queue.ack_only(stream, WORKER_GROUP, entry_id)
