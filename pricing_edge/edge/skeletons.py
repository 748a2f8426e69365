"""BigCommerce's own answer per (visibility scope, document, operation, variables): the catalog part
the overlay writes prices and stock onto. Fresh for the catalog TTL; kept much longer as last-good,
so that while BigCommerce is down a page already seen is still answered (flagged).

In process they are kept as BigCommerce's bytes, not parsed: a parsed page of 24 products (dicts, strings,
Decimals) takes about ten times its JSON, and it is read only when an answer is computed anew (a hit, or a
re-projection, never reads it). Bounded by bytes (``PRICING_EDGE_SKELETON_CACHE_MB``), least recently used
first; an evicted one is read back from the store.
"""
from __future__ import annotations

import builtins
import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from pricing_edge.edge.caching.bounded import BytesLRU
from pricing_edge.jsonio import exact, loads_exact
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
MAX_BYTES = 32 * 2**20
ENTRY_OVERHEAD = 250  # the LRU's slot and order node, the key, the kept pair and its time


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Skeleton:
    body: dict[str, Any]
    fetched_ms: int

    def fresh(self, ttl: float) -> bool:
        return _fresh(self.fetched_ms, ttl)


class _Kept(NamedTuple):
    raw: bytes  # BigCommerce's answer as received
    fetched_ms: int


def _fresh(fetched_ms: int, ttl: float) -> bool:
    return now_ms() - fetched_ms < ttl * 1000


class SkeletonCache:
    def __init__(self, store: Store, metrics: EdgeMetrics, ttl: float, last_good: float = 86_400.0,
                 max_bytes: int = MAX_BYTES) -> None:
        self.store = store
        self.ttl = ttl
        self.last_good = last_good
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
        if found is not None and _fresh(found.fetched_ms, self.ttl):
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

    async def put(self, key: str, body: dict[str, Any], raw: builtins.bytes) -> None:
        """``raw``: BigCommerce's bytes that ``body`` was parsed from (what is kept)."""
        kept = _Kept(exact(raw), now_ms())  # in bytes of its own length, whoever wrote them (``jsonio.exact``)
        self._l1.put(key, kept)
        try:
            await self.store.set_value(key, b"%d|%s" % (kept.fetched_ms, kept.raw), self.last_good)
        except StoreError as exc:
            log.warning("could not keep a catalog answer in the store: %s", exc)
