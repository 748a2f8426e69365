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
not stop unrelated answers from being kept — or, for an answer with holes, kept with the holes those
invalidations feed marked for a re-projection before it is served.

An answer kept with holes (``edge/holes.py``) is not dropped by an invalidation: the sites its tags feed
are marked dirty, and it is not served again until they are re-projected (``reprojectable`` /
``reprojected``, ``edge/reprojection.py``). Every invalidation of it until its next request is coalesced
into that one re-projection. Such an answer is also *due* for a re-projection ahead of its end (the last
``AHEAD`` of its lifetime): a hot answer is renewed before anyone sees it expire.

Freshness is judged by the one stale-while-revalidate policy (``edge/caching/swr.py``: fresh, ahead, stale
served while one refresh runs, expired) with each answer's own lifetime as its TTL, and the background
refreshes run through its ``Revalidator``: one per answer at a time, spaced after one that did not renew it.
"""
from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field

from cachetools import LRUCache

from pricing_edge.edge.caching.swr import Freshness, Policy, Revalidator, fixed_delay

from pricing_edge.edge.holes import Holes, Tag, price_tag, stock_tag

__all__ = ["Cached", "Reprojectable", "ResponseCache", "Tag", "price_tag", "stock_tag"]

RECENT_INVALIDATIONS = 4096
JITTER = 0.1  # an entry's lifetime is the TTL ± 10%
AHEAD = 0.2  # an answer with holes is re-projected ahead in this last share of its lifetime
ENTRY_OVERHEAD, TAG_BYTES, SITE_BYTES = 600, 120, 400  # estimates of an entry's bookkeeping (see ``_Entry.size``)


@dataclass(frozen=True)
class Cached:
    body: bytes
    fresh: bool  # False: expired, served while one recompute runs
    stale: bool = False  # the body says "stale": true (an expired answer that carries freshness flags)
    due: bool = False  # fresh, but to be re-projected now, ahead of its end


@dataclass(frozen=True)
class Reprojectable:
    holes: Holes
    dirty: frozenset[int]  # the sites whose records changed since it was kept (or last re-projected)


@dataclass
class _Entry:
    body: bytes
    tags: frozenset[Tag]
    at: float  # when it was kept (or last re-projected)
    lifetime: float  # seconds it is fresh from then
    stale_body: bytes | None = field(default=None)
    holes: Holes | None = None
    dirty: set[int] = field(default_factory=set)
    # Sites being re-projected: an invalidation meanwhile marks them dirty again (the re-projection may have
    # read the state it replaced), and the answer is not served while either set is non-empty.
    pending: set[int] = field(default_factory=set)

    def size(self) -> int:
        """Bytes it takes, estimated: its bytes (twice once served stale), and its holes' parts and sites."""
        size = ENTRY_OVERHEAD + 2 * len(self.body) + TAG_BYTES * len(self.tags)
        if self.holes is not None:
            size += sum(map(len, self.holes.segments)) + sum(map(len, self.holes.values))
            size += SITE_BYTES * len(self.holes.sites) + TAG_BYTES * len(self.holes.by_tag)
            size += TAG_BYTES * len(self.holes.used_by_key or ())
        return size


class ResponseCache:
    def __init__(self, ttl: float, size: int = 20_000, *, clock: Callable[[], float] = time.monotonic,
                 jitter: float = JITTER, restale: Callable[[bytes], bytes] = lambda body: body,
                 max_bytes: int | None = None) -> None:
        """``size``: answers kept at most; ``max_bytes``: the bytes they may take (estimated), if bounded so —
        either way the least recently used go first."""
        self.ttl = ttl
        self.restale = restale
        self.jitter = jitter
        self.clock = clock
        # Expired answers are served (flagged) for one more TTL; those with holes are renewed ahead of their end.
        self.policy = Policy(ttl, ahead=1 - AHEAD, usable_for=ttl)
        self.revalidator: Revalidator[Hashable] = Revalidator(fixed_delay(ttl * AHEAD / 4), now=clock, name="answer")
        self._entries: LRUCache[Hashable, _Entry] = (
            LRUCache(maxsize=size) if max_bytes is None else LRUCache(maxsize=max_bytes, getsizeof=_Entry.size))
        self._by_tag: dict[Tag, set[Hashable]] = {}
        self._size = size
        # Bumped by every invalidation; the recent ones are kept with their tags for ``put`` to check.
        self.generation = 0
        self._recent: deque[tuple[int, frozenset[Tag]]] = deque(maxlen=RECENT_INVALIDATIONS)

    def get(self, key: Hashable) -> Cached | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.dirty or entry.pending:
            return None  # changed since kept: re-projected (or recomputed) before it is served again
        state = self._judge(entry)
        if state is Freshness.EXPIRED:
            self._entries.pop(key, None)
            return None
        if state is Freshness.FRESH:
            return Cached(entry.body, True)
        if state is Freshness.AHEAD:
            return Cached(entry.body, True, due=entry.holes is not None)
        if entry.stale_body is None:
            entry.stale_body = self.restale(entry.body)
        return Cached(entry.stale_body, False, entry.stale_body is not entry.body)

    def put(self, key: Hashable, body: bytes, tags: Iterable[Tag], generation: int | None = None,
            lifetime: float | None = None, holes: Holes | None = None) -> bool:
        """Keep an answer computed from records read at ``generation`` — unless an invalidation since
        then touched one of its tags (then it may hold the state that invalidation replaced; one with ``holes``
        is kept, those sites dirty: not served before they are re-projected). It is
        fresh for ``lifetime`` seconds (when its first record turns stale), at most the cache's TTL.
        With ``holes`` it is re-projected after a change instead of dropped."""
        frozen = frozenset(tags)
        dirty: set[int] = set()
        if generation is not None and not self._untouched_since(generation, frozen):
            # With holes it is kept all the same, the sites those invalidations feed marked for a re-projection:
            # under steady events a hot page is otherwise recomputed whole (2-6 ms) again and again, never kept.
            touched = self._touched_since(generation, frozen)
            sites = holes.sites_for(touched) if holes is not None and touched is not None else None
            if sites is None:
                return False
            dirty = sites
        lifetime = self._lifetime(lifetime)
        if lifetime <= 0:
            return False
        try:
            self._entries[key] = _Entry(body, frozen, self.clock(), lifetime, holes=holes, dirty=dirty)
        except ValueError:  # larger than the whole bound: not kept
            return False
        for tag in frozen:
            self._by_tag.setdefault(tag, set()).add(key)
        if len(self._by_tag) > 8 * self._size:
            self._compact()
        return True

    def _lifetime(self, lifetime: float | None) -> float:
        jittered = self.ttl * (1 + self.jitter * (2 * random.random() - 1))
        # A lifetime from the records is cut short by up to the jitter, never lengthened (an answer must not
        # outlive its records): answers built from records learned together do not all expire together.
        return jittered if lifetime is None else min(lifetime * (1 - self.jitter * random.random()), jittered)

    def reprojectable(self, key: Hashable) -> Reprojectable | None:
        """A kept answer with holes, still usable: what a re-projection of it starts from (its dirty sites are
        taken: ``reprojected`` or ``abandon`` must follow; the caller runs one at a time per key)."""
        entry = self._entries.get(key)
        if entry is None or entry.holes is None or self._judge(entry) is Freshness.EXPIRED:
            return None
        entry.pending |= entry.dirty
        entry.dirty = set()
        return Reprojectable(entry.holes, frozenset(entry.pending))

    def abandon(self, key: Hashable, began: Reprojectable) -> None:
        """A re-projection that will not finish: its sites are dirty again."""
        entry = self._entries.get(key)
        if entry is not None and entry.holes is began.holes:
            entry.dirty |= entry.pending
            entry.pending = set()

    def reprojected(self, key: Hashable, began: Reprojectable, holes: Holes, body: bytes,
                    lifetime: float | None) -> bool:
        """Keep a re-projection (``lifetime`` None: its records are no longer fresh); whether it was kept. It is
        served again only if no invalidation marked it meanwhile (those sites stay dirty)."""
        entry = self._entries.get(key)
        if entry is None or entry.holes is not began.holes:
            return False
        lifetime = None if lifetime is None else self._lifetime(lifetime)
        if lifetime is None or lifetime <= 0:
            if began.dirty:
                self._entries.pop(key, None)  # its old bytes must not be served; a recompute follows
            else:
                self.abandon(key, began)
            return False
        entry.body, entry.holes, entry.stale_body = body, holes, None
        entry.pending = set()
        entry.at, entry.lifetime = self.clock(), lifetime
        try:
            self._entries[key] = entry  # its size is counted anew
        except ValueError:  # grown larger than the whole bound
            self._entries.pop(key, None)
            return False
        return True

    def refresh(self, key: Hashable, compute: Callable[[], Awaitable[object]]) -> bool:
        """Recompute (or re-project) an answer in the background — unless one is running for it, or the last
        one did not renew it and its spacing has not passed; whether one started."""

        async def renew(keys: list[Hashable]) -> list[Hashable]:
            await compute()
            entry = self._entries.get(key)
            renewed = entry is not None and not (entry.dirty or entry.pending) and self._judge(entry) is Freshness.FRESH
            return keys if renewed else []

        return bool(self.revalidator.start([key], renew))

    def _judge(self, entry: _Entry) -> Freshness:
        return self.policy.judge(self.clock() - entry.at, entry.lifetime)

    def untouched_since(self, generation: int, tags: Iterable[Tag]) -> bool:
        """No invalidation since ``generation`` touched any of ``tags``."""
        return self._untouched_since(generation, frozenset(tags))

    def _touched_since(self, generation: int, tags: frozenset[Tag]) -> frozenset[Tag] | None:
        """Which of ``tags`` invalidations since ``generation`` touched; None when the log no longer reaches back."""
        if not self._recent or self._recent[0][0] > generation + 1:
            return None
        return frozenset(tag for version, changed in self._recent if version > generation for tag in changed & tags)

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
        touched: set[Hashable] = set()
        for tag in frozen:
            keys = self._by_tag.pop(tag, ())
            kept: set[Hashable] = set()
            for key in keys:
                entry = self._entries.get(key)
                if entry is None:
                    continue
                touched.add(key)
                sites = entry.holes.sites_for((tag,)) if entry.holes is not None else None
                if sites is None:
                    self._entries.pop(key, None)
                else:  # kept, marked: re-projected before it is served again
                    entry.dirty |= sites
                    kept.add(key)
            if kept:
                self._by_tag[tag] = kept
        return len(touched)

    def clear(self) -> None:
        self.generation += 1
        self._recent.clear()  # every answer computed before now is suspect
        self._entries.clear()
        self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """Estimated bytes of the kept answers (what ``max_bytes`` bounds; with a count bound, 0)."""
        return int(self._entries.currsize) if self._entries.getsizeof is not LRUCache.getsizeof else 0

    def _compact(self) -> None:
        """Forget tags of entries that were evicted (the LRU drops them silently)."""
        live: dict[Tag, set[Hashable]] = {}
        for key, entry in list(self._entries.items()):
            for tag in entry.tags:
                live.setdefault(tag, set()).add(key)
        self._by_tag = live
