"""Whole answers as bytes, per (scope, document, operation, variables): the hit path runs no GraphQL.

Each entry carries tags — the (price list, SKU) and SKU records its overlay used — and a reverse
index drops exactly the answers an ERP change touches, in every edge process (via the store's
invalidation channel). A dropped answer is never served again.

An answer is fresh until the first record it used passes its TTL (the caller says when: ``lifetime``),
at most the cache's TTL (with a little jitter, so the answers computed together do not all turn together).
Then it is not wrong — a change would have dropped it — only due for a recompute, so it is still served,
for up to one more TTL, while a single background recompute runs (stale-while-revalidate): expiry never
stalls requests. But it is served *flagged stale* (``restale`` rewrites its flags once per entry), since a
record it used is past its TTL: a kept answer never says ``"stale": false`` about records that are no
longer fresh. Past that one more TTL an answer without holes is dropped.

An answer computed while an invalidation happened is kept only if that invalidation touched none of
its tags (a short log of recent invalidations says which), so a steady stream of ERP events does
not stop unrelated answers from being kept — or, for an answer with holes, kept with the holes those
invalidations feed marked for a re-projection before it is served.

An answer kept with holes (``edge/holes.py``) outlives its records: it is kept — bounded by memory, least
recently used first — until its catalog part (BigCommerce's skeleton) ends, then dropped and computed anew.
A requested one is renewed ahead of that end instead (``catalog_due``: one background computation that asks
BigCommerce for the catalog part again, at a point drawn for each answer in the last ``CATALOG_AHEAD`` of its
catalog part's life): the answers computed together — a warm, a start — would otherwise all end together, and
every request for them in that second would wait for BigCommerce (the full bench's max-rate stall, issue 20).
Within that, whenever its bytes may not be served as they are — an invalidation marked the sites its tags
feed, or its records are past their TTL and its stale window — the request re-projects it (``reprojectable``
/ ``reprojected``, ``edge/reprojection.py``: the records looked up again, the holes and flags rewritten)
instead of computing it anew. Every invalidation of it until its next request is coalesced into that one
re-projection. A re-projection that is not fresh (its records past their TTL, or a system that could not be
asked) keeps its holes but not its bytes: it is served flagged to its own request, and the next request
re-projects again; so does an answer computed from records already past their TTL (``put(spent=True)``). Such an answer is also *due* for a re-projection ahead of its end (the last ``AHEAD`` of
its lifetime): a hot answer is renewed before anyone sees it expire.

Each lookup that finds no answer to serve as kept says why (``on_miss``: first sight, evicted for room — a
bounded memory of evicted keys tells —, changed, expired, catalog part ended): ``pricing_edge_answer_misses_total``.

Freshness is judged by the one stale-while-revalidate policy (``edge/caching/swr.py``: fresh, ahead, stale
served while one refresh runs, expired) with each answer's own lifetime as its TTL, and the background
refreshes run through its ``Revalidator``: one per answer at a time, spaced after one that did not renew it;
an answer that leaves the cache (evicted, dropped) leaves no backoff behind.
"""
from __future__ import annotations

import math
import random
import sys
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from pricing_edge.clock import SYSTEM_CLOCK
from pricing_edge.edge.caching.bounded import BytesLRU
from pricing_edge.edge.caching.l1 import ENTRY_OVERHEAD, estimate
from pricing_edge.edge.caching.swr import Freshness, Policy, Revalidator, fixed_delay
from pricing_edge.edge.holes import Holes, Tag, price_tag, stock_tag
from pricing_edge.jsonio import exact

__all__ = ["Cached", "Reprojectable", "ResponseCache", "Tag", "price_tag", "stock_tag"]

RECENT_INVALIDATIONS = 4096
JITTER = 0.1  # an entry's lifetime is the TTL ± 10%
AHEAD = 0.2  # an answer with holes is re-projected ahead in this last share of its lifetime
CATALOG_AHEAD = 0.2  # ... and computed anew, its catalog part asked again, ahead in this last share of that part's
CATALOG_AHEAD_LEAST = 0.25  # life, at a point drawn per answer between this share of it and the whole of it
INDEX_BYTES = 100  # the reverse index's slot for one of an entry's tags (a set member, its share of the set)
EVICTED_KEYS = 5000  # evicted keys remembered, so that a miss can say it was for room (~1 MB)


FIRST, EVICTED, CHANGED, EXPIRED, CATALOG = "first", "evicted", "changed", "expired", "catalog"
MISS_REASONS = (FIRST, EVICTED, CHANGED, EXPIRED, CATALOG)


class Cached(NamedTuple):
    """What a read gives (a named tuple: made on every hit, at a third of a frozen dataclass's cost)."""

    body: bytes
    fresh: bool  # False: expired, served while one recompute runs
    stale: bool = False  # the body says "stale": true (an expired answer that carries freshness flags)
    due: bool = False  # fresh, but to be re-projected now, ahead of its end
    catalog_due: bool = False  # to be computed anew now, its catalog part asked again, ahead of that part's end


@dataclass(frozen=True)
class Reprojectable:
    holes: Holes
    dirty: frozenset[int]  # the sites to project again: those whose records changed; empty: every site


@dataclass
class _Entry:
    body: bytes
    tags: frozenset[Tag]
    at: float  # when it was kept (or last re-projected)
    lifetime: float  # seconds it is fresh from then
    stale_body: bytes | None = field(default=None)
    holes: Holes | None = None
    until: float = math.inf  # with holes: when its catalog part ends (on the cache's clock); then it goes
    renew_at: float = math.inf  # with holes: from when a request renews its catalog part ahead (in the background)
    spent: bool = False  # its bytes are not served: its records are looked up again first (a re-projection)
    dirty: set[int] = field(default_factory=set)
    # Sites being re-projected: an invalidation meanwhile marks them dirty again (the re-projection may have
    # read the state it replaced), and the answer is not served while either set is non-empty.
    pending: set[int] = field(default_factory=set)
    tag_bytes: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.tag_bytes = estimate(self.tags) + INDEX_BYTES * len(self.tags)  # once: its tags never change

    def size(self) -> int:
        """Bytes it takes, by the L1's one estimator (``caching.l1.estimate``): its bytes — twice, as once served
        stale it keeps a flagged copy —, its tags and their slots in the reverse index, and its holes."""
        return (ENTRY_OVERHEAD + 2 * sys.getsizeof(self.body) + self.tag_bytes
                + (0 if self.holes is None else self.holes.size()))


class ResponseCache:
    def __init__(self, ttl: float, size: int = 20_000, *, clock: Callable[[], float] = time.monotonic,
                 jitter: float = JITTER, restale: Callable[[bytes], bytes] = lambda body: body,
                 max_bytes: int | None = None, wall_ms: Callable[[], int] = SYSTEM_CLOCK.wall_ms,
                 on_miss: Callable[[str], None] = lambda reason: None) -> None:
        """``size``: answers kept at most; ``max_bytes``: the bytes they may take (estimated), if bounded so —
        either way the least recently used go first. ``wall_ms``: the time a catalog part's end is told in.
        ``on_miss``: told why a lookup has no answer to serve (``MISS_REASONS``)."""
        self.on_miss = on_miss
        self._evicted: OrderedDict[Hashable, None] = OrderedDict()
        self.ttl = ttl
        self.restale = restale
        self.jitter = jitter
        self.clock = clock
        self.wall_ms = wall_ms
        # Expired answers are served (flagged) for one more TTL; those with holes are renewed ahead of their end.
        self.policy = Policy(ttl, ahead=1 - AHEAD, usable_for=ttl)
        self.revalidator: Revalidator[Hashable] = Revalidator(fixed_delay(ttl * AHEAD / 4), now=clock, name="answer")
        # An evicted answer takes its refresh backoff with it.
        self._entries: BytesLRU[Hashable, _Entry] = BytesLRU(
            size if max_bytes is None else max_bytes, (lambda entry: 1) if max_bytes is None else _Entry.size,
            self._evict)
        self._bounded_by_bytes = max_bytes is not None
        self._by_tag: dict[Tag, set[Hashable]] = {}
        self._compact_above = 8 * size  # tags in the reverse index past which the evicted entries' are forgotten
        self._size = size
        # Bumped by every invalidation; the recent ones are kept with their tags for ``put`` to check.
        self.generation = 0
        self._recent: deque[tuple[int, frozenset[Tag]]] = deque(maxlen=RECENT_INVALIDATIONS)

    def get(self, key: Hashable) -> Cached | None:
        try:  # not ``get``: an LRU's is a second lookup on every hit, and a miss costs a computation anyway
            entry = self._entries[key]
        except KeyError:
            self.on_miss(EVICTED if key in self._evicted else FIRST)
            return None
        if entry.dirty or entry.pending:
            self.on_miss(CHANGED)
            return None  # changed since kept: re-projected (or recomputed) before it is served again
        now = self.clock()
        if now >= entry.renew_at:
            if now >= entry.until:
                self.on_miss(CATALOG)
                self._drop(key)  # its catalog part is over: computed anew
                return None
            catalog_due = True
        else:
            catalog_due = False
        state = self.policy.judge(now - entry.at, entry.lifetime)
        if state is Freshness.EXPIRED or entry.spent:
            self.on_miss(EXPIRED)
            if entry.holes is None:
                self._drop(key)
            return None  # with holes it stays: this request re-projects it (its records looked up again)
        if state is Freshness.FRESH:
            return Cached(entry.body, True, due=catalog_due, catalog_due=catalog_due)
        if state is Freshness.AHEAD:
            return Cached(entry.body, True, due=entry.holes is not None, catalog_due=catalog_due)
        if entry.stale_body is None:
            entry.stale_body = self.restale(entry.body)
        return Cached(entry.stale_body, False, entry.stale_body is not entry.body, catalog_due=catalog_due)

    def put(self, key: Hashable, body: bytes, tags: Iterable[Tag], generation: int | None = None,
            lifetime: float | None = None, holes: Holes | None = None, spent: bool = False) -> bool:
        """Keep an answer computed from records read at ``generation`` — unless an invalidation since
        then touched one of its tags (then it may hold the state that invalidation replaced; one with ``holes``
        is kept, those sites dirty: not served before they are re-projected). It is
        fresh for ``lifetime`` seconds (when its first record turns stale), at most the cache's TTL.
        With ``holes`` it is kept until its catalog part ends, re-projected after a change or once its
        records are past their TTL instead of dropped; ``spent``: its records already are, only its holes
        are kept (the next request re-projects it)."""
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
        lifetime = 0.0 if spent else self._lifetime(lifetime)
        if lifetime <= 0 and not spent:
            return False
        now = self.clock()
        until = math.inf if holes is None else now + (holes.catalog_until_ms - self.wall_ms()) / 1000
        if until <= now:  # its catalog part is already over: kept whole, as long as its records are fresh
            holes, until = None, math.inf
        # Drawn per answer: those computed together are renewed apart. ``until`` inf: inf (never due).
        ahead = CATALOG_AHEAD * (CATALOG_AHEAD_LEAST + (1 - CATALOG_AHEAD_LEAST) * random.random())
        renew_at = until - (until - now) * ahead if until < math.inf else math.inf
        if (spent or dirty) and holes is None:  # nothing to re-project it with: never served as it is
            return False
        try:
            # A spent answer's bytes are never served (its holes make the next ones): not kept twice over.
            self._entries[key] = _Entry(b"" if spent else exact(body), frozen, now, lifetime, holes=holes, until=until,
                                        renew_at=renew_at, spent=spent, dirty=dirty)
        except ValueError:  # larger than the whole bound: not kept
            return False
        for tag in frozen:
            self._by_tag.setdefault(tag, set()).add(key)
        if len(self._by_tag) > self._compact_above:
            self._compact()
        return True

    def _lifetime(self, lifetime: float | None) -> float:
        jittered = self.ttl * (1 + self.jitter * (2 * random.random() - 1))
        # A lifetime from the records is cut short by up to the jitter, never lengthened (an answer must not
        # outlive its records): answers built from records learned together do not all expire together.
        return jittered if lifetime is None else min(lifetime * (1 - self.jitter * random.random()), jittered)

    def reprojectable(self, key: Hashable) -> Reprojectable | None:
        """A kept answer with holes whose catalog part still stands: what a re-projection of it starts from — its
        dirty sites, or every site once its bytes are spent or past their stale window (its dirty sites are taken:
        ``reprojected`` or ``abandon`` must follow; the caller runs one at a time per key)."""
        entry = self._entries.get(key)
        if entry is None or entry.holes is None:
            return None
        now = self.clock()
        if now >= entry.until:
            self._drop(key)  # its catalog part is over: computed anew
            return None
        whole = entry.spent or self.policy.judge(now - entry.at, entry.lifetime) is Freshness.EXPIRED
        entry.pending |= entry.dirty
        entry.dirty = set()
        return Reprojectable(entry.holes, frozenset() if whole else frozenset(entry.pending))

    def abandon(self, key: Hashable, began: Reprojectable) -> None:
        """A re-projection that will not finish: its sites are dirty again."""
        entry = self._entries.get(key)
        if entry is not None and entry.holes is began.holes:
            entry.dirty |= entry.pending
            entry.pending = set()

    def reprojected(self, key: Hashable, began: Reprojectable, holes: Holes, body: bytes,
                    lifetime: float | None) -> bool:
        """Keep a re-projection, fresh for ``lifetime`` seconds; whether it is served as kept. ``lifetime`` None
        (its records are no longer fresh, or a system could not be asked): an answer whose bytes still stand
        (nothing changed, within its stale window) is left as it was; any other keeps the new holes, but its
        bytes are not served — the next request re-projects it again. A kept one is served again only if no
        invalidation marked it meanwhile (those sites stay dirty)."""
        entry = self._entries.get(key)
        if entry is None or entry.holes is not began.holes:
            return False
        kept_for = 0.0 if lifetime is None else self._lifetime(lifetime)
        fresh = kept_for > 0
        if not fresh and not began.dirty and not entry.spent and self._judge(entry) is not Freshness.EXPIRED:
            self.abandon(key, began)
            return False
        entry.body, entry.holes, entry.stale_body = body if fresh else b"", holes, None
        entry.pending = set()
        entry.at, entry.lifetime, entry.spent = self.clock(), kept_for if fresh else 0.0, not fresh
        try:
            self._entries[key] = entry  # its size is counted anew
        except ValueError:  # grown larger than the whole bound
            self._drop(key)
            return False
        return fresh

    def refresh(self, key: Hashable, compute: Callable[[], Awaitable[object]]) -> bool:
        """Recompute (or re-project) an answer in the background — unless one is running for it, or the last
        one did not renew it and its spacing has not passed; whether one started."""

        async def renew(keys: list[Hashable]) -> list[Hashable]:
            await compute()
            entry = self._entries.get(key)
            if entry is None:
                return keys  # gone: no backoff is kept for an answer the cache no longer holds
            renewed = (not (entry.dirty or entry.pending or entry.spent) and self._judge(entry) is Freshness.FRESH
                       and self.clock() < entry.renew_at)  # a catalog part not renewed (BigCommerce down): spaced
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
                    self._drop(key)
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
        self.revalidator.forgive()

    def _evict(self, key: Hashable, entry: _Entry) -> None:
        """Dropped for room: its refresh backoff goes, its key is remembered a while (a later miss says why)."""
        self.revalidator.forget(key)
        self._evicted[key] = None
        if len(self._evicted) > EVICTED_KEYS:
            self._evicted.popitem(last=False)

    def _drop(self, key: Hashable) -> None:
        """An answer leaves the cache, and its refresh backoff with it."""
        self._entries.pop(key, None)
        self.revalidator.forget(key)

    def __len__(self) -> int:
        return len(self._entries)

    def kept_keys(self) -> list[Hashable]:
        """The keys of the answers kept (for tools that measure them: ``loadtests/reproject_cpu.py``)."""
        return list(self._entries)

    @property
    def bytes(self) -> int:
        """Estimated bytes of the kept answers (what ``max_bytes`` bounds; with a count bound, 0)."""
        return self._entries.bytes if self._bounded_by_bytes else 0

    def _compact(self) -> None:
        """Forget tags of entries that were evicted (the LRU drops them silently). The next compaction waits
        until the index has doubled past what is live, so kept answers with many tags do not make every ``put``
        walk them all."""
        live: dict[Tag, set[Hashable]] = {}
        for key, entry in list(self._entries.items()):
            for tag in entry.tags:
                live.setdefault(tag, set()).add(key)
        self._by_tag = live
        self._compact_above = max(8 * self._size, 2 * len(live))
