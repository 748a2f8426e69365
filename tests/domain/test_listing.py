"""Ordering, filtering and paging a listing by the buyer's price (pure rules)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain.listing import CursorError, Member, PriceRange, arrange, page, price_range


def members(prices: dict[int, str | None]) -> list[Member]:
    return [Member(pid, rank, None if p is None else Decimal(p)) for rank, (pid, p) in enumerate(prices.items())]


def walk(ordered: list[Member], sort: str, size: int) -> list[int]:
    seen, after = [], None
    while True:
        got = page(ordered, sort, first=size, after=after)
        assert not got.changed
        seen += [m.entity_id for m in got.items]
        if not got.has_next:
            return seen
        after = got.cursors[-1]


def test_lowest_and_highest_price_order_by_the_buyers_price_ties_by_id_unknown_last() -> None:
    listed = members({5: "3.00", 1: "9.50", 2: None, 3: "3.00", 4: "0.99"})
    assert [m.entity_id for m in arrange(listed, "LOWEST_PRICE", None)] == [4, 3, 5, 1, 2]
    assert [m.entity_id for m in arrange(listed, "HIGHEST_PRICE", None)] == [1, 3, 5, 4, 2]
    assert [m.entity_id for m in arrange(listed, "RELEVANCE", None)] == [5, 1, 2, 3, 4]  # BigCommerce's order


def test_a_price_range_keeps_bounds_inclusive_and_drops_unknown_prices() -> None:
    listed = members({1: "10", 2: "20", 3: "30", 4: None})
    assert [m.entity_id for m in arrange(listed, "LOWEST_PRICE", PriceRange(Decimal(10), Decimal(20)))] == [1, 2]
    assert [m.entity_id for m in arrange(listed, None, price_range({"minPrice": 20.0}))] == [2, 3]
    assert price_range({"maxPrice": 0.1}) == PriceRange(None, Decimal("0.1"))  # the float's shortest digits


@given(st.dictionaries(st.integers(1, 10_000), st.one_of(st.none(), st.decimals("0", "500", places=2)),
                       max_size=60), st.integers(1, 7), st.sampled_from(["LOWEST_PRICE", "HIGHEST_PRICE", "FEATURED"]))
def test_paging_forward_lists_every_product_once_in_order(prices: dict[int, Decimal | None], size: int,
                                                          sort: str) -> None:
    listed = arrange([Member(pid, rank, p) for rank, (pid, p) in enumerate(prices.items())], sort, None)
    assert walk(listed, sort, size) == [m.entity_id for m in listed]


def test_paging_backward_from_a_cursor_gives_the_previous_page() -> None:
    listed = arrange(members({i: f"{i}.00" for i in range(1, 26)}), "LOWEST_PRICE", None)
    second = page(listed, "LOWEST_PRICE", first=10, after=page(listed, "LOWEST_PRICE", first=10).cursors[-1])
    back = page(listed, "LOWEST_PRICE", last=10, before=second.cursors[0])
    assert [m.entity_id for m in back.items] == list(range(1, 11))
    assert back.has_next and not back.has_previous and not back.changed
    assert second.has_previous and second.has_next and second.total == 25


def test_a_price_change_across_the_cursor_is_flagged_not_silent() -> None:
    prices: dict[int, str | None] = {i: f"{i}.00" for i in range(1, 21)}
    first = page(arrange(members(prices), "LOWEST_PRICE", None), "LOWEST_PRICE", first=10)
    prices[15] = "0.50"  # moves to the top: it would never be shown
    moved = page(arrange(members(prices), "LOWEST_PRICE", None), "LOWEST_PRICE", first=10, after=first.cursors[-1])
    assert moved.changed
    prices[15], prices[18] = "15.00", "18.50"  # moves, but stays on the same side: nothing repeats or is missed
    same_side = page(arrange(members(prices), "LOWEST_PRICE", None), "LOWEST_PRICE", first=10, after=first.cursors[-1])
    assert not same_side.changed
    assert [m.entity_id for m in same_side.items] == list(range(11, 21))


def test_foreign_or_other_sort_cursors_are_refused() -> None:
    listed = arrange(members({1: "1", 2: "2"}), "LOWEST_PRICE", None)
    cursor = page(listed, "LOWEST_PRICE", first=1).cursors[0]
    for bad in ("YXJyYXljb25uZWN0aW9uOjA=", "pe1.!!!", "pe1.e30"):
        with pytest.raises(CursorError):
            page(listed, "LOWEST_PRICE", after=bad)
    with pytest.raises(CursorError):
        page(listed, "HIGHEST_PRICE", after=cursor)


@given(st.dictionaries(st.integers(1, 10_000), st.decimals("0", "50", places=1), min_size=1, max_size=40),
       st.integers(1, 6), st.sampled_from(["LOWEST_PRICE", "HIGHEST_PRICE"]))
def test_paging_backward_from_the_end_lists_every_product_once_in_order(prices: dict[int, Decimal], size: int,
                                                                         sort: str) -> None:
    listed = arrange([Member(pid, rank, p) for rank, (pid, p) in enumerate(prices.items())], sort, None)
    end = page(listed, sort, first=len(listed))
    seen: list[int] = []
    before = end.cursors[-1]
    seen.append(end.items[-1].entity_id)
    while True:
        got = page(listed, sort, last=size, before=before)
        assert not got.changed
        seen = [m.entity_id for m in got.items] + seen
        if not got.has_previous:
            break
        before = got.cursors[0]
    assert seen == [m.entity_id for m in listed]
