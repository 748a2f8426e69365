"""What the records' tiers (``edge.records``) hold and hand out: a record with the time it is as of, the mark of
one the ERP does not have, a kind's freshness, a request's one ERP deadline, a lookup's result, how a kind is
read and kept — and how L1 keeps a tier's entries compactly (``caching.compact``)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.edge.caching.compact import Packed

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
__all__ = ["ErpDeadline", "Freshness", "Held", "Lookup", "Missing", "Packed", "Source", "compact_entries"]


@dataclass(frozen=True)
class Held(Generic[V]):
    value: V
    as_of_ms: int


@dataclass(frozen=True)
class Missing:
    """The ERP has no such record (as of ``until``, when we ask again)."""

    until: float


@dataclass(frozen=True)
class Freshness:
    ttl: float  # seconds a record is fresh
    budget: float = 0.15  # seconds a request waits for an ERP read


class ErpDeadline:
    """One ERP budget for everything a request reads through: the first wait on the ERP arms the deadline
    (``loop.time()`` + the budget), and every later wait of the same request ends at that same instant, so
    lookups made together or one after the other wait one budget in all, never one budget each."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.at: float | None = None

    def remaining(self) -> float:
        """Seconds left until the deadline (arming it on first use); never negative."""
        now = asyncio.get_running_loop().time()
        if self.at is None:
            self.at = now + self.budget
        return max(0.0, self.at - now)


@dataclass
class Lookup(Generic[K, V]):
    found: dict[K, V] = field(default_factory=dict)
    oldest_ms: int | None = None
    stale: bool = False
    degraded: set[str] = field(default_factory=set)
    used: list[UsedRecord] = field(default_factory=list)  # what the freshness flags are judged from

    def note(self, key: K, held: Held[V], ttl: float, now: int) -> bool:
        """Record a found value; says whether it is stale."""
        self.found[key] = held.value
        self.used.append(UsedRecord(held.as_of_ms, int(ttl * 1000)))
        self.oldest_ms = held.as_of_ms if self.oldest_ms is None else min(self.oldest_ms, held.as_of_ms)
        stale = now - held.as_of_ms >= ttl * 1000
        self.stale = self.stale or stale
        return stale


@dataclass
class Source(Generic[K, V]):
    """How one record kind is read and kept: the store, the ERP, and the store's lock names."""

    from_store: Callable[[list[K]], Awaitable[Mapping[K, Held[V]]]]
    from_erp: Callable[[list[K]], Awaitable[Mapping[K, V]]]
    to_store: Callable[[Mapping[K, V]], Awaitable[None]]
    lock_name: Callable[[K], str]


def compact_entries(pack: Callable[[V], Packed], unpack: Callable[[Packed, int], V]
             ) -> tuple[Callable[[Held[V] | Missing], Any], Callable[[Any], Held[V] | Missing]]:
    """How L1 keeps a tier's entries (``caching.compact``): a held record as one flat tuple (as of, then its
    packed value), a record the ERP does not have as the float time until it is asked again."""

    def pack_entry(entry: Held[V] | Missing) -> Any:
        return float(entry.until) if isinstance(entry, Missing) else (entry.as_of_ms, *pack(entry.value))

    def unpack_entry(packed: Any) -> Held[V] | Missing:
        return Missing(packed) if isinstance(packed, float) else Held(unpack(packed, 1), packed[0])

    return pack_entry, unpack_entry
