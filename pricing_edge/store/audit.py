"""The ops audit log: who did what to the system, when, and how it went — every replay, drop and approval,
and every login to the dashboard. Append-only; the newest first when read.

In Redis a stream (``<prefix>audit:ops``), trimmed only past ``MAX_ENTRIES`` (roughly: trimming is
approximate), so it is as durable as the queue it acts on. Each entry is also logged, for log shipping.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from typing import Protocol

log = logging.getLogger("pricing_edge.audit")
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    operator: str  # the name of the ops token used (PRICING_EDGE_OPS_TOKENS "name:token")
    via: str  # "dashboard" (a browser session) or "api" (a bearer token: the CLI, scripts)
    address: str  # the client's address as the worker saw it
    action: str  # "dlq.replay", "dlq.replay-all", "dlq.drop", "approval", "login"
    target: str  # what it acted on (a dead letter's id, a flow, ...)
    outcome: str  # "ok", or why not ("not found", ...)
    detail: str = ""
    trace_id: str = "-"  # the request's trace
    id: str = ""  # given by the log

    def to_fields(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if k != "id"}

    @classmethod
    def from_fields(cls, entry_id: str, raw: dict[str, str]) -> AuditEntry:
        known = {f.name for f in fields(cls)} - {"id", "at_ms"}
        return cls(at_ms=int(raw.get("at_ms") or 0), id=entry_id, **{k: v for k, v in raw.items() if k in known})


def now_ms() -> int:
    return int(time.time() * 1000)


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> AuditEntry: ...

    async def latest(self, count: int) -> list[AuditEntry]:
        """The newest ``count`` entries, newest first."""
        ...


def logged(entry: AuditEntry) -> AuditEntry:
    log.info("audit: %s %s by %s via %s from %s: %s%s", entry.action, entry.target, entry.operator, entry.via,
             entry.address, entry.outcome, f" ({entry.detail})" if entry.detail else "")
    return entry


class EmbeddedAuditLog:
    """For the one-process demo and tests: kept in memory, like everything on the embedded store."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: deque[AuditEntry] = deque(maxlen=capacity)
        self._seq = 0

    async def append(self, entry: AuditEntry) -> AuditEntry:
        self._seq += 1
        stored = replace(entry, id=f"{entry.at_ms}-{self._seq}")
        self._entries.append(stored)
        return logged(stored)

    async def latest(self, count: int) -> list[AuditEntry]:
        return list(reversed(self._entries))[:count]
