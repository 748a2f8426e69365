"""What an answer's overlay used, and the freshness flags it is served with — on every path: computed,
synthesized, catalog fallback, and kept in the response cache. The flags come from one pure function
(:func:`pricing_edge.domain.freshness.flags`); the ``X-Pricing-Edge-Stale`` header is set if and only if
the body says ``"stale": true``."""
from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from pricing_edge.domain.freshness import Flags, UsedRecord, bounds, flags, flags_from
from pricing_edge.edge.records import Lookup
from pricing_edge.edge.response_cache import Tag
from pricing_edge.jsonio import dumps

STALE_HEADER = "X-Pricing-Edge-Stale"


@dataclass
class Filled:
    """What an answer's overlay used: tags for invalidation, the records and the systems not reached."""

    tags: list[Tag] = field(default_factory=list)
    complete: bool = True
    touched: bool = False
    used: list[UsedRecord] = field(default_factory=list)
    degraded: set[str] = field(default_factory=set)
    listing_changed: bool = False  # a listing cursor's side changed since it was issued (edge/listing/)
    # ``used`` by record key, each with the digest of the value it showed, when that is all it used: what a kept
    # answer's renewal compares the records it looks up again with (edge/reprojection.py).
    by_key: dict[Hashable, UsedRecord] | None = None

    def note(self, found: Lookup[Any, Any] | Filled) -> None:
        """Take in another part's records and degradations."""
        self.used += found.used
        self.degraded |= found.degraded

    def merge(self, other: Filled) -> Filled:
        if other.used:
            self.by_key = None  # records not known by key: a renewal looks every one up and projects every site
        self.note(other)
        self.touched = self.touched or other.touched or bool(other.degraded)
        return self

    def flags(self, now_ms: int) -> Flags:
        return flags(self.used, self.degraded, now_ms)

    def judged(self, now_ms: int, longest: float) -> tuple[Flags, float | None]:
        """Its flags and, when fresh, the seconds an answer built now stays so: until its first record's TTL
        ends, at most ``longest``. One pass over the records used: a re-projection judges all of its page's."""
        judged = bounds(self.used)
        found = flags_from(judged, self.degraded, now_ms)
        if found.stale:
            return found, None
        return found, longest if judged is None else max(0.0, min(longest, (judged[1] - now_ms) / 1000))


@dataclass(frozen=True)
class Finished:
    body: bytes
    stale: bool  # the body says so, and the header goes with it
    keep_for: float | None  # seconds the answer may be kept as fresh; None: never kept


def finish(result: dict[str, Any], filled: Filled, now_ms: int, longest: float) -> Finished:
    """An answer's bytes with its flags as of ``now_ms``: only a fresh one may be kept, and only until its
    first record's TTL ends (at most ``longest``)."""
    flags, keep_for = filled.judged(now_ms, longest)
    if filled.touched:
        result["extensions"] = {"pricingEdge": flags.as_json()}
        if filled.listing_changed:
            result["extensions"]["pricingEdge"]["listingChanged"] = True
    return Finished(dumps(result), filled.touched and flags.stale, keep_for)


def headers_for(stale: bool) -> dict[str, str]:
    return {STALE_HEADER: "1"} if stale else {}


FRESH_FLAG, STALE_FLAG = b'"pricingEdge":{"stale":false', b'"pricingEdge":{"stale":true'


def restale(body: bytes) -> bytes:
    """A kept answer served past its records' TTL (while one recompute runs): the same bytes, flagged stale.

    The flags are the last member of the answer (after ``data``), so the last match is theirs."""
    at = body.rfind(FRESH_FLAG)
    if at < 0:
        return body  # no flags in it: it used no record
    return body[:at] + STALE_FLAG + body[at + len(FRESH_FLAG):]
