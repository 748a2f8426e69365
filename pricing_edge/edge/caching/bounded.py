"""A least-recently-used mapping bounded by (estimated) bytes, that counts what it evicts: the shape of every
in-process cache that grows with the catalog (skeletons, the catalog index, listing memberships), so that an
edge process's memory is set by its settings, not by the size of the store it fronts."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import LRUCache

from pricing_edge.ops.metrics import EdgeMetrics

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BytesLRU(LRUCache[K, V]):
    """``max_bytes`` of entries as ``sizeof`` counts them (once, when stored); the least recently used go first,
    each counted (``evictions``, and ``on_evict`` for a metric). An entry larger than the whole bound is not kept
    (``put`` says so)."""

    def __init__(self, max_bytes: int, sizeof: Callable[[V], int],
                 on_evict: Callable[[K, V], None] | None = None, *, metrics: EdgeMetrics | None = None,
                 name: str = "") -> None:
        """With ``metrics``, it shows as ``name`` in ``pricing_edge_cache_bytes{cache}`` (what it holds) and
        ``pricing_edge_cache_evictions_total{cache}`` (what it dropped)."""
        if max_bytes < 1:
            raise ValueError(f"a cache's bound must be at least one byte, not {max_bytes}")
        super().__init__(maxsize=max_bytes, getsizeof=sizeof)
        self.evictions = 0
        self.on_evict = on_evict
        self._evicted = None if metrics is None else metrics.cache_evictions.labels(name)
        if metrics is not None:
            metrics.cache_bytes.labels(name).set_function(lambda: self.bytes)

    def popitem(self) -> tuple[K, V]:
        key, value = super().popitem()
        self.evictions += 1
        if self._evicted is not None:
            self._evicted.inc()
        if self.on_evict is not None:
            self.on_evict(key, value)
        return key, value

    def put(self, key: K, value: V) -> bool:
        """Keep ``value`` (evicting what it takes); False when it alone is larger than the bound."""
        try:
            self[key] = value
        except ValueError:
            self.pop(key, None)  # an older value under the key must not outlive its replacement
            return False
        return True

    @property
    def bytes(self) -> int:
        return int(self.currsize)
