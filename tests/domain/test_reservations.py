"""Available-to-promise and the conservative stock rules: unit tests and invariants."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.reservations import (
    NOT_ENOUGH_STOCK, KnownStock, available_to_promise, available_to_show, backorder_lead_time_days, can_reserve,
    not_enough_stock_message, promisable, redis_down_allows, redis_down_limit,
)

# The dataset's "exactly ten available" SKU: (8 − 2) + (5 − 1) + 0 over three warehouses.
TEN = [StockLevel("TEN", 1, 8, allocated=2), StockLevel("TEN", 2, 5, safety_stock=1), StockLevel("TEN", 3, 0)]


def test_atp_is_stock_less_allocated_safety_and_reservations_summed_over_locations() -> None:
    assert promisable(TEN) == 10
    assert available_to_promise(TEN, reserved=3) == 7


def test_one_locations_deficit_does_not_eat_another_locations_stock() -> None:
    levels = [StockLevel("A", 1, 2, allocated=5), StockLevel("A", 2, 4)]
    assert available_to_promise(levels, reserved=0) == 4


def test_atp_is_never_negative() -> None:
    assert available_to_promise(TEN, reserved=25) == 0


def test_backorder_is_unbounded_and_lead_time_only_informs() -> None:
    levels = [StockLevel("B", 1, 0), StockLevel("B", 2, 1, backorder=True, lead_time_days=9),
              StockLevel("B", 3, 0, backorder=True, lead_time_days=4)]
    assert promisable(levels) is None
    assert available_to_promise(levels, reserved=1000) is None
    assert can_reserve(levels, reserved=1000, quantity=50)
    assert backorder_lead_time_days(levels) == 4
    assert available_to_show(levels, reserved=0) == 1  # a display still shows stock, not the promise


def test_stale_stock_is_never_more_than_last_known_minus_reservations_even_with_backorder() -> None:
    levels = [StockLevel("B", 1, 6, backorder=True)]
    assert promisable(levels, stale=True) == 6
    assert available_to_promise(levels, reserved=2, stale=True) == 4
    assert not can_reserve(levels, reserved=2, quantity=5, stale=True)
    assert KnownStock.of(levels, stale=True).stale
    assert KnownStock.of(KnownStock(tuple(levels), True)).stale


def test_can_reserve_up_to_atp_and_not_beyond() -> None:
    assert can_reserve(TEN, reserved=7, quantity=3)
    assert not can_reserve(TEN, reserved=7, quantity=4)


def test_redis_down_rule_needs_the_factor_times_the_quantity() -> None:
    assert redis_down_limit(TEN) == 2  # ⌊10 / 5⌋
    assert redis_down_allows(TEN, 2)
    assert not redis_down_allows(TEN, 3)
    assert redis_down_allows(TEN, 5, factor=2)
    assert redis_down_allows(TEN, 10, factor=0.5)  # never looser than the stock itself
    assert not redis_down_allows(TEN, 11, factor=0.5)


def test_redis_down_rule_passes_fresh_backorder_but_not_stale_backorder() -> None:
    levels = [StockLevel("B", 1, 5, backorder=True)]
    assert redis_down_allows(levels, 100)
    assert redis_down_allows(levels, 1, stale=True)
    assert not redis_down_allows(levels, 2, stale=True)


def test_refusal_message_starts_with_bigcommerces_prefix() -> None:
    assert not_enough_stock_message("TEN", 4, name="Drill") == "Not enough stock: Drill (TEN) is limited to 4 units."
    assert not_enough_stock_message("TEN", 0).startswith(NOT_ENOUGH_STOCK)
    assert not_enough_stock_message("TEN", -3) == "Not enough stock: TEN is out of stock."


levels_strategy = st.lists(
    st.builds(StockLevel, sku=st.just("S"), location_id=st.integers(1, 5), on_hand=st.integers(-50, 200),
              allocated=st.integers(-5, 200), safety_stock=st.integers(0, 50), backorder=st.booleans()),
    max_size=5)


@given(levels_strategy, st.integers(-10, 500), st.booleans())
def test_property_atp_never_negative(levels: list[StockLevel], reserved: int, stale: bool) -> None:
    atp = available_to_promise(levels, reserved, stale=stale)
    assert atp is None or atp >= 0
    assert available_to_show(levels, reserved) >= 0
    if stale:  # never more than last known minus reservations
        assert atp is not None and atp <= max(0, sum(level.available_to_sell for level in levels) - max(0, reserved))


@given(levels_strategy, st.lists(st.tuples(st.sampled_from(["reserve", "release"]), st.integers(1, 40)),
                                 max_size=60), st.booleans())
def test_property_reservations_never_exceed_what_was_promisable(
        levels: list[StockLevel], ops: list[tuple[str, int]], stale: bool) -> None:
    """A ledger that only ever grows through ``can_reserve`` stays within the promisable bound."""
    bound = promisable(levels, stale=stale)
    reserved = 0
    for op, quantity in ops:
        if op == "reserve":
            if can_reserve(levels, reserved, quantity, stale=stale):
                reserved += quantity
        else:
            reserved = max(0, reserved - quantity)
        assert bound is None or reserved <= bound


def test_stale_stock_is_shown_less_the_live_reservations() -> None:
    from pricing_edge.domain.reservations import available_to_show, less_reservations

    levels = [StockLevel("A", 1, 8, allocated=2), StockLevel("A", 2, 5, safety_stock=1)]
    shown = less_reservations(levels, 7)
    assert sum(level.available_to_sell for level in shown) == available_to_show(levels, 7) == 3
    assert sum(level.available_to_sell for level in less_reservations(levels, 99)) == 0
