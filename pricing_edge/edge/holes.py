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
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.edge.caching.l1 import estimate
from pricing_edge.edge.overlay import Overlay, Site
from pricing_edge.jsonio import dumps

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

    def size(self) -> int:
        """Bytes it holds, estimated: its frame, its values and the records it used."""
        if self.used_bytes is None:
            self.used_bytes = estimate(self.used_by_key)
        return self.frame_bytes + estimate(self.values) + self.used_bytes

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
        for index, value in changed.items():
            values[index] = value
        same_records = used_by_key is None or len(used_by_key) == len(self.used_by_key or ())
        return Holes(self.overlay, self.sites, self.segments, values, self.by_tag, self.catalog_until_ms,
                     self.price_list_id, self.order, self.used_by_key if used_by_key is None else used_by_key,
                     self.frame_bytes, self.used_bytes if same_records else None)


def site_tags(overlay: Overlay, price_list_id: int) -> dict[Tag, tuple[int, ...]]:
    """Record tags → the sites they feed (the tags are edge/response_cache.py's price and stock tags)."""
    by_tag: dict[Tag, list[int]] = {}
    for index, site in enumerate(overlay.sites):
        for sku in site.skus:
            tag = price_tag(price_list_id, sku) if site.name == "prices" else stock_tag(sku)
            by_tag.setdefault(tag, []).append(index)
    return {tag: tuple(sites) for tag, sites in by_tag.items()}


def punch(result: dict[str, Any], overlay: Overlay, price_list_id: int, catalog_until_ms: int,
          used_by_key: dict[Hashable, UsedRecord] | None = None) -> Holes | None:
    """``result`` (data filled by ``overlay``, extensions with its flags) as bytes with holes; None when it
    has no flags to hole (an answer that used no record needs no re-projection). ``used_by_key``: the records
    it was filled from, with their value digests (a renewal then projects only the sites whose values changed)."""
    pricing = (result.get("extensions") or {}).get("pricingEdge")
    if pricing is None or not overlay.sites:
        return None
    originals = [site.out[site.key] for site in overlay.sites]
    values = [dumps(value) for value in originals] + [dumps(pricing)]
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
    # The sites without the page they were rendered into: a kept answer holds its bytes, not its objects.
    sites = [replace(site, out={}) for site in overlay.sites]
    light = Overlay(overlay.schema, overlay.collector, overlay.default_currency)
    light.sites, light.needs, light.extension_fields = sites, overlay.needs, overlay.extension_fields
    by_tag = site_tags(overlay, price_list_id)
    # A site's field nodes are the prepared document's, shared by every answer of it: not this answer's bytes.
    frame = sum(estimate(replace(site, nodes=[])) for site in sites)
    frame += estimate(segments) + estimate(by_tag) + estimate(order) + estimate(overlay.needs)
    return Holes(light, sites, segments, values, by_tag, catalog_until_ms, price_list_id, order, used_by_key,
                 frame_bytes=frame)
