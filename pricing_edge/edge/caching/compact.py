"""Records as L1 keeps them: tuples of atoms (ints, strings, Decimals, None, bools) instead of dataclass objects.

Why: the cyclic collector untracks a tuple holding only atoms the first time it looks at it (a tuple of such
tuples only the next time: hence flat tuples, one level under L1's own (value, size) pair), so what L1 holds
adds nothing to the full collections' walk — as dataclass objects (a record, its holder, its tiers, a dict of
stock levels, the L1 slot's pair) it added ~10,000 objects per edge process under the events scenario, each
one walked by every full collection (issue 20). The tuples are smaller too. The cost is a record built anew on
each read from L1 (microseconds), off the path of a kept answer's hit.

``CompactSection`` is the mapping a cache keeps its entries in: values go in through ``pack`` and come out
through ``unpack``, so the cache's own code handles its usual objects.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, MutableMapping
from dataclasses import fields
from typing import Any, Generic, TypeVar

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind
from pricing_edge.edge.caching.l1 import L1Section

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Packed = tuple[Any, ...]
R = TypeVar("R")
_PRICE_FIELDS, _TIER_FIELDS, _LEVEL_FIELDS = 8, 4, 8
_PRICE_NAMES = tuple(f.name for f in fields(PriceRecord))
_TIER_NAMES = tuple(f.name for f in fields(BulkTier))
_LEVEL_NAMES = tuple(f.name for f in fields(StockLevel))
_TIER_KINDS = {kind.value: kind for kind in TierKind}  # an enum member is an object the collector tracks
_new = object.__new__


def _rebuilt(cls: type[R], names: tuple[str, ...], values: Iterable[Any]) -> R:
    """A frozen dataclass instance from the field values of one that was built (and checked) before: its
    attributes set straight into its ``__dict__``, as ``copy`` does — the generated ``__init__`` sets each
    through ``object.__setattr__`` (frozen), 2.5 µs a price record, paid on every read from L1."""
    instance = _new(cls)
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


def pack_price(record: PriceRecord) -> Packed:
    """Flat: the record's fields, then four a bulk tier."""
    tiers = [field for t in record.bulk_tiers for field in (t.min_quantity, t.max_quantity, t.amount, t.kind.value)]
    return (record.price_list_id, record.sku, record.currency, record.price, record.sale_price, record.retail_price,
            record.map_price, record.version, *tiers)


def unpack_price(packed: Packed, at: int = 0) -> PriceRecord:
    """The record packed from ``at`` on (L1 keeps its time first)."""
    end = at + _PRICE_FIELDS
    price_list_id, sku, currency, price, sale_price, retail_price, map_price, version = packed[at:end]
    tiers = () if len(packed) == end else tuple([
        _rebuilt(BulkTier, _TIER_NAMES, (packed[i], packed[i + 1], packed[i + 2], _TIER_KINDS[packed[i + 3]]))
        for i in range(end, len(packed), _TIER_FIELDS)])
    return _rebuilt(PriceRecord, _PRICE_NAMES,
                    (price_list_id, sku, currency, price, sale_price, retail_price, map_price, tiers, version))


def pack_levels(levels: dict[int, StockLevel]) -> Packed:
    """A SKU's stock levels by location, in their order; flat: eight fields a level."""
    return tuple(field for level in levels.values()
                 for field in (level.sku, level.location_id, level.on_hand, level.allocated, level.safety_stock,
                               level.backorder, level.lead_time_days, level.version))


def unpack_levels(packed: Packed, at: int = 0) -> dict[int, StockLevel]:
    """The levels packed from ``at`` on."""
    return {packed[i + 1]: _rebuilt(StockLevel, _LEVEL_NAMES, packed[i:i + _LEVEL_FIELDS])
            for i in range(at, len(packed), _LEVEL_FIELDS)}


class CompactSection(MutableMapping[K, V], Generic[K, V]):
    """An L1 section whose values are stored packed (``pack``) and read back unpacked (``unpack``)."""

    def __init__(self, section: L1Section[K, Any], pack: Callable[[V], Any], unpack: Callable[[Any], V]) -> None:
        self.section = section
        self.pack = pack
        self.unpack = unpack

    def __getitem__(self, key: K) -> V:
        return self.unpack(self.section[key])

    def get(self, key: K, default: Any = None) -> Any:
        packed = self.section.get(key)
        return default if packed is None else self.unpack(packed)

    def __setitem__(self, key: K, value: V) -> None:
        self.section[key] = self.pack(value)

    def __delitem__(self, key: K) -> None:
        del self.section[key]

    def __contains__(self, key: object) -> bool:
        return key in self.section

    def __iter__(self) -> Iterator[K]:
        return iter(self.section)

    def __len__(self) -> int:
        return len(self.section)

    def clear(self) -> None:
        self.section.clear()
