"""The memory-bounded L1: the bound holds under inserts beyond it, the least recently used go first,
bytes are counted per kind."""
from __future__ import annotations

import sys
import tracemalloc
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord
from pricing_edge.edge.caching.l1 import ENTRY_OVERHEAD, L1, estimate


def price(i: int) -> PriceRecord:
    return PriceRecord(1, f"SKU-{i:06d}", "USD", Decimal("12.50") + i, Decimal("11.00") + i,
                       bulk_tiers=(BulkTier(5, None, Decimal("10.00") + i),), version=1_733_390_000_000 + i)


def test_the_bound_holds_under_inserts_beyond_it_and_the_oldest_go_first() -> None:
    l1 = L1(max_bytes=100_000)
    prices = l1.section("price")
    for i in range(5_000):
        prices[("1", "USD", f"SKU-{i}")] = price(i)
        assert l1.bytes() <= 100_000
    assert 0 < len(prices) < 5_000 and l1.evictions == 5_000 - len(prices)
    assert ("1", "USD", "SKU-4999") in prices and ("1", "USD", "SKU-0") not in prices
    assert l1.bytes("price") == l1.bytes()


def test_a_read_keeps_an_entry_and_the_kinds_share_one_bound() -> None:
    l1 = L1(max_bytes=20_000)
    prices, stock = l1.section("price"), l1.section("stock")
    prices["first"] = price(0)
    for i in range(200):
        assert prices.get("first") is not None  # read every time: the most recently used
        stock[f"SKU-{i}"] = {1: StockLevel(f"SKU-{i}", 1, i)}
    assert "first" in prices and len(stock) < 200
    assert l1.bytes("price") + l1.bytes("stock") == l1.bytes() <= 20_000


def test_replacing_dropping_and_clearing_keep_the_count_right() -> None:
    l1 = L1(max_bytes=1_000_000)
    prices, stock = l1.section("price"), l1.section("stock")
    prices["a"] = price(1)
    prices["a"] = price(2)
    stock["a"] = {1: StockLevel("a", 1, 3)}
    assert len(prices) == 1 and prices["a"] == price(2)
    assert prices.pop("a") == price(2) and prices.pop("a", None) is None and "a" in stock
    prices["b"] = price(3)
    prices.clear()
    assert len(prices) == 0 and l1.bytes("price") == 0 and l1.bytes() == l1.bytes("stock") > 0
    with pytest.raises(KeyError):
        del prices["b"]
    with pytest.raises(ValueError, match="at least one byte"):
        L1(max_bytes=0)


def test_the_estimate_errs_high_against_what_python_really_allocates() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        records = [price(i) for i in range(2_000)]
        used = (tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(records)) / len(records)
    finally:
        tracemalloc.stop()
    estimated = sum(estimate(r) for r in records) / len(records)
    assert used <= estimated <= 2 * used
    assert estimate(None) == 0 and ENTRY_OVERHEAD > 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["price", "stock"]), st.integers(0, 300), st.booleans()), max_size=400),
       st.integers(2_000, 50_000))
def test_the_bytes_counted_are_the_bytes_held(operations: list[tuple[str, int, bool]], bound: int) -> None:
    l1 = L1(max_bytes=bound)
    sections = {kind: l1.section(kind) for kind in ("price", "stock")}
    for kind, key, insert in operations:
        if insert:
            sections[kind][key] = price(key)
        else:
            sections[kind].pop(key, None)
        assert l1.bytes() <= bound
    for kind, section in sections.items():
        assert l1.bytes(kind) == sum(ENTRY_OVERHEAD + estimate(k) + estimate(section[k]) for k in list(section))
