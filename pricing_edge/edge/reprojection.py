"""Re-projection of a kept answer (``edge/holes.py``) after an ERP change or as its records near their TTL.

After a change only the records of the changed sites are looked up, and only those sites are projected and
serialized again; the rest of the bytes stand. The flags are judged from every record the answer uses: the
ones just looked up and, for the others, what the answer last learned of them (``Holes.used_by_key``). A
re-projection ahead of an answer's end (no site changed) looks every record up again, so that records renewed
meanwhile renew the answer. No GraphQL, no skeleton, no parse or render of the page.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.edge.answer_flags import Filled
from pricing_edge.edge.holes import Holes
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

    def take(self, keys: Iterable[Hashable], lookup: Lookup[Any, Any]) -> bool:
        keys = list(keys)
        if len(keys) != len(lookup.used):
            return False  # cannot tell which record is which: the caller computes the answer anew
        self.used.update(zip(keys, lookup.used, strict=True))
        self.degraded |= lookup.degraded
        return True


async def look_up(records: RecordService, shown_stock: ShownStock, price_list_id: int,
                  prices: Mapping[str, set[str]], stock: set[str], deadline: ErpDeadline | None = None) -> Looked | None:
    """The records behind ``prices`` (currency → SKUs) and ``stock`` (SKUs), as the overlay's fill reads them:
    together, until the request's one ERP ``deadline``."""
    wanted = [(currency, skus) for currency, skus in prices.items() if skus]
    lookups = await asyncio.gather(
        *(records.price_lookup(price_list_id, currency, skus, deadline) for currency, skus in wanted),
        *([records.stock_lookup(stock, deadline)] if stock else []))
    looked = Looked()
    for (currency, _), lookup in zip(wanted, lookups, strict=False):
        looked.records.prices.update({(currency, key[2]): record for key, record in lookup.found.items()})
        if not looked.take((("p", currency, key[2]) for key in lookup.found), lookup):
            return None
    if stock:
        stock_lookup = lookups[-1]
        looked.records.stock.update(await shown_stock(stock_lookup))
        if not looked.take((("s", sku) for sku in stock_lookup.found), stock_lookup):
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


LookUp = Callable[[Mapping[str, set[str]], set[str]], Awaitable[Looked | None]]


async def reproject(holes: Holes, dirty: frozenset[int], look: LookUp, degraded: set[str],
                    now_ms: Callable[[], int], longest: float) -> Reprojected | None:
    """The answer with the ``dirty`` sites projected from the records as they are now, and its flags anew
    (``degraded``: systems this request could not ask besides the records'); None: compute it anew."""
    whole = not dirty or holes.used_by_key is None
    prices, stock = (holes.overlay.needs.prices, holes.overlay.needs.stock) if whole else needs_of(holes.sites, dirty)
    looked = await look(prices, stock)
    if looked is None:
        return None
    if whole:
        used = looked.used
    else:
        assert holes.used_by_key is not None
        replaced: set[Hashable] = {("p", currency, sku) for currency, skus in prices.items() for sku in skus}
        replaced |= {("s", sku) for sku in stock}
        used = {key: record for key, record in holes.used_by_key.items() if key not in replaced} | looked.used
    # Ahead of its end, every site is projected again: a record can change with no event to say so (a refresh
    # that found a new value, a cart reservation that expired), and the flags alone would keep the old values.
    again = Reprojection(holes, range(len(holes.sites)) if whole else dirty)
    again.fill(looked.records)
    filled = Filled(touched=True, used=list(used.values()), degraded=looked.degraded | degraded)
    at = now_ms()
    flags = filled.flags(at)
    changed = dict(again.values)
    changed[holes.flags_hole] = dumps(flags.as_json())
    patched = holes.with_values(changed, used)
    keep_for = None if flags.stale else filled.lifetime(at, longest)
    return Reprojected(patched.body(), flags.stale, patched, keep_for)
