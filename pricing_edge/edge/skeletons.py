"""BigCommerce's own answer per (visibility scope, document, operation, variables): the catalog part
the overlay writes prices and stock onto. Fresh for the catalog TTL; kept much longer as last-good,
so that while BigCommerce is down a page already seen is still answered (flagged)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from pricing_edge.jsonio import loads_exact
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Skeleton:
    body: dict[str, Any]
    fetched_ms: int

    def fresh(self, ttl: float) -> bool:
        return now_ms() - self.fetched_ms < ttl * 1000


class SkeletonCache:
    def __init__(self, store: Store, metrics: EdgeMetrics, ttl: float, last_good: float = 86_400.0,
                 size: int = 5_000) -> None:
        self.store = store
        self.ttl = ttl
        self.last_good = last_good
        self._l1: LRUCache[str, Skeleton] = LRUCache(maxsize=size)
        self._hit = {t: metrics.cache.labels(t, "skeleton", "hit") for t in ("l1", "l2")}
        self._miss = metrics.cache.labels("l2", "skeleton", "miss")

    async def get(self, key: str) -> Skeleton | None:
        """The newest copy we have, fresh or not (the caller decides what a stale one is good for)."""
        found = self._l1.get(key)
        if found is not None and found.fresh(self.ttl):
            self._hit["l1"].inc()
            return found
        try:
            raw = await self.store.get_value(key)
        except StoreError:
            raw = None
        if raw is None:
            self._miss.inc()
            return found
        self._hit["l2"].inc()
        fetched, _, body = raw.partition(b"|")
        stored = Skeleton(loads_exact(body), int(fetched))
        if found is None or stored.fetched_ms > found.fetched_ms:
            self._l1[key] = found = stored
        return found

    async def put(self, key: str, body: dict[str, Any], raw: bytes) -> None:
        skeleton = Skeleton(body, now_ms())
        self._l1[key] = skeleton
        try:
            await self.store.set_value(key, b"%d|%s" % (skeleton.fetched_ms, raw), self.last_good)
        except StoreError as exc:
            log.warning("could not keep a catalog answer in the store: %s", exc)
