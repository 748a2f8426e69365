"""One stale-while-revalidate primitive for every cache the edge keeps: buyers, records and answers.

An entry's age decides what a read gets (``Policy.judge``):

- fresh: the entry, nothing else happens;
- ahead: the entry, still fresh but past ``ahead`` of its TTL — and a refresh now (refresh-ahead), so a
  hot entry is renewed before anyone sees it stale;
- stale: past its TTL — the entry, at once (callers flag it), and a refresh in the background;
- expired: past ``usable_for`` beyond its TTL — not served: the caller reads through.

``Revalidator`` runs refreshes: at most one per key at a time in this process (single-flight), and none for
a key whose last refresh failed until its backoff has passed (a failure costs one call per key per backoff,
not one per request); a success clears the backoff. Coalescing across processes is the caller's (records
take a short store lock). ``SwrCache`` puts both together for one value per key computed by a coroutine.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

from pricing_edge.backoff import exponential
from pricing_edge.edge.single_flight import SingleFlight

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
RetryDelay = Callable[[int], float]  # seconds before the next refresh after ``failures`` failures in a row


class Freshness(Enum):
    FRESH = "fresh"
    AHEAD = "ahead"
    STALE = "stale"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Policy:
    """How long an entry is fresh (``ttl`` seconds), from which fraction of it a read refreshes ahead
    (``ahead``; 1.0: only once stale), and how long past its TTL it is still served (``usable_for``)."""

    ttl: float
    ahead: float = 1.0
    usable_for: float = math.inf

    def __post_init__(self) -> None:
        if not 0 < self.ahead <= 1:
            raise ValueError(f"refresh-ahead must be a fraction of the TTL in (0, 1], not {self.ahead}")

    def judge(self, age: float, ttl: float | None = None) -> Freshness:
        """The state of an entry ``age`` seconds old (``ttl``: the entry's own, if it has one)."""
        ttl = self.ttl if ttl is None else ttl
        if age < ttl * self.ahead:
            return Freshness.FRESH
        if age < ttl:
            return Freshness.AHEAD
        if age < ttl + self.usable_for:
            return Freshness.STALE
        return Freshness.EXPIRED

    def due(self, age: float, ttl: float | None = None) -> bool:
        """Whether a read of an entry this old should refresh it (ahead or stale)."""
        return self.judge(age, ttl) is not Freshness.FRESH

    def stale(self, age: float, ttl: float | None = None) -> bool:
        """Past its TTL (served only flagged)."""
        return age >= (self.ttl if ttl is None else ttl)


def fixed_delay(seconds: float) -> RetryDelay:
    """The same wait after every failure."""
    return lambda failures: seconds


FIVE_SECONDS = fixed_delay(5.0)  # the default spacing of retries


def exponential_delay(first: float, cap: float) -> RetryDelay:
    """``first·2^(failures-1)`` capped at ``cap``, of which a random half (``pricing_edge.backoff``)."""
    return lambda failures: exponential(failures - 1, first, cap)


class Revalidator(Generic[K]):
    """Background refreshes: single-flight per key, backoff per key after failures.

    A refresh is a coroutine given the keys to renew; it returns those it renewed — the others count as
    failed (so does every key when it raises). ``now`` spaces retries (real time, not a test's clock)."""

    def __init__(self, retry_delay: RetryDelay = FIVE_SECONDS, *, now: Callable[[], float] = time.monotonic,
                 name: str = "refresh") -> None:
        self.retry_delay = retry_delay
        self.now = now
        self.name = name
        self.refreshing: set[K] = set()
        self.retry_at: dict[K, tuple[float, int]] = {}  # key -> (when it may be tried again, failures in a row)
        self.background: set[asyncio.Task[Any]] = set()  # running refreshes, cancelled at shutdown

    def due(self, keys: Iterable[K]) -> list[K]:
        """Those of ``keys`` that may be refreshed now: none running, no backoff pending."""
        now = self.now()
        return [k for k in dict.fromkeys(keys) if k not in self.refreshing and self.retry_at.get(k, (0.0, 0))[0] <= now]

    def start(self, keys: Iterable[K], refresh: Callable[[list[K]], Awaitable[Collection[K]]]) -> list[K]:
        """Refresh the due ones among ``keys`` in the background; which were started."""
        due = self.due(keys)
        if due:
            self.refreshing.update(due)
            self.spawn(self._run(due, refresh))
        return due

    async def run(self, keys: Iterable[K], refresh: Callable[[list[K]], Awaitable[Collection[K]]]) -> list[K]:
        """Refresh the due ones among ``keys`` now (awaited: a caller pacing its own refreshes); which ran."""
        due = self.due(keys)
        if due:
            self.refreshing.update(due)
            await self._run(due, refresh)
        return due

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """A background task of this cache's, kept until done (and listed in ``background``)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def _run(self, keys: list[K], refresh: Callable[[list[K]], Awaitable[Collection[K]]]) -> None:
        renewed: Collection[K] = ()
        try:
            renewed = await refresh(keys)
        except Exception:  # noqa: BLE001 — a failed refresh leaves the old entry; the backoff spaces the next
            log.warning("%s of %d key(s) failed", self.name, len(keys), exc_info=True)
        finally:
            self.refreshing.difference_update(keys)
            self.settle(keys, renewed)

    def settle(self, keys: Iterable[K], renewed: Collection[K]) -> None:
        """Note the outcome of a refresh: renewed keys are due normally again, the others back off."""
        now = self.now()
        for key in keys:
            if key in renewed:
                self.retry_at.pop(key, None)
            else:
                failures = self.retry_at.get(key, (0.0, 0))[1] + 1
                self.retry_at[key] = (now + self.retry_delay(failures), failures)

    def failing(self, key: K) -> bool:
        """Whether the last refresh of ``key`` failed (what is held for it is last-good)."""
        return self.retry_at.get(key, (0.0, 0))[1] > 0

    def forgive(self) -> None:
        """The source is back: every backoff is over."""
        self.retry_at.clear()

    def forget(self, key: K) -> None:
        """``key`` left its cache (evicted, dropped): its backoff goes too, or it would be kept for ever."""
        self.retry_at.pop(key, None)


@dataclass(frozen=True)
class Entry(Generic[V]):
    value: V
    at: float  # when it was learned, on the cache's clock
    ttl: float | None = None  # its own TTL, if not the policy's


class SwrCache(Generic[K, V]):
    """One value per key, computed by a coroutine: a miss (or an expired entry) is computed once however
    many callers ask at the same time; a due entry is given at once while one refresh runs in the background;
    while refreshes fail, the last good value is still given (``failing`` says so) and retries are spaced.

    ``errors``: the exceptions that mean "the source could not be asked" — a refresh failing with one marks
    the key failing; any other is logged. Both are spaced by ``retry_delay``. ``l1``: where entries live
    (a count-bounded LRU of ``size`` by default; a ``caching.l1.L1`` section to bound it by memory);
    ``ttl_of``: a computed value's own TTL, when values carry one (else the policy's)."""

    def __init__(self, policy: Policy, *, size: int = 10_000, l1: MutableMapping[K, Entry[V]] | None = None,
                 clock: Callable[[], float] = time.monotonic, retry_delay: RetryDelay = FIVE_SECONDS,
                 errors: tuple[type[BaseException], ...] = (Exception,), name: str = "refresh",
                 ttl_of: Callable[[V], float | None] | None = None) -> None:
        self.policy = policy
        self.ttl_of = ttl_of  # a computed value's own TTL (None: the policy's)
        self.clock = clock
        self.errors = errors
        self._items: MutableMapping[K, Entry[V]] = LRUCache(maxsize=size) if l1 is None else l1
        self._flights: SingleFlight[V] = SingleFlight()
        self.revalidator: Revalidator[K] = Revalidator(retry_delay, now=clock, name=name)
        self._failing: set[K] = set()  # keys whose last refresh could not ask the source: their value is last-good

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """The value for ``key``: held (refreshed in the background when due), else computed (single-flight)."""
        held = self.held(key, compute)
        if held is not None:
            return held[0]
        return await self._flights.run(key, lambda: self._compute(key, compute))

    def held(self, key: K, compute: Callable[[], Awaitable[V]]) -> tuple[V, Freshness] | None:
        """``get`` without waiting: the held value and its state, refreshed in the background when due (None:
        missing or expired — only ``get`` computes it)."""
        held = self.peek(key)
        if held is not None and held[1] is not Freshness.FRESH:
            self.refresh(key, compute)
        return held

    def peek(self, key: K) -> tuple[V, Freshness] | None:
        """The held value and its state, without refreshing (None: missing or expired)."""
        try:  # not ``get``: an LRU's is a second lookup on every hit, a miss is the rare case here
            entry = self._items[key]
        except KeyError:
            return None
        freshness = self.policy.judge(self.clock() - entry.at, entry.ttl)
        if freshness is Freshness.EXPIRED:
            return None
        return entry.value, freshness

    def refresh(self, key: K, compute: Callable[[], Awaitable[V]]) -> bool:
        """Recompute ``key`` in the background unless it is already being or backing off; whether started."""

        async def renew(keys: list[K]) -> set[K]:
            try:
                await self._flights.run(key, lambda: self._compute(key, compute))
            except self.errors:
                return set()
            return {key}

        return bool(self.revalidator.start([key], renew))

    async def _compute(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await compute()
        except self.errors:
            if key in self._items:
                self._failing.add(key)
            raise
        self.put(key, value, None if self.ttl_of is None else self.ttl_of(value))
        return value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Hold ``value`` from now (fresh for ``ttl`` seconds, the policy's by default)."""
        self._failing.discard(key)
        self.revalidator.forget(key)
        self._items[key] = Entry(value, self.clock(), ttl)

    def failing(self, key: K) -> bool:
        """Whether the value given for ``key`` is last-good: its refresh could not ask the source."""
        return key in self._failing and key in self._items

    def forget(self, key: K) -> None:
        self._items.pop(key, None)
        self._failing.discard(key)

    def knows(self, key: K) -> bool:
        return key in self._items

    def clear(self) -> None:
        self._items.clear()
        self._failing.clear()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def background(self) -> set[asyncio.Task[Any]]:
        return self.revalidator.background
