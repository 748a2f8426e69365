"""Re-projection of a kept answer (``edge/holes.py``) after an ERP change or as its records near their TTL.

After a change only the records of the changed sites are looked up, and only those sites are projected and
serialized again; the rest of the bytes stand. The flags are judged from every record the answer uses: the
ones just looked up and, for the others, what the answer last learned of them (``Holes.used_by_key``). A
re-projection ahead of an answer's end (no site changed) looks every record up again, so that records renewed
meanwhile renew the answer, but projects only the sites whose records now show another value (each record's
value digest against the one the answer used). No GraphQL, no skeleton, no parse or render of the page.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.value_digest import price_digest, stock_digest
from pricing_edge.edge.answer_flags import Filled
from pricing_edge.edge.holes import Holes, KeptOverlay, price_tag, stock_tag
from pricing_edge.edge.overlay import Overlay, Records, Site
from pricing_edge.edge.records import ErpDeadline, Lookup, RecordService
from pricing_edge.jsonio import dumps

ShownStock = Callable[[Lookup[str, dict[int, StockLevel]]], Awaitable[Mapping[str, Mapping[int, StockLevel]]]]


@dataclass
class Looked:
    """Records looked up for a re-projection, each key's freshness, and the systems that could not be asked."""

    records: Records = field(default_factory=Records)
    used: dict[Hashable, UsedRecord] = field(default_factory=dict)
    degraded: set[str] = field(default_factory=set)

    def take(self, keys: Iterable[Hashable], lookup: Lookup[Any, Any], digests: Iterable[int]) -> bool:
        """A lookup's records by key, each with the digest of the value it shows (``domain/value_digest.py``)."""
        keys = list(keys)
        if len(keys) != len(lookup.used):
            return False  # cannot tell which record is which: the caller computes the answer anew
        self.used.update((key, UsedRecord(used.as_of_ms, used.ttl_ms, digest))
                         for key, used, digest in zip(keys, lookup.used, digests, strict=True))
        self.degraded |= lookup.degraded
        return True

    def merge(self, other: Looked) -> None:
        self.records.prices.update(other.records.prices)
        self.records.stock.update(other.records.stock)
        self.used.update(other.used)
        self.degraded |= other.degraded


async def look_up(records: RecordService, shown_stock: ShownStock, price_list_id: int,
                  prices: Mapping[str, set[str]], stock: set[str], deadline: ErpDeadline | None = None) -> Looked | None:
    """The records behind ``prices`` (currency → SKUs) and ``stock`` (SKUs), as the overlay's fill reads them:
    together, until the request's one ERP ``deadline``."""
    wanted = [(currency, skus) for currency, skus in prices.items() if skus]
    asks: list[Awaitable[Lookup[Any, Any]]] = [
        *(records.price_lookup(price_list_id, currency, skus, deadline) for currency, skus in wanted),
        *([records.stock_lookup(stock, deadline)] if stock else [])]
    # One lookup — a re-projection's usual one field — is awaited as it is: no task to gather it into.
    lookups = [await asks[0]] if len(asks) == 1 else await asyncio.gather(*asks)
    looked = Looked()
    for (currency, _), lookup in zip(wanted, lookups, strict=False):
        looked.records.prices.update({(currency, key[2]): record for key, record in lookup.found.items()})
        if not looked.take((("p", currency, key[2]) for key in lookup.found), lookup,
                           map(price_digest, lookup.found.values())):
            return None
    if stock:
        stock_lookup = lookups[-1]
        shown = await shown_stock(stock_lookup)
        looked.records.stock.update(shown)
        if not looked.take((("s", sku) for sku in stock_lookup.found), stock_lookup,
                           (stock_digest(shown[sku]) for sku in stock_lookup.found)):
            return None
    return looked


def needs_of(sites: list[Site], chosen: Iterable[int]) -> tuple[dict[str, set[str]], set[str]]:
    """The records the ``chosen`` sites are computed from (as ``Overlay._settle`` notes them)."""
    prices: dict[str, set[str]] = {}
    stock: set[str] = set()
    for index in chosen:
        site = sites[index]
        if not site.skus or (site.include_tax and site.tax_rate is None):
            continue
        if site.name == "prices":
            prices.setdefault(site.currency, set()).update(site.skus)
        else:
            stock.update(site.skus)
    return prices, stock


class Reprojection(Overlay):
    """A kept answer's overlay again: its sites, but only ``chosen`` are projected (into ``values``)."""

    def __init__(self, holes: Holes, chosen: Iterable[int]) -> None:
        source = holes.overlay
        super().__init__(source.schema, source.collector, source.default_currency)
        if isinstance(source, KeptOverlay):
            self._plans = source.plans  # planned once for every re-projection of the answer
        self.sites = holes.sites
        self.chosen = sorted(chosen)
        self.values: dict[int, bytes] = {}

    def fill(self, records: Records) -> list[Site]:
        kept = []
        for index in self.chosen:
            site = self.sites[index]
            value, projected = self.site_value(site, records)
            self.values[index] = dumps(value)
            if not projected:
                kept.append(site)
        return kept


@dataclass(frozen=True)
class Reprojected:
    body: bytes
    stale: bool  # the body says so (and the header goes with it)
    holes: Holes
    keep_for: float | None  # seconds it may be kept as fresh; None: not to be kept
    sites: int  # owned fields projected again (the flags are always judged anew)


LookUp = Callable[[Mapping[str, set[str]], set[str]], Awaitable[Looked | None]]


def keys_of(prices: Mapping[str, set[str]], stock: set[str]) -> set[Hashable]:
    """The record keys (as ``Holes.used_by_key`` has them) a lookup of ``prices`` and ``stock`` asks for."""
    keys: set[Hashable] = {("p", currency, sku) for currency, skus in prices.items() for sku in skus}
    keys.update(("s", sku) for sku in stock)
    return keys


def changed_sites(holes: Holes, asked: set[Hashable], looked: Looked) -> set[int]:
    """The sites fed by a record of ``asked`` whose shown value is not the one the answer last used: a new
    value (with or without an event), one found or lost, or stock whose reservations changed."""
    known = holes.used_by_key or {}
    sites: set[int] = set()
    for key in asked:
        before, now = known.get(key), looked.used.get(key)
        if before is not None and now is not None and before.digest is not None and before.digest == now.digest:
            continue
        if before is None and now is None:
            continue  # not found then, not found now: the site kept BigCommerce's value and keeps it
        kind, *rest = cast(tuple[str, ...], key)
        if kind == "p":  # ("p", currency, sku): the price sites in that currency
            fed = holes.by_tag.get(price_tag(holes.price_list_id, rest[1]))
            candidates = range(len(holes.sites)) if fed is None else fed
            sites.update(i for i in candidates if holes.sites[i].currency == rest[0])
        else:
            fed = holes.by_tag.get(stock_tag(rest[0]))
            sites.update(range(len(holes.sites)) if fed is None else fed)
    return sites


async def reproject(holes: Holes, dirty: frozenset[int], look: LookUp, degraded: set[str],
                    now_ms: Callable[[], int], longest: float) -> Reprojected | None:
    """The answer with the ``dirty`` sites — none, ahead of its end — and every site whose records now show
    another value projected from the records as they are now, and its flags anew (``degraded``: systems this
    request could not ask besides the records'); None: compute it anew.

    Why compare values: a record can change with no event to say so (a refresh that found a new value, a cart
    reservation that expired), and the flags alone would keep the old value; but a renewal that finds every
    value as it was — the usual case, every stock TTL for every hot page — costs the lookups and the flags only.
    Should a site projected so read a record the first lookup did not ask for, it is looked up too (and the
    sites it changed join in), until none is left out."""
    if holes.used_by_key is None:  # what it used is not known: every record is looked up, every site projected
        chosen: set[int] = set(range(len(holes.sites)))
        prices, stock = holes.overlay.needs.prices, holes.overlay.needs.stock
    else:
        chosen = set(dirty)
        prices, stock = needs_of(holes.sites, dirty) if dirty else (holes.overlay.needs.prices, holes.overlay.needs.stock)
    looked = await look(prices, stock)
    if looked is None:
        return None
    asked = keys_of(prices, stock)
    if holes.used_by_key is not None:
        changed = changed_sites(holes, asked, looked)
        while not changed <= chosen:
            more = changed - chosen
            chosen |= more
            more_prices, more_stock = needs_of(holes.sites, more)
            more_keys = keys_of(more_prices, more_stock) - asked
            if more_keys:  # records those sites read that were not looked up yet
                extra = await look({c: {s for s in skus if ("p", c, s) in more_keys} for c, skus in more_prices.items()},
                                   {s for s in more_stock if ("s", s) in more_keys})
                if extra is None:
                    return None
                looked.merge(extra)
                asked |= more_keys
                changed |= changed_sites(holes, more_keys, looked)
    used = dict(holes.used_by_key or {})  # what it used, less what it asked for, and what it found now
    for key in asked.difference(looked.used):
        used.pop(key, None)
    used.update(looked.used)
    again = Reprojection(holes, chosen)
    if again.fill(looked.records) and holes.overlay.records_only:
        return None  # a record it showed is gone, and it has no BigCommerce value to show instead
    filled = Filled(touched=True, used=list(used.values()), degraded=looked.degraded | degraded)
    flags, keep_for = filled.judged(now_ms(), longest)
    changed_values = dict(again.values)
    changed_values[holes.flags_hole] = dumps(flags.as_json())
    patched = holes.with_values(changed_values, used)
    return Reprojected(patched.body(), flags.stale, patched, keep_for, len(chosen))
