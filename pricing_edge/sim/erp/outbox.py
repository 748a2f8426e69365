"""The simulated ERP's event outbox: every change becomes one signed event, delivered at least once.

Delivery is what a real ERP integration (or a webhook service) does: POST, and on a connection
error, timeout, 5xx, 408 or 429 retry with capped exponential backoff, re-signed with a fresh
timestamp but the same id (receivers deduplicate on it). Any other 4xx is final ("rejected"):
a bad signature will not get better by retrying. The outbox is in memory and bounded; it is the
sim's record of what it emitted, listed by ``GET /_sim/events``.
"""
from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


from pricing_edge.domain import events
from pricing_edge.sim.delivery import (
    DELIVERED,
    FAILED,
    NOT_SENT,
    PENDING,
    REJECTED,
    RETRYING,
    BackgroundSender,
    DeliveryPolicy,
)
from pricing_edge.intake import envelope
from pricing_edge.intake.envelope import SignedEvent
from pricing_edge.ops import tracing

_RETRY_STATUSES = {408, 425, 429}
SETTLED = frozenset({DELIVERED, REJECTED, FAILED, NOT_SENT})  # no further delivery attempt will change it


@dataclass
class OutboxEntry:
    seq: int
    event: SignedEvent
    subject: str
    status: str = PENDING
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    delivered_at: datetime | None = None

    def describe(self, *, with_envelope: bool = True) -> dict[str, Any]:
        described: dict[str, Any] = {
            "seq": self.seq, "id": self.event.id, "type": self.event.type, "subject": self.subject,
            "status": self.status, "attempts": self.attempts, "last_status": self.last_status,
            "last_error": self.last_error, "created_at": envelope.format_time(self.created_at),
            "delivered_at": envelope.format_time(self.delivered_at) if self.delivered_at else None,
        }
        if with_envelope:
            described["envelope"] = self.event.envelope
        return described


class Outbox(BackgroundSender):
    """Builds, signs, keeps and delivers the ERP's change events."""

    def __init__(self, *, url: str | None, secret: str | None, source: str,
                 policy: DeliveryPolicy | None = None, capacity: int = 10_000) -> None:
        if url and not secret:
            raise ValueError("an events URL needs an event secret (whsec_...) to sign with")
        self.url = url
        self.secret = secret
        self.source = source
        super().__init__(policy or DeliveryPolicy())
        self.capacity = capacity
        self.entries: OrderedDict[str, OutboxEntry] = OrderedDict()
        self.emitted = 0
        self._seq = itertools.count(1)
        self._watchers: defaultdict[str, list[asyncio.Future[None]]] = defaultdict(list)  # by event id

    def emit(self, record: events.Record) -> OutboxEntry:
        """Record one change event; with a receiver configured, start delivering it (needs a running loop)."""
        return self.emit_event(events.event_type_of(record), events.to_data(record),
                               subject=events.record_key(record))

    def emit_event(self, event_type: str, data: Mapping[str, Any], *, subject: str) -> OutboxEntry:
        """Record one event of any type (its ``data`` already in wire form, e.g. an order event's)."""
        event = envelope.signed_event(event_type, data, source=self.source, secret=self.secret, subject=subject)
        entry = OutboxEntry(next(self._seq), event, subject, status=PENDING if self.url else NOT_SENT)
        self.entries[event.id] = entry
        self.emitted += 1
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
        if self.url:
            self._spawn(entry)
        return entry

    async def wait_first_attempt(self, entry: OutboxEntry) -> None:
        """Let a change request report the first delivery outcome, but never hold it for long."""
        await self.wait(entry, lambda e: e.status != PENDING or e.attempts > 0, self.policy.wait_first_attempt)

    async def wait(self, entry: OutboxEntry, done: Callable[[OutboxEntry], bool], timeout: float) -> None:
        """Until ``done(entry)`` or ``timeout`` seconds: woken by each delivery attempt's outcome, not by
        polling (a test's hold on an event costs nothing while it waits)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(entry) and (left := deadline - loop.time()) > 0:
            attempted = loop.create_future()
            self._watchers[entry.event.id].append(attempted)
            try:
                await asyncio.wait_for(attempted, left)
            except TimeoutError:
                pass
            finally:
                watchers = self._watchers.get(entry.event.id)
                if watchers is not None and attempted in watchers:
                    watchers.remove(attempted)
                    if not watchers:
                        del self._watchers[entry.event.id]

    def _attempted(self, entry: OutboxEntry) -> None:
        for attempted in self._watchers.pop(entry.event.id, ()):
            if not attempted.done():
                attempted.set_result(None)

    def redeliver(self, event_id: str) -> OutboxEntry | None:
        """Send a finished event again (same id): how a receiver's deduplication is exercised."""
        entry = self.entries.get(event_id)
        if entry is None or not self.url or entry.status in (PENDING, RETRYING):
            return entry  # still being delivered: a duplicate is on its way anyway
        entry.status, entry.attempts = PENDING, 0
        self._spawn(entry)
        return entry

    def list(self, *, event_type: str | None = None, status: str | None = None, after: int = 0,
             limit: int | None = None) -> list[OutboxEntry]:
        chosen = [e for e in self.entries.values()
                  if e.seq > after and (event_type is None or e.event.type == event_type)
                  and (status is None or e.status == status)]
        return chosen[-limit:] if limit else chosen

    # --- delivery ----------------------------------------------------------------------------

    def _spawn(self, entry: OutboxEntry) -> None:
        self.spawn(self._deliver(entry), f"erp-event-{entry.event.id}")

    @tracing.traced("erp.change", tracing.PRODUCER, detached=True)  # a change source starts the event's trace
    async def _deliver(self, entry: OutboxEntry) -> None:
        assert self.url and self.secret
        policy = self.policy
        while entry.attempts < policy.max_attempts:
            event = envelope.resign(entry.event, self.secret)  # fresh timestamp, same id and bytes
            outcome = await self.post(self.url, event.body, event.headers)
            entry.attempts += 1
            entry.last_status, entry.last_error = outcome
            entry.status = _outcome_status(outcome[0])
            if entry.status == DELIVERED:
                entry.delivered_at = datetime.now(UTC)
            self._attempted(entry)
            if entry.status in SETTLED:
                return
            if entry.attempts < policy.max_attempts:
                await asyncio.sleep(policy.backoff(entry.attempts))
        entry.status = FAILED
        self._attempted(entry)


def _outcome_status(status: int | None) -> str:
    """2xx delivered; any 4xx but 408/425/429 final (a bad signature will not get better); else retried."""
    if status is not None and 200 <= status < 300:
        return DELIVERED
    if status is not None and 400 <= status < 500 and status not in _RETRY_STATUSES:
        return REJECTED
    return RETRYING
