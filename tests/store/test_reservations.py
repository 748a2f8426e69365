"""Reservation stores: the same suite against the embedded store and a real Redis (never a fake)."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing_edge.store.base import StoreError
from pricing_edge.store.reservations import EmbeddedReservations, RedisReservations, ReservationStore
from tests.support.polling import async_wait_until
from tests.support.redis_server import free_port


async def test_500_concurrent_reservations_for_10_units_exactly_10_succeed(reservations: ReservationStore) -> None:
    results = await asyncio.gather(*(reservations.reserve("TEN", f"cart-{i}", 1, 10) for i in range(500)))
    assert sum(results) == 10
    assert await reservations.reserved("TEN") == 10


async def test_reserve_adds_to_the_holders_hold_and_refuses_beyond_promisable(reservations: ReservationStore) -> None:
    assert await reservations.reserve("S", "a", 4, 10)
    assert await reservations.reserve("S", "a", 3, 10)
    assert await reservations.reserve("S", "b", 3, 10)
    assert not await reservations.reserve("S", "b", 1, 10)
    assert await reservations.holdings("a") == {"S": 7}
    assert await reservations.reserved("S") == 10


async def test_adjust_up_takes_only_the_difference_or_is_refused_and_down_always_works(
        reservations: ReservationStore) -> None:
    assert await reservations.reserve("S", "a", 3, 10)
    assert await reservations.reserve("S", "b", 5, 10)
    assert await reservations.adjust("S", "a", 5, 10)  # 5 + 5 = 10
    assert not await reservations.adjust("S", "a", 6, 10)
    assert await reservations.holdings("a") == {"S": 5}  # a refused raise leaves the hold as it was
    assert await reservations.adjust("S", "b", 1, 0)  # lowering works even when stock has vanished
    assert await reservations.reserved("S") == 6
    assert await reservations.adjust("S", "a", 0, 10)
    assert await reservations.holdings("a") == {}


async def test_unbounded_promisable_records_but_never_refuses(reservations: ReservationStore) -> None:
    assert await reservations.reserve("B", "a", 10_000, None)
    assert await reservations.adjust("B", "a", 20_000, None)
    assert await reservations.reserved("B") == 20_000


async def test_release_all_or_part(reservations: ReservationStore) -> None:
    await reservations.reserve("S", "a", 5, 10)
    await reservations.release("S", "a", 2)
    assert await reservations.reserved("S") == 3
    await reservations.release("S", "a", 7)
    assert await reservations.reserved("S") == 0
    await reservations.reserve("S", "a", 4, 10)
    await reservations.release("S", "a")
    assert await reservations.holdings("a") == {}
    await reservations.release("S", "nobody")  # releasing nothing is harmless


async def test_release_holder_drops_a_whole_cart(reservations: ReservationStore) -> None:
    for sku in ("X", "Y", "Z"):
        assert await reservations.reserve(sku, "cart", 2, 10)
    await reservations.reserve("X", "other", 1, 10)
    await reservations.release_holder("cart")
    assert await reservations.holdings("cart") == {}
    assert await reservations.reserved_many(["X", "Y", "Z"]) == {"X": 1, "Y": 0, "Z": 0}


async def test_consume_returns_and_releases_the_holds(reservations: ReservationStore) -> None:
    await reservations.reserve("X", "cart", 2, 10)
    await reservations.reserve("Y", "cart", 1, 10)
    assert await reservations.consume("cart") == {"X": 2, "Y": 1}
    assert await reservations.reserved_many(["X", "Y"]) == {"X": 0, "Y": 0}
    assert await reservations.consume("cart") == {}


async def test_rename_holder_moves_and_merges_holds(reservations: ReservationStore) -> None:
    await reservations.reserve("X", "provisional:1", 2, 10)
    await reservations.reserve("Y", "provisional:1", 3, 10)
    await reservations.reserve("X", "cart-9", 1, 10)
    await reservations.rename_holder("provisional:1", "cart-9")
    assert await reservations.holdings("provisional:1") == {}
    assert await reservations.holdings("cart-9") == {"X": 3, "Y": 3}
    assert await reservations.reserved("X") == 3
    await reservations.release_holder("cart-9")
    assert await reservations.reserved_many(["X", "Y"]) == {"X": 0, "Y": 0}


async def test_expired_holds_stop_counting_without_a_sweeper(reservations: ReservationStore) -> None:
    assert await reservations.reserve("S", "short", 6, 10, ttl_seconds=0.3)
    assert await reservations.reserve("S", "long", 4, 10, ttl_seconds=600)
    assert not await reservations.reserve("S", "new", 6, 10)

    async def freed() -> bool:
        return await reservations.reserved("S") == 4

    await async_wait_until(freed, timeout=10, what="the short hold to expire")
    assert await reservations.holdings("short") == {}
    assert await reservations.reserve("S", "new", 6, 10)
    assert await reservations.holdings("long") == {"S": 4}


async def test_redis_keys_vanish_after_the_last_hold_expires(redis_url: str, redis_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    store = RedisReservations(client, redis_prefix)  # a client given is used, not closed
    try:
        assert await store.reserve("S", "cart", 1, 5, ttl_seconds=0.2)
        assert await client.keys(f"{redis_prefix}*")

        async def gone() -> bool:
            return not await client.keys(f"{redis_prefix}*")

        await async_wait_until(gone, timeout=15, what="reservation keys to expire")
    finally:
        await store.aclose()
        await client.aclose()


async def test_redis_unreachable_is_a_store_error() -> None:
    store = RedisReservations(f"redis://127.0.0.1:{free_port()}/0", "pe-test:", socket_timeout=0.5)
    try:
        with pytest.raises(StoreError):
            await store.reserve("S", "cart", 1, 10)
        with pytest.raises(StoreError):
            await store.reserved("S")
    finally:
        await store.aclose()


async def test_negative_quantities_are_a_programming_error(reservations: ReservationStore) -> None:
    with pytest.raises(ValueError):
        await reservations.reserve("S", "a", -1, 10)


ops = st.lists(st.tuples(st.sampled_from(["reserve", "adjust", "release", "release_holder"]),
                         st.sampled_from(["a", "b", "c"]), st.integers(0, 8)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 20), ops)
def test_property_holds_never_exceed_promisable(bound: int, steps: list[tuple[str, str, int]]) -> None:
    async def run() -> None:
        store = EmbeddedReservations()
        for op, holder, quantity in steps:
            if op == "reserve":
                await store.reserve("S", holder, quantity, bound)
            elif op == "adjust":
                await store.adjust("S", holder, quantity, bound)
            elif op == "release":
                await store.release("S", holder, quantity)
            else:
                await store.release_holder(holder)
            assert 0 <= await store.reserved("S") <= bound

    asyncio.run(run())
