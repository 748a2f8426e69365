"""Whole answers as bytes, per (scope, document, operation, variables): the hit path runs no GraphQL.

Each entry carries tags — the (price list, SKU) and SKU records its overlay used — and a reverse
index drops exactly the answers an ERP change touches, in every edge process (via the store's
invalidation channel). Entries also expire with the shortest TTL of the records they used.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable

from cachetools import TTLCache

Tag = tuple[Hashable, ...]


def price_tag(price_list_id: int, sku: str) -> Tag:
    return ("p", price_list_id, sku)


def stock_tag(sku: str) -> Tag:
    return ("s", sku)


class ResponseCache:
    def __init__(self, ttl: float, size: int = 20_000) -> None:
        self._entries: TTLCache[Hashable, tuple[bytes, frozenset[Tag]]] = TTLCache(maxsize=size, ttl=ttl)
        self._by_tag: dict[Tag, set[Hashable]] = {}
        self._size = size
        # Bumped by every invalidation: an answer computed from records read before one is not kept.
        self.generation = 0

    def get(self, key: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        return entry[0] if entry is not None else None

    def put(self, key: Hashable, body: bytes, tags: Iterable[Tag], generation: int | None = None) -> bool:
        """Keep an answer, unless an invalidation happened since ``generation`` (when given)."""
        if generation is not None and generation != self.generation:
            return False
        frozen = frozenset(tags)
        self._entries[key] = (body, frozen)
        for tag in frozen:
            self._by_tag.setdefault(tag, set()).add(key)
        if len(self._by_tag) > 8 * self._size:
            self._compact()
        return True

    def invalidate(self, tags: Iterable[Tag]) -> int:
        self.generation += 1
        dropped = 0
        for tag in tags:
            for key in self._by_tag.pop(tag, ()):
                if self._entries.pop(key, None) is not None:
                    dropped += 1
        return dropped

    def clear(self) -> None:
        self._entries.clear()
        self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _compact(self) -> None:
        """Forget tags of entries that expired or were evicted (the TTL cache drops them silently)."""
        live: dict[Tag, set[Hashable]] = {}
        for key, (_, tags) in list(self._entries.items()):
            for tag in tags:
                live.setdefault(tag, set()).add(key)
        self._by_tag = live
