"""BigCommerce's own answer per (visibility scope, document, operation, variables): the catalog part
the overlay writes prices and stock onto. Fresh for the catalog TTL; kept much longer as last-good,
so that while BigCommerce is down a page already seen is still answered (flagged).

In process they are kept as BigCommerce's bytes, not parsed: a parsed page of 24 products (dicts, strings,
Decimals) takes about ten times its JSON, and it is read only when an answer is computed anew (a hit, or a
re-projection, never reads it). Bounded by bytes (``PRICING_EDGE_SKELETON_CACHE_MB``), least recently used
first; an evicted one is read back from the store.

Past its TTL a skeleton is still *usable* for one more TTL (``edge/caching/swr.py``'s policy): an answer computed
anew meanwhile is built on it at once while one background refresh per key asks BigCommerce again (``renew``),
so a category page whose catalog part has just ended never waits on BigCommerce (150 ms) — a catalog change
that matters arrives as a webhook, the TTL only bounds how long an unannounced one goes unseen. Past that
window, or never seen, the request asks BigCommerce itself.
"""
from __future__ import annotations

import asyncio
import builtins
import logging
import time
from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from pricing_edge.edge.caching.bounded import BytesLRU
from pricing_edge.edge.caching.swr import Freshness, Policy, Revalidator
from pricing_edge.jsonio import exact, loads_exact
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
MAX_BYTES = 32 * 2**20
RENEWALS_AT_ONCE = 4  # background renewals asking BigCommerce at once per process: parts learned together end
# together (a warm-up's pages), and a burst of them would queue the requests that must ask it behind them
ENTRY_OVERHEAD = 250  # the LRU's slot and order node, the key, the kept pair and its time


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Skeleton:
    body: dict[str, Any]
    fetched_ms: int


class _Kept(NamedTuple):
    raw: bytes  # BigCommerce's answer as received
    fetched_ms: int


class SkeletonCache:
    def __init__(self, store: Store, metrics: EdgeMetrics, ttl: float, last_good: float = 86_400.0,
                 max_bytes: int = MAX_BYTES, wall_ms: Callable[[], int] = now_ms) -> None:
        """``wall_ms``: the time catalog parts are stamped and judged in."""
        self.store = store
        self.wall_ms = wall_ms
        self.ttl = ttl
        self.last_good = last_good
        self.policy = Policy(ttl, usable_for=ttl)  # stale: used while one refresh runs, for one more TTL
        self.renewals: Revalidator[str] = Revalidator(name="catalog refresh")  # one per key, spaced after failures
        self._renewing = asyncio.Semaphore(RENEWALS_AT_ONCE)
        self._l1: BytesLRU[str, _Kept] = BytesLRU(max_bytes, lambda kept: len(kept.raw) + ENTRY_OVERHEAD,
                                                  metrics=metrics, name="skeleton")
        self._hit = {t: metrics.cache.labels(t, "skeleton", "hit") for t in ("l1", "l2")}
        self._miss = metrics.cache.labels("l2", "skeleton", "miss")

    @property
    def bytes(self) -> int:
        return self._l1.bytes

    def __len__(self) -> int:
        return len(self._l1)

    async def get(self, key: str) -> Skeleton | None:
        """The newest copy we have, fresh or not (the caller decides what a stale one is good for), parsed
        anew for each caller (it is theirs to read; the kept bytes are never shared as objects)."""
        found = self._l1.get(key)
        if found is not None and self._fresh(found.fetched_ms):
            self._hit["l1"].inc()
            return Skeleton(loads_exact(found.raw), found.fetched_ms)
        try:
            raw = await self.store.get_value(key)
        except StoreError:
            raw = None
        if raw is None:
            self._miss.inc()
        else:
            self._hit["l2"].inc()
            fetched, _, body = raw.partition(b"|")
            stored = _Kept(body, int(fetched))
            if found is None or stored.fetched_ms > found.fetched_ms:
                self._l1.put(key, stored)
                found = stored
        return None if found is None else Skeleton(loads_exact(found.raw), found.fetched_ms)

    def fresh(self, skeleton: Skeleton, share: float = 1.0) -> bool:
        """Within ``share`` of its TTL (a renewal ahead of an answer's end asks again in the last part of it)."""
        return self._fresh(skeleton.fetched_ms, share)

    def renewable(self, skeleton: Skeleton) -> bool:
        """Past its TTL, but within one more: an answer may be built on it now while it is ``renew``-ed."""
        return self.policy.judge((self.wall_ms() - skeleton.fetched_ms) / 1000) is Freshness.STALE

    def _fresh(self, fetched_ms: int, share: float = 1.0) -> bool:
        return self.wall_ms() - fetched_ms < self.ttl * share * 1000

    def renew(self, key: str, refresh: Callable[[], Awaitable[object]]) -> bool:
        """Ask BigCommerce again for a stale skeleton in the background (``refresh`` computes the answer anew with
        a fresh catalog part, which keeps it; ``RENEWALS_AT_ONCE`` at a time) — unless a refresh of it runs or
        waits, or the last failed and its spacing has not passed; whether one started."""

        async def run(keys: list[str]) -> list[str]:
            async with self._renewing:
                await refresh()
            kept = self._l1.get(key)
            return keys if kept is not None and self._fresh(kept.fetched_ms) else []

        return bool(self.renewals.start([key], run))

    async def put(self, key: str, body: dict[str, Any], raw: builtins.bytes) -> None:
        """``raw``: BigCommerce's bytes that ``body`` was parsed from (what is kept)."""
        kept = _Kept(exact(raw), self.wall_ms())  # in bytes of its own length, whoever wrote them (``jsonio.exact``)
        self._l1.put(key, kept)
        try:
            await self.store.set_value(key, b"%d|%s" % (kept.fetched_ms, kept.raw), self.last_good)
        except StoreError as exc:
            log.warning("could not keep a catalog answer in the store: %s", exc)
