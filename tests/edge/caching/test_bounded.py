"""The bytes-bounded LRU every catalog-sized cache uses: it evicts at its byte limit, least recently used
first, counts (and reports) each eviction, and refuses an entry larger than the whole bound."""
from __future__ import annotations

import pytest

from pricing_edge.edge.caching.bounded import BytesLRU


def test_it_evicts_the_least_recently_used_at_its_byte_limit_and_counts_them() -> None:
    evicted: list[str] = []
    cache: BytesLRU[str, bytes] = BytesLRU(1_000, len, lambda key, value: evicted.append(key))
    for i in range(10):
        assert cache.put(f"k{i}", b"x" * 100)
    assert cache.bytes == 1_000 and cache.evictions == 0
    assert cache.get("k0") == b"x" * 100  # read: now the most recently used
    assert cache.put("k10", b"y" * 250)
    assert cache.bytes <= 1_000
    assert evicted == ["k1", "k2", "k3"] and cache.evictions == 3
    assert "k0" in cache and "k10" in cache


def test_an_entry_larger_than_the_bound_is_not_kept_nor_is_what_it_replaced() -> None:
    cache: BytesLRU[str, bytes] = BytesLRU(100, len)
    assert cache.put("a", b"old")
    assert not cache.put("a", b"z" * 101)
    assert "a" not in cache and cache.bytes == 0 and cache.evictions == 0


def test_a_bound_below_one_byte_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one byte"):
        BytesLRU(0, len)
