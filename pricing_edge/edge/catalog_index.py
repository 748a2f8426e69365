"""What the edge has learned of the catalog from BigCommerce's answers: which products exist, their
variants, and which visibility scopes were shown them. It lets a prices-only document be answered
without the upstream — for known, visible products only; anything unknown still asks BigCommerce."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cachetools import TTLCache

from pricing_edge.edge.overlay import SeenProduct


@dataclass(frozen=True)
class KnownProduct:
    entity_id: int
    sku: str
    variants: tuple[tuple[int, str], ...]  # (variant entity id, sku), default first


class CatalogIndex:
    def __init__(self, ttl: float, size: int = 200_000) -> None:
        self._products: TTLCache[int, KnownProduct] = TTLCache(maxsize=size, ttl=ttl)
        self._by_sku: TTLCache[str, int] = TTLCache(maxsize=size, ttl=ttl)
        self._by_variant: TTLCache[int, int] = TTLCache(maxsize=size * 4, ttl=ttl)
        self._visible: TTLCache[tuple[str, int], bool] = TTLCache(maxsize=size * 4, ttl=ttl)

    def learn(self, visibility_key: str, seen: Iterable[SeenProduct]) -> None:
        for product in seen:
            self._products[product.entity_id] = KnownProduct(product.entity_id, product.sku, product.variants)
            self._by_sku[product.sku] = product.entity_id
            for variant_id, _ in product.variants:
                self._by_variant[variant_id] = product.entity_id
            self._visible[(visibility_key, product.entity_id)] = True

    def learn_skus(self, product_id: int, variants: tuple[tuple[int, str], ...]) -> None:
        """A product's variants as BigCommerce named them for a cart line: SKUs only, no visibility."""
        for variant_id, _ in variants:
            self._by_variant[variant_id] = product_id
        known = self._products.get(product_id)
        self._products[product_id] = KnownProduct(product_id, known.sku if known else variants[0][1], variants)

    def visible(self, visibility_key: str, *, entity_id: int | None = None, sku: str | None = None,
                variant_id: int | None = None) -> KnownProduct | None:
        """The product, if known and already shown to this visibility scope; else None (ask upstream)."""
        product_id = entity_id
        if product_id is None and sku is not None:
            product_id = self._by_sku.get(sku)
        if product_id is None and variant_id is not None:
            product_id = self._by_variant.get(variant_id)
        if product_id is None or not self._visible.get((visibility_key, product_id)):
            return None
        return self._products.get(product_id)

    def sku_for(self, product_id: int | None, variant_id: int | None) -> str | None:
        """A line item's SKU, from what answers have shown (None when unknown)."""
        if product_id is None and variant_id is not None:
            product_id = self._by_variant.get(variant_id)
        product = self._products.get(product_id) if product_id is not None else None
        if product is None:
            return None
        if variant_id is None:
            return product.variants[0][1] if product.variants else product.sku
        return next((sku for vid, sku in product.variants if vid == variant_id), None)
