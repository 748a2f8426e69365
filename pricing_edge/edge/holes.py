"""Stored bytes with holes: an answer's catalog part serialized once, with a hole wherever an owned field
(a ``prices`` or ``inventory`` of a Product or Variant) or the freshness flags go.

Why: after an ERP event the answer is not thrown away and recomputed (skeleton, render of the whole page,
overlay, serialization: 2–6 ms a page); only the holes whose records changed are projected again and the
bytes joined anew (``edge/reprojection.py``). The holes keep the overlay's sites (what each needs and how it
is projected), so a re-projection computes exactly what a from-scratch overlay would for the same records.
"""
from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from graphql import FieldNode, GraphQLSchema

from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.edge.caching.l1 import estimate
from pricing_edge.edge.fields import FieldCollector, Memo
from pricing_edge.edge.overlay import Needs, Overlay, Packed, Site, Step
from pricing_edge.jsonio import dumps, exact

Tag = tuple[Hashable, ...]


def price_tag(price_list_id: int, sku: str) -> Tag:
    return ("p", price_list_id, sku)


def stock_tag(sku: str) -> Tag:
    return ("s", sku)

# A marker no catalog value can hold by chance: control characters and a per-process nonce.
_NONCE = secrets.token_hex(6)
_MARK = re.compile(rb'"\\u0000pe' + _NONCE.encode() + rb'-(\d+)\\u0000"')


def _marker(index: int) -> str:
    return f"\x00pe{_NONCE}-{index}\x00"


@dataclass
class Holes:
    """One kept answer as segments around holes: ``segments[i]`` comes before ``values[i]``; the last hole
    is the answer's ``extensions.pricingEdge`` (its flags)."""

    overlay: Overlay  # for projecting: the answer's schema, fields, needs and ``sites``
    sites: list[Site]  # the overlay's, detached from the rendered page (which is not kept)
    segments: list[bytes]
    values: list[bytes]
    by_tag: dict[Tag, tuple[int, ...]]  # which sites each record tag feeds
    catalog_until_ms: int  # the catalog part may be re-projected until then; after, it is computed anew
    price_list_id: int = 0
    order: list[int] = field(default_factory=list)  # hole index of each marker, in byte order
    # Each record the answer used, by key (("p", currency, sku) or ("s", sku)), as of its last re-projection:
    # what lets a re-projection look up only the changed records and still judge the flags from all of them.
    used_by_key: dict[Hashable, UsedRecord] | None = None
    # Bytes (``caching.l1.estimate``) of the frame every re-projection shares — sites, segments, tag index, needs —
    # and of the records used (the same keys each time): estimated once, as walking them is ~2 ms a page.
    frame_bytes: int = 0
    used_bytes: int | None = None
    values_bytes: int | None = None  # its values' (estimated once, then kept up by ``with_values``)

    def size(self) -> int:
        """Bytes it holds, estimated: its frame, its values, the records it used and its overlay's field memo."""
        if self.used_bytes is None:
            self.used_bytes = estimate(self.used_by_key)
        if self.values_bytes is None:
            self.values_bytes = estimate(self.values)
        memo = self.overlay.memo_bytes() if isinstance(self.overlay, KeptOverlay) else 0
        return self.frame_bytes + self.values_bytes + self.used_bytes + memo

    @property
    def flags_hole(self) -> int:
        return len(self.sites)

    def body(self) -> bytes:
        parts: list[bytes] = []
        for segment, index in zip(self.segments, self.order, strict=False):
            parts += (segment, self.values[index])
        parts.append(self.segments[-1])
        return b"".join(parts)

    def sites_for(self, tags: Iterable[Tag]) -> set[int] | None:
        """The sites the records behind ``tags`` feed; None when a tag feeds none this answer knows of
        (then it cannot be re-projected and must go)."""
        found: set[int] = set()
        for tag in tags:
            sites = self.by_tag.get(tag)
            if sites is None:
                return None
            found.update(sites)
        return found

    def with_values(self, changed: dict[int, bytes], used_by_key: dict[Hashable, UsedRecord] | None = None) -> Holes:
        values = list(self.values)
        # ``estimate(values)`` kept up value by value (a list of bytes: the list's size and each one's), not walked
        values_bytes = self.values_bytes
        for index, value in changed.items():
            before, values[index] = values[index], exact(value)  # kept: in bytes of its own length (``jsonio.exact``)
            if values_bytes is not None:
                values_bytes += sys.getsizeof(values[index]) - sys.getsizeof(before)
        if values_bytes is not None:
            values_bytes += sys.getsizeof(values) - sys.getsizeof(self.values)
        same_records = used_by_key is None or len(used_by_key) == len(self.used_by_key or ())
        return Holes(self.overlay, self.sites, self.segments, values, self.by_tag, self.catalog_until_ms,
                     self.price_list_id, self.order, self.used_by_key if used_by_key is None else used_by_key,
                     self.frame_bytes, self.used_bytes if same_records else None, values_bytes)


class _Detached(dict[str, Any]):
    """The page a kept site was rendered into, which is not kept: shared by every kept site, never written (a
    re-projection returns each site's value instead of writing it into the page)."""

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError("a kept answer's site has no page to write into")


DETACHED: dict[str, Any] = _Detached()


class KeptOverlay(Overlay):
    """A kept answer's overlay: what re-projecting its sites needs. Its field collector is its own, without the
    memo of the whole page's walk; what that memo grows to as re-projections collect fields is counted. So are
    its projection plans (``Overlay._plan``), which every re-projection of the answer shares: planned anew each
    time, they were a quarter of a one-field re-projection's CPU."""

    def __init__(self, schema: GraphQLSchema, collector: FieldCollector, default_currency: str) -> None:
        super().__init__(schema, collector, default_currency)
        self._memo_counted = (0, 0)  # the memo's entries when last estimated, and its bytes then
        self._plans_counted = (0, 0)  # the same for its plans

    @property
    def plans(self) -> dict[tuple[str, int], tuple[list[FieldNode], list[Step]]]:
        """Its projection plans, for the re-projections of its answer to share."""
        return self._plans

    def memo_bytes(self) -> int:
        """Its own memo's bytes (none for the document's memo: shared by every answer of it, and bounded) and
        its plans'."""
        if len(self._plans) != self._plans_counted[0]:  # they only grow: estimated again only when they did
            self._plans_counted = (len(self._plans), _plans_bytes(self._plans))
        if self.collector.shares_memo:
            return self._plans_counted[1]
        memo = self.collector.memo
        if len(memo) != self._memo_counted[0]:
            self._memo_counted = (len(memo), _memo_bytes(memo))
        return self._memo_counted[1] + self._plans_counted[1]


def _plans_bytes(plans: dict[tuple[str, int], tuple[list[FieldNode], list[Step]]]) -> int:
    """Projection plans: their table, keys and steps with their arguments, not the document's nodes and the
    schema's types they point to."""
    size = sys.getsizeof(plans)
    for key, (_, steps) in plans.items():
        size += sys.getsizeof(key) + 2 * sys.getsizeof(steps)  # the (nodes, steps) pair is about a list's size
        size += sum(sys.getsizeof(step) + estimate(step.args) for step in steps)
    return size


def _memo_bytes(memo: Memo) -> int:
    """A field collector's memo: its dicts, keys, tuples and lists, not the document's nodes they point to
    (shared by every answer of the document)."""
    size = sys.getsizeof(memo)
    for key, (sets, grouped) in memo.items():
        size += estimate(key) + sys.getsizeof((sets, grouped)) + sys.getsizeof(sets) + sys.getsizeof(grouped)
        size += sum(estimate(name) + sys.getsizeof(nodes) for name, nodes in grouped.items())
    return size


def pack(upstream: Any) -> Any:
    """A site's upstream value as a kept answer holds it: composites as their JSON bytes (``Packed``)."""
    return Packed(exact(dumps(upstream))) if isinstance(upstream, dict | list) else upstream


def site_tags(sites: list[Site], price_list_id: int) -> dict[Tag, tuple[int, ...]]:
    """Record tags → the sites they feed (the tags are edge/response_cache.py's price and stock tags); the
    tags of one site (a product's variants) share one tuple of sites."""
    by_tag: dict[Tag, list[int]] = {}
    for index, site in enumerate(sites):
        for sku in site.skus:
            tag = price_tag(price_list_id, sku) if site.name == "prices" else stock_tag(sku)
            by_tag.setdefault(tag, []).append(index)
    shared: dict[tuple[int, ...], tuple[int, ...]] = {}
    return {tag: shared.setdefault(tuple(fed), tuple(fed)) for tag, fed in by_tag.items()}


def _index_bytes(by_tag: dict[Tag, tuple[int, ...]]) -> int:
    """The tag index: its table, its tag tuples and each distinct tuple of sites once (the tags' SKUs are the
    sites', counted there)."""
    distinct = {id(fed): fed for fed in by_tag.values()}.values()
    return (sys.getsizeof(by_tag) + sum(sys.getsizeof(tag) for tag in by_tag)
            + sum(estimate(fed) for fed in distinct))


def _kept_site(site: Site) -> Site:
    """A site as a kept answer holds it: no page, BigCommerce's value as bytes, its SKUs interned (every answer
    that shows a SKU shares one string)."""
    return replace(site, out=DETACHED, upstream=pack(site.upstream), skus=tuple(sys.intern(sku) for sku in site.skus))


def _kept_needs(needs: Needs) -> Needs:
    """The records every site needs, in sets sized to what they hold (a set grown one SKU at a time has up to
    twice the table)."""
    return Needs({currency: set(skus) for currency, skus in needs.prices.items()}, set(needs.stock))


# A kept site's own fields: not its field nodes (the document's; graphql-core's nodes are dataclasses, so walking
# them walks the document's syntax tree — 50–100 ms steps in the stall probe) nor the shared stand-in page.
_SITE_OWN_FIELDS = tuple(f.name for f in fields(Site) if f.name not in ("nodes", "out"))


def kept_site_bytes(site: Site) -> int:
    """``estimate(site)`` less its nodes and page, without walking them (slotted: its own size and its fields')."""
    return sys.getsizeof(site) + sum(estimate(getattr(site, name)) for name in _SITE_OWN_FIELDS)


def punch(result: dict[str, Any], overlay: Overlay, price_list_id: int, catalog_until_ms: int,
          used_by_key: dict[Hashable, UsedRecord] | None = None) -> Holes | None:
    """``result`` (data filled by ``overlay``, extensions with its flags) as bytes with holes; None when it
    has no flags to hole (an answer that used no record needs no re-projection). ``used_by_key``: the records
    it was filled from, with their value digests (a renewal then projects only the sites whose values changed)."""
    pricing = (result.get("extensions") or {}).get("pricingEdge")
    if pricing is None or not overlay.sites:
        return None
    originals = [site.out[site.key] for site in overlay.sites]
    values = [exact(dumps(value)) for value in originals] + [exact(dumps(pricing))]
    for index, site in enumerate(overlay.sites):
        site.out[site.key] = _marker(index)
    result["extensions"]["pricingEdge"] = _marker(len(overlay.sites))
    try:
        template = dumps(result)
    finally:  # the result stays as it was
        for site, original in zip(overlay.sites, originals, strict=True):
            site.out[site.key] = original
        result["extensions"]["pricingEdge"] = pricing
    pieces = _MARK.split(template)
    segments, order = pieces[0::2], [int(i) for i in pieces[1::2]]
    if sorted(order) != list(range(len(values))):
        return None  # a site not in the answer (or twice): keep the answer whole, never patched
    # The sites without the page they were rendered into (a kept answer holds its bytes, not its objects) and
    # with BigCommerce's values as bytes. Its field collector: the document's, whose memo every answer of it
    # shares; or, when that memo is this request's (directives that take variables), one of its own, without
    # the memo of the whole page's walk.
    sites = [_kept_site(site) for site in overlay.sites]
    collector = overlay.collector
    if not collector.shares_memo:
        collector = FieldCollector(collector.schema, collector.fragments, collector.variables)
    light = KeptOverlay(overlay.schema, collector, overlay.default_currency)
    light.sites, light.needs, light.extension_fields = sites, _kept_needs(overlay.needs), overlay.extension_fields
    light.records_only = overlay.records_only
    by_tag = site_tags(sites, price_list_id)
    # A site's field nodes are the prepared document's, shared by every answer of it: not this answer's bytes.
    # The stand-in page is shared by every kept site, the field nodes by every answer of the document, and a list
    # of them by the answer's sites of one selection.
    frame = sum(kept_site_bytes(site) for site in sites)
    frame += sum(sys.getsizeof(nodes) for nodes in {id(site.nodes): site.nodes for site in sites}.values())
    frame += estimate(segments) + _index_bytes(by_tag) + estimate(order) + estimate(light.needs)
    return Holes(light, sites, segments, values, by_tag, catalog_until_ms, price_list_id, order, used_by_key,
                 frame_bytes=frame)
