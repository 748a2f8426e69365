"""Change sources: turning an ERP's own signals into our signed CloudEvents on ``/events/erp``.

A connector's change source reads what changed — delta polls on the vendor's change timestamps,
full re-reads where there is none, and the vendor's own events re-read through its API — and hands
our records and order events to the :class:`Emitter`, which signs and POSTs them like any producer.

- **Exactly what the edge already dedups on**: an event's id is derived from its record and version
  (``evt_`` + a hash), so a change seen by two overlapping polls, by a poll and a vendor event, or
  again after a restart is the same id, and the intake acknowledges the repeat without appending it.
- **Cursors survive restarts**: they live in the store (Redis in production), advanced only once
  everything up to them was accepted by the edge; a failed POST leaves the cursor where it was.
- **One poller at a time**: :func:`run_under_lease` runs a source only while it holds a lease in the
  work queue, so any number of workers (and ``pricing-edge erp watch``) can run it without doubling.
- **Lag as a metric**: ``pricing_edge_erp_change_lag_seconds`` — how far behind the ERP's present
  the emitted changes are (now − the moment the last successful poll read up to).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from pricing_edge.domain import events, order_events
from pricing_edge.domain.order_events import OrderEvent
from pricing_edge.erp.errors import ErpError
from pricing_edge.intake import envelope
from pricing_edge.ops.tracing import traced_client
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
CURSOR_TTL = 10 * 365 * 24 * 3600.0  # "forever": a cursor is state, not a cache
Emitted = events.Record | OrderEvent


class EmitFailed(Exception):
    """The edge did not accept an event (unreachable, 5xx, or refused it): the poll stops there."""


@dataclass
class PollReport:
    """What one poll did: events emitted per stream, and up to when each stream is now complete."""

    emitted: dict[str, int] = field(default_factory=dict)
    complete_to: dict[str, float] = field(default_factory=dict)  # stream → Unix time read up to

    def count(self, stream: str, n: int = 1) -> None:
        self.emitted[stream] = self.emitted.get(stream, 0) + n


class ChangeSource(Protocol):
    name: str

    async def poll(self) -> PollReport:
        """One cycle over every stream: read what changed, emit it, advance the cursors."""
        ...

    async def on_signal(self, event_type: str, data: Mapping[str, Any]) -> int:
        """Re-read what a vendor event names and emit it; how many events that gave."""
        ...


def event_id(source: str, event_type: str, subject: str, version: int) -> str:
    digest = hashlib.sha256(f"{source}|{event_type}|{subject}|{version}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


class ChangeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry or CollectorRegistry()
        self.registry = r
        self.events = Counter("pricing_edge_erp_change_events_total", "Events a change source emitted, by type",
                              ["connector", "type"], registry=r)
        self.polls = Counter("pricing_edge_erp_change_polls_total", "Change-source polls, by outcome",
                             ["connector", "outcome"], registry=r)
        self.lag = Gauge("pricing_edge_erp_change_lag_seconds",
                         "How far behind the ERP's present the emitted changes are, per stream",
                         ["connector", "stream"], registry=r)


class Emitter:
    """Signs our events and POSTs them to the edge's ``/events/erp``, one at a time, in order."""

    def __init__(self, url: str, secret: str, *, source: str, timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None, metrics: ChangeMetrics | None = None,
                 connector: str = "erp", attempts: int = 3) -> None:
        self.url = url
        self.secret = secret
        self.source = source
        self.timeout = timeout
        self.metrics = metrics
        self.connector = connector
        self.attempts = attempts
        self._owns = client is None
        self._client = client or traced_client(timeout=timeout)
        self.sent: list[dict[str, Any]] = []  # the last few envelopes (``erp watch`` prints them)

    async def emit(self, item: Emitted) -> bool:
        """POST one event; True if newly accepted, False if the edge already had it (a duplicate)."""
        if isinstance(item, (order_events.ShipmentCreated, order_events.SalesOrderChanged)):
            event_type, data = order_events.event_type_of(item), order_events.to_data(item)
            subject, version = order_events.subject_of(item), item.version
        else:
            event_type, data = events.event_type_of(item), events.to_data(item)
            subject, version = events.record_key(item), item.version
        signed = envelope.signed_event(event_type, data, source=self.source, secret=self.secret, subject=subject,
                                       event_id=event_id(self.source, event_type, subject, version))
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self._client.post(self.url, content=signed.body, headers=signed.headers,
                                                   timeout=self.timeout)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 202:
                    duplicate = bool(_field(response, "duplicate"))
                    if self.metrics and not duplicate:
                        self.metrics.events.labels(self.connector, event_type).inc()
                    self.sent = [*self.sent[-49:], signed.envelope]
                    return not duplicate
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    raise EmitFailed(f"the edge refused {event_type} {subject}: {problem}")
            if attempt < self.attempts:
                await asyncio.sleep(0.2 * 2 ** attempt)
        raise EmitFailed(f"cannot deliver {event_type} {subject} to {self.url}: {problem}")

    async def aclose(self) -> None:
        if self._owns:
            await self._client.aclose()


def _field(response: httpx.Response, name: str) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


class Cursors:
    """A source's cursors and snapshots in the store, under ``erp:<connector>:<name>``."""

    def __init__(self, store: Store, connector: str) -> None:
        self.store = store
        self.connector = connector

    def _key(self, name: str) -> str:
        return f"erp:{self.connector}:{name}"

    async def get(self, name: str) -> Any:
        raw = await self.store.get_value(self._key(name))
        return None if raw is None else orjson.loads(raw)

    async def put(self, name: str, value: Any) -> None:
        await self.store.set_value(self._key(name), orjson.dumps(value), CURSOR_TTL)


async def run_under_lease(source: ChangeSource, hold_lease: Callable[[str, str, int], Awaitable[bool]], *,
                          interval: float, lease_ms: int, metrics: ChangeMetrics | None = None,
                          on_report: Callable[[PollReport], None] | None = None,
                          stop: asyncio.Event | None = None) -> None:
    """Poll every ``interval`` seconds while this process holds the source's lease (renewed each
    cycle); a failed cycle is logged and counted, and the next one starts from the same cursors."""
    token = uuid.uuid4().hex
    name = f"erp-change-source:{source.name}"
    stop = stop or asyncio.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            if await hold_lease(name, token, lease_ms):
                report = await source.poll()
                if metrics:
                    metrics.polls.labels(source.name, "ok").inc()
                    for stream, moment in report.complete_to.items():
                        metrics.lag.labels(source.name, stream).set(max(0.0, time.time() - moment))
                if on_report:
                    on_report(report)
        except (ErpError, EmitFailed, StoreError) as exc:
            log.warning("change source %s: poll failed, will retry from the same cursors: %s", source.name, exc)
            if metrics:
                metrics.polls.labels(source.name, "failed").inc()
        except Exception:  # a bug in one poll must not end the change source for the life of the worker
            log.exception("change source %s: poll crashed", source.name)
            if metrics:
                metrics.polls.labels(source.name, "crashed").inc()
        delay = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):  # not wait_for: on 3.11 it can swallow a cancellation
                await stop.wait()
