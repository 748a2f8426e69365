"""Whole answers as bytes, per (scope, document, operation, variables): the hit path runs no GraphQL.

Each entry carries tags — the (price list, SKU) and SKU records its overlay used — and a reverse
index drops exactly the answers an ERP change touches, in every edge process (via the store's
invalidation channel). A dropped answer is never served again.

An answer also expires when the first record it used passes its TTL (the caller says when: ``lifetime``),
or after the cache's TTL (with a little jitter, so the answers computed together do not all expire
together). An expired answer is not wrong — a change would have dropped it — only due for a recompute,
so it is still served, for up to one more TTL, while a single background recompute runs
(stale-while-revalidate): expiry never stalls requests. But it is served *flagged stale* (``restale``
rewrites its flags once per entry), since a record it used is past its TTL: a kept answer never says
``"stale": false`` about records that are no longer fresh.

An answer computed while an invalidation happened is kept only if that invalidation touched none of
its tags (a short log of recent invalidations says which), so a steady stream of ERP events does
not stop unrelated answers from being kept.
"""
from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from cachetools import LRUCache

Tag = tuple[Hashable, ...]
RECENT_INVALIDATIONS = 4096
JITTER = 0.1  # an entry's lifetime is the TTL ± 10%


def price_tag(price_list_id: int, sku: str) -> Tag:
    return ("p", price_list_id, sku)


def stock_tag(sku: str) -> Tag:
    return ("s", sku)


@dataclass(frozen=True)
class Cached:
    body: bytes
    fresh: bool  # False: expired, served while one recompute runs
    stale: bool = False  # the body says "stale": true (an expired answer that carries freshness flags)


@dataclass
class _Entry:
    body: bytes
    tags: frozenset[Tag]
    fresh_until: float
    usable_until: float
    stale_body: bytes | None = field(default=None)


class ResponseCache:
    def __init__(self, ttl: float, size: int = 20_000, *, clock: Callable[[], float] = time.monotonic,
                 jitter: float = JITTER, restale: Callable[[bytes], bytes] = lambda body: body) -> None:
        self.ttl = ttl
        self.restale = restale
        self.jitter = jitter
        self._clock = clock
        self._entries: LRUCache[Hashable, _Entry] = LRUCache(maxsize=size)
        self._by_tag: dict[Tag, set[Hashable]] = {}
        self._size = size
        # Bumped by every invalidation; the recent ones are kept with their tags for ``put`` to check.
        self.generation = 0
        self._recent: deque[tuple[int, frozenset[Tag]]] = deque(maxlen=RECENT_INVALIDATIONS)

    def get(self, key: Hashable) -> Cached | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if now >= entry.usable_until:
            self._entries.pop(key, None)
            return None
        if now < entry.fresh_until:
            return Cached(entry.body, True)
        if entry.stale_body is None:
            entry.stale_body = self.restale(entry.body)
        return Cached(entry.stale_body, False, entry.stale_body is not entry.body)

    def put(self, key: Hashable, body: bytes, tags: Iterable[Tag], generation: int | None = None,
            lifetime: float | None = None) -> bool:
        """Keep an answer computed from records read at ``generation`` — unless an invalidation since
        then touched one of its tags (then it may hold the state that invalidation replaced). It is
        fresh for ``lifetime`` seconds (when its first record turns stale), at most the cache's TTL."""
        frozen = frozenset(tags)
        if generation is not None and not self._untouched_since(generation, frozen):
            return False
        jittered = self.ttl * (1 + self.jitter * (2 * random.random() - 1))
        # A lifetime from the records is cut short by up to the jitter, never lengthened (an answer must not
        # outlive its records): answers built from records learned together do not all expire together.
        lifetime = jittered if lifetime is None else min(lifetime * (1 - self.jitter * random.random()), jittered)
        if lifetime <= 0:
            return False
        now = self._clock()
        self._entries[key] = _Entry(body, frozen, now + lifetime, now + lifetime + self.ttl)
        for tag in frozen:
            self._by_tag.setdefault(tag, set()).add(key)
        if len(self._by_tag) > 8 * self._size:
            self._compact()
        return True

    def untouched_since(self, generation: int, tags: Iterable[Tag]) -> bool:
        """No invalidation since ``generation`` touched any of ``tags``."""
        return self._untouched_since(generation, frozenset(tags))

    def _untouched_since(self, generation: int, tags: frozenset[Tag]) -> bool:
        if generation == self.generation:
            return True
        if not self._recent or self._recent[0][0] > generation + 1:
            return False  # the log no longer reaches back that far: assume the worst
        return not any(changed & tags for version, changed in self._recent if version > generation)

    def invalidate(self, tags: Iterable[Tag]) -> int:
        frozen = frozenset(tags)
        self.generation += 1
        self._recent.append((self.generation, frozen))
        dropped = 0
        for tag in frozen:
            for key in self._by_tag.pop(tag, ()):
                if self._entries.pop(key, None) is not None:
                    dropped += 1
        return dropped

    def clear(self) -> None:
        self.generation += 1
        self._recent.clear()  # every answer computed before now is suspect
        self._entries.clear()
        self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _compact(self) -> None:
        """Forget tags of entries that were evicted (the LRU drops them silently)."""
        live: dict[Tag, set[Hashable]] = {}
        for key, entry in list(self._entries.items()):
            for tag in entry.tags:
                live.setdefault(tag, set()).add(key)
        self._by_tag = live
