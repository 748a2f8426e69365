"""What the edge has learned of the catalog from BigCommerce's answers: which products exist, their
variants, and which visibility scopes were shown them. It lets a prices-only document be answered
without the upstream — for known, visible products only; anything unknown still asks BigCommerce.

It grows with the catalog, so it is bounded by bytes (``PRICING_EDGE_CATALOG_INDEX_MB``; the least recently
learned or used product goes first, with its SKU and variant entries) and kept compact: one tuple per product
(its SKU, variants, when it was learned and, per visibility scope, when that scope was last shown it) and two
plain maps from SKU and variant id to the product, instead of four TTL caches of objects — about a third of the
memory per product. An evicted or expired product is simply unknown again: BigCommerce is asked.
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from pricing_edge.edge.caching.bounded import BytesLRU
from pricing_edge.edge.overlay import SeenProduct
from pricing_edge.ops.metrics import EdgeMetrics

MAX_BYTES = 16 * 2**20
# Per product, besides its tuple: the LRU's slot, order node and size, the product-id key, and its entries in
# the SKU and variant maps (a dict slot each; the SKU strings and ids are the tuple's own objects).
ENTRY_OVERHEAD = 220
MAP_ENTRY = 60
# Sizes of the parts of a product's tuple, as ``sys.getsizeof`` gives them on 64-bit CPython (``_size``).
STR_HEADER, TUPLE_HEADER, FLOAT_BYTES = 49, 40, 24
KNOWN_BYTES = 72 + FLOAT_BYTES  # the 4-field tuple and its time
PAIR_BYTES = 56 + 32  # a (variant id, sku) tuple and its id


@dataclass(frozen=True)
class KnownProduct:
    entity_id: int
    sku: str
    variants: tuple[tuple[int, str], ...]  # (variant entity id, sku), default first
    # clock seconds when it is no longer known as shown to the scope asked about (an answer built from it ends)
    ends: float = field(default=math.inf, compare=False)


class _Known(NamedTuple):
    sku: str
    variants: tuple[tuple[int, str], ...]
    learned: float  # clock seconds: the product is known for the TTL from then
    shown: tuple[str | float, ...]  # visibility key, clock seconds it was last shown, … (flat: fewer objects)

    def shown_at(self, visibility_key: str) -> float | None:
        for i in range(0, len(self.shown), 2):
            if self.shown[i] == visibility_key:
                return self.shown[i + 1]  # type: ignore[return-value]
        return None

    def showing(self, visibility_key: str, at: float) -> tuple[str | float, ...]:
        kept = tuple(v for i in range(0, len(self.shown), 2) if self.shown[i] != visibility_key
                     for v in self.shown[i:i + 2])
        return (*kept, visibility_key, at)


def _str_size(text: str) -> int:
    return STR_HEADER + len(text)


def _size(known: _Known) -> int:
    """``estimate(known)``'s figure for this shape, by arithmetic: it is computed for every product of every page
    computed, and walking the tuple costs more than the rest of ``learn``."""
    variants = known.variants
    return (ENTRY_OVERHEAD + KNOWN_BYTES + _str_size(known.sku) + TUPLE_HEADER + 8 * len(variants)
            + sum(PAIR_BYTES + _str_size(sku) for _, sku in variants)
            + TUPLE_HEADER + 8 * len(known.shown) + FLOAT_BYTES * (len(known.shown) // 2)
            + MAP_ENTRY * (1 + len(variants)))


class CatalogIndex:
    def __init__(self, ttl: float, max_bytes: int = MAX_BYTES, metrics: EdgeMetrics | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._products: BytesLRU[int, _Known] = BytesLRU(max_bytes, _size, self._unmap, metrics=metrics,
                                                         name="catalog_index")
        self._by_sku: dict[str, int] = {}
        self._by_variant: dict[int, int] = {}

    @property
    def bytes(self) -> int:
        """Estimated bytes held (its bound's measure)."""
        return self._products.bytes

    def __len__(self) -> int:
        return len(self._products)

    def learn(self, visibility_key: str, seen: Iterable[SeenProduct]) -> None:
        now = self.clock()
        visibility_key = sys.intern(visibility_key)  # one string per scope, however many products it was shown
        for product in seen:
            known = self._products.get(product.entity_id)
            if known is not None and known.sku == product.sku and known.variants == product.variants:
                sku, variants = known.sku, known.variants  # as known: only shown anew
            else:
                sku, variants = sys.intern(product.sku), _interned(product.variants)
            shown = known.showing(visibility_key, now) if known is not None else (visibility_key, now)
            self._keep(product.entity_id, _Known(sku, variants, now, shown))

    def learn_skus(self, product_id: int, variants: tuple[tuple[int, str], ...]) -> None:
        """A product's variants as BigCommerce named them for a cart line: SKUs only, no visibility."""
        known = self._products.get(product_id)
        sku = known.sku if known is not None else variants[0][1]
        self._keep(product_id, _Known(sys.intern(sku), _interned(variants), self.clock(),
                                      known.shown if known is not None else ()))

    def visible(self, visibility_key: str, *, entity_id: int | None = None, sku: str | None = None,
                variant_id: int | None = None) -> KnownProduct | None:
        """The product, if known and already shown to this visibility scope; else None (ask upstream)."""
        product_id = entity_id
        if product_id is None and sku is not None:
            product_id = self._by_sku.get(sku)
        if product_id is None and variant_id is not None:
            product_id = self._by_variant.get(variant_id)
        known = self._known(product_id)
        if known is None:
            return None
        shown = known.shown_at(visibility_key)
        if shown is None or self.clock() - shown >= self.ttl:
            return None
        assert product_id is not None
        return KnownProduct(product_id, known.sku, known.variants, shown + self.ttl)

    def sku_for(self, product_id: int | None, variant_id: int | None) -> str | None:
        """A line item's SKU, from what answers have shown (None when unknown)."""
        if product_id is None and variant_id is not None:
            product_id = self._by_variant.get(variant_id)
        product = self._known(product_id)
        if product is None:
            return None
        if variant_id is None:
            return product.variants[0][1] if product.variants else product.sku
        return next((sku for vid, sku in product.variants if vid == variant_id), None)

    def _known(self, product_id: int | None) -> _Known | None:
        if product_id is None:
            return None
        known = self._products.get(product_id)
        if known is not None and self.clock() - known.learned >= self.ttl:
            del self._products[product_id]  # expired: unknown again (not an eviction)
            self._unmap(product_id, known)
            return None
        return known

    def _keep(self, product_id: int, known: _Known) -> None:
        old = self._products.get(product_id)
        if old is not None:
            self._unmap(product_id, old)
        if not self._products.put(product_id, known):
            return
        self._by_sku[known.sku] = product_id
        for variant_id, _ in known.variants:
            self._by_variant[variant_id] = product_id

    def _unmap(self, product_id: int, known: _Known) -> None:
        """Its SKU and variants no longer lead to it (unless they lead to another product by now)."""
        if self._by_sku.get(known.sku) == product_id:
            del self._by_sku[known.sku]
        for variant_id, _ in known.variants:
            if self._by_variant.get(variant_id) == product_id:
                del self._by_variant[variant_id]


def _interned(variants: tuple[tuple[int, str], ...]) -> tuple[tuple[int, str], ...]:
    return tuple((variant_id, sys.intern(sku)) for variant_id, sku in variants)
