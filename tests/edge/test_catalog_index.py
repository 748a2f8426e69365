"""The catalog index: bounded by bytes (the least recently used product goes, with its SKU and variant
entries, counted), right about every product it still holds, and strict about visibility and its TTL."""
from __future__ import annotations

from pricing_edge.edge.catalog_index import CatalogIndex, KnownProduct
from pricing_edge.edge.overlay import SeenProduct
from pricing_edge.ops.metrics import EdgeMetrics


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def seen(i: int) -> SeenProduct:
    return SeenProduct(i, f"P-{i}", ((10_000 + i, f"P-{i}-A"), (20_000 + i, f"P-{i}-B")))


def test_past_its_byte_bound_the_least_recently_used_go_with_their_skus_and_variants() -> None:
    metrics = EdgeMetrics()
    index = CatalogIndex(ttl=300, max_bytes=20_000, metrics=metrics)
    for i in range(200):
        index.learn("c1:g0", [seen(i)])
        assert index.bytes <= 20_000
    kept = len(index)
    assert 0 < kept < 200
    assert metrics.value("pricing_edge_cache_evictions_total", {"cache": "catalog_index"}) == 200 - kept
    assert metrics.value("pricing_edge_cache_bytes", {"cache": "catalog_index"}) == index.bytes
    assert index.visible("c1:g0", entity_id=0) is None  # evicted: unknown, so BigCommerce is asked
    assert index.visible("c1:g0", sku="P-0") is None and index.visible("c1:g0", variant_id=10_000) is None
    assert index.sku_for(None, 20_000) is None
    newest = index.visible("c1:g0", variant_id=20_199)  # kept: still right after every eviction
    assert newest == KnownProduct(199, "P-199", ((10_199, "P-199-A"), (20_199, "P-199-B")))
    assert index.visible("c1:g0", sku="P-199") == newest
    assert index.sku_for(199, None) == "P-199-A" and index.sku_for(None, 20_199) == "P-199-B"
    assert len(index._by_sku) == kept and len(index._by_variant) == 2 * kept  # no entry left behind


def test_a_product_is_visible_only_to_the_scopes_shown_it_within_the_ttl() -> None:
    clock = Clock()
    index = CatalogIndex(ttl=300, clock=clock)
    index.learn("c1:g0", [seen(1)])
    clock.now += 200
    index.learn("c1:g1", [seen(1)])
    assert index.visible("c1:g2", entity_id=1) is None  # never shown to this scope
    clock.now += 150  # g0 last shown 350 s ago, g1 150 s ago
    assert index.visible("c1:g0", entity_id=1) is None
    assert index.visible("c1:g1", entity_id=1) is not None
    clock.now += 300  # the product itself is past its TTL: unknown to all
    assert index.visible("c1:g1", entity_id=1) is None and index.sku_for(1, None) is None
    assert len(index) == 0 and not index._by_sku and not index._by_variant


def test_cart_skus_keep_the_scopes_and_a_changed_variant_no_longer_leads_to_the_product() -> None:
    index = CatalogIndex(ttl=300)
    index.learn("c1:g0", [seen(1)])
    index.learn_skus(1, ((30_001, "P-1-C"),))
    assert index.visible("c1:g0", variant_id=10_001) is None  # no longer one of its variants
    assert index.visible("c1:g0", variant_id=30_001) == KnownProduct(1, "P-1", ((30_001, "P-1-C"),))
    assert index.sku_for(None, 30_001) == "P-1-C"
