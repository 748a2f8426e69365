"""The freshness flags of an answer (DESIGN.md), as a pure function of the records it used, the systems that
could not be asked, and the time it is served at — the one definition both the edge and its tests use.

- ``stale`` is true exactly when a record used is past its TTL at the time the answer is *served* (an
  answer kept in a cache turns stale when its oldest record does), or when some system could not be
  asked (then what is shown is the last good state, or BigCommerce's own value for a never-seen key);
- ``asOf`` is when the oldest record used was learned;
- ``degraded`` names every system that could not be asked: ``erp``, ``redis``, ``upstream``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SYSTEMS = ("erp", "redis", "upstream")


@dataclass(frozen=True)
class UsedRecord:
    """One record an answer used: when it was learned, how long it is fresh and — where the answer is kept
    to be renewed — a digest of the value it showed (``domain/value_digest.py``; None: not known)."""

    as_of_ms: int
    ttl_ms: int
    digest: int | None = None

    def fresh_at(self, now_ms: int) -> bool:
        return now_ms - self.as_of_ms < self.ttl_ms


@dataclass(frozen=True)
class Flags:
    stale: bool
    as_of_ms: int | None
    degraded: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """``extensions.pricingEdge`` as the wire contract spells it."""
        return {"stale": self.stale, "asOf": iso_ms(self.as_of_ms), "degraded": list(self.degraded)}


def flags(used: Iterable[UsedRecord], unreachable: Iterable[str], now_ms: int) -> Flags:
    return flags_from(bounds(used), unreachable, now_ms)


def flags_from(judged: tuple[int, int] | None, unreachable: Iterable[str], now_ms: int) -> Flags:
    """``flags`` from the records' ``bounds`` (for a caller that needs those too)."""
    degraded = tuple(sorted(set(unreachable)))
    unknown = [name for name in degraded if name not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown systems: {unknown}")
    if judged is None:
        return Flags(bool(degraded), None, degraded)
    oldest, until = judged
    # Stale when any record is no longer fresh (``UsedRecord.fresh_at``): when the first to turn has turned.
    return Flags(bool(degraded) or now_ms >= until, oldest, degraded)


def bounds(used: Iterable[UsedRecord]) -> tuple[int, int] | None:
    """When the oldest record used was learned, and when the first turns stale; None: it uses none. Lists, not
    a call per record: a re-projection judges every record a page used (~50) to change one field."""
    records = used if isinstance(used, list) else list(used)
    if not records:
        return None
    return min([record.as_of_ms for record in records]), min([record.as_of_ms + record.ttl_ms for record in records])


def iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
