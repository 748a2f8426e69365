"""The answer cache: exact invalidation by tag, expiry that never stalls, and kept answers that an
invalidation during their computation did not touch."""
from __future__ import annotations

import asyncio
import random

import pytest

from pricing_edge.edge.response_cache import Cached, ResponseCache, price_tag, stock_tag
from pricing_edge.edge.single_flight import SingleFlight


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body(cache: ResponseCache, key: str) -> bytes | None:
    cached = cache.get(key)
    return cached.body if cached else None


def test_an_invalidated_tag_drops_exactly_the_answers_that_used_it() -> None:
    cache = ResponseCache(ttl=60)
    cache.put("plp-wholesale", b"a", [price_tag(2, "A"), stock_tag("A")])
    cache.put("plp-retail", b"b", [price_tag(1, "A"), stock_tag("A")])
    cache.put("pdp-wholesale", b"c", [price_tag(2, "B")])
    assert cache.invalidate([price_tag(2, "A")]) == 1
    assert body(cache, "plp-wholesale") is None
    assert body(cache, "plp-retail") == b"b" and body(cache, "pdp-wholesale") == b"c"
    assert cache.invalidate([stock_tag("A")]) == 1
    assert body(cache, "plp-retail") is None and body(cache, "pdp-wholesale") == b"c"


def test_the_tag_index_stays_bounded_when_entries_are_evicted() -> None:
    cache = ResponseCache(ttl=60, size=4)
    for i in range(200):
        cache.put(str(i), b"x", [price_tag(1, f"SKU-{i}")])
    assert len(cache) == 4
    assert len(cache._by_tag) <= 8 * 4 + 1


def test_an_answer_computed_before_an_invalidation_of_its_records_is_not_kept() -> None:
    cache = ResponseCache(ttl=60)
    started = cache.generation
    cache.invalidate([price_tag(2, "A")])
    assert not cache.put("plp", b"old", [price_tag(2, "A")], generation=started)
    assert cache.get("plp") is None
    assert cache.put("plp", b"new", [price_tag(2, "A")], generation=cache.generation)


def test_an_invalidation_of_other_records_does_not_stop_an_answer_being_kept() -> None:
    cache = ResponseCache(ttl=60)
    started = cache.generation
    for i in range(50):  # a steady stream of ERP events about other SKUs
        cache.invalidate([price_tag(2, f"OTHER-{i}"), stock_tag(f"OTHER-{i}")])
    assert cache.put("plp", b"page", [price_tag(2, "A"), stock_tag("A")], generation=started)
    assert body(cache, "plp") == b"page"


def test_when_the_invalidation_log_no_longer_reaches_back_the_answer_is_not_kept() -> None:
    cache = ResponseCache(ttl=60)
    started = cache.generation
    for i in range(5000):
        cache.invalidate([price_tag(2, f"OTHER-{i}")])
    assert not cache.put("plp", b"page", [price_tag(2, "A")], generation=started)


def test_an_expired_answer_is_served_as_not_fresh_for_one_more_ttl_then_dropped() -> None:
    clock = Clock()
    cache = ResponseCache(ttl=10, clock=clock, jitter=0.0)
    cache.put("plp", b"page", [price_tag(2, "A")])
    assert cache.get("plp") == Cached(b"page", fresh=True)
    clock.now += 10.5
    assert cache.get("plp") == Cached(b"page", fresh=False)
    clock.now += 10
    assert cache.get("plp") is None


@pytest.mark.parametrize("seed", range(5))
def test_expiry_is_spread_by_jitter(seed: int) -> None:
    random.seed(seed)
    clock = Clock()
    cache = ResponseCache(ttl=10, clock=clock)
    for i in range(100):
        cache.put(str(i), b"x", [])
    clock.now += 10
    fresh = sum(1 for i in range(100) if (cached := cache.get(str(i))) and cached.fresh)
    assert 10 < fresh < 90  # some expired at 10 s, some not: not all at once


@pytest.mark.parametrize("seed", range(5))
def test_answers_whose_records_turn_stale_together_expire_spread_out_and_never_after_them(seed: int) -> None:
    """Records warmed together turn stale together; the answers built on them must not all expire at the
    same moment (each would be recomputed at once: a burst of CPU on the hit path), nor outlive them."""
    random.seed(seed)
    clock = Clock()
    cache = ResponseCache(ttl=60, clock=clock)
    for i in range(100):
        cache.put(str(i), b"x", [], lifetime=8.0)  # every record used turns stale 8 s from now
    clock.now += 7.6
    fresh = sum(1 for i in range(100) if (cached := cache.get(str(i))) and cached.fresh)
    assert 10 < fresh < 90  # some already due for a recompute, some not: not all at once
    clock.now += 0.4
    assert not any((cached := cache.get(str(i))) and cached.fresh for i in range(100))  # none past its records


async def test_concurrent_misses_for_one_answer_compute_it_once() -> None:
    flights: SingleFlight[bytes] = SingleFlight()
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return b"answer"

    answers = await asyncio.gather(*(flights.run("plp", compute) for _ in range(500)))
    assert answers == [b"answer"] * 500 and calls == 1
    assert not flights.busy("plp")


async def test_a_failed_computation_fails_every_waiter_and_the_next_call_tries_again() -> None:
    flights: SingleFlight[bytes] = SingleFlight()

    async def broken() -> bytes:
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream said no")

    results = await asyncio.gather(*(flights.run("plp", broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)

    async def works() -> bytes:
        return b"ok"

    assert await flights.run("plp", works) == b"ok"


async def test_an_answer_that_leaves_the_cache_leaves_no_refresh_backoff_behind() -> None:
    """The revalidator spaces the refreshes of an answer that did not renew; once the answer is evicted or
    dropped, that backoff is forgotten (else it would grow with every answer ever seen)."""
    clock = Clock()
    cache = ResponseCache(ttl=10, size=2, clock=clock, jitter=0.0)

    async def no_renewal() -> None:
        return None

    async def backing_off(key: str) -> None:
        clock.now += 10.5  # stale: served while one refresh runs
        assert cache.refresh(key, no_renewal)
        await asyncio.gather(*cache.revalidator.background)
        assert cache.revalidator.failing(key)

    cache.put("evicted", b"a", [price_tag(2, "A")])
    await backing_off("evicted")
    cache.put("b", b"b", [])
    cache.put("c", b"c", [])  # the least recently used goes
    assert cache.get("evicted") is None and "evicted" not in cache.revalidator.retry_at
    cache.put("invalidated", b"d", [price_tag(2, "D")])
    await backing_off("invalidated")
    cache.invalidate([price_tag(2, "D")])
    assert "invalidated" not in cache.revalidator.retry_at

    async def evicting() -> None:
        cache.put("e", b"e", [])
        cache.put("f", b"f", [])

    cache.put("gone meanwhile", b"g", [])
    clock.now += 10.5
    assert cache.refresh("gone meanwhile", evicting)
    await asyncio.gather(*cache.revalidator.background)
    assert cache.get("gone meanwhile") is None and not cache.revalidator.retry_at


def test_each_miss_says_why_there_was_no_answer_to_serve() -> None:
    from pricing_edge.edge.answer_flags import restale
    from pricing_edge.edge.holes import punch
    from tests.edge.test_holes import page

    clock, wall = Clock(), Clock()
    reasons: list[str] = []
    cache = ResponseCache(ttl=10, size=2, clock=clock, jitter=0.0, restale=restale,
                          wall_ms=lambda: int(wall.now * 1000), on_miss=reasons.append)
    assert cache.get("never") is None
    for key in ("a", "b", "c"):  # room for two: "a" is evicted
        cache.put(key, b"x", [price_tag(1, key)], lifetime=10)
    assert cache.get("a") is None and cache.get("b") is not None
    result, overlay = page()
    kept = punch(result, overlay, 7, int((wall.now + 30) * 1000))  # its catalog part ends in 30 s
    assert kept is not None
    cache.put("plp", kept.body(), [price_tag(7, "A")], lifetime=10, holes=kept)
    cache.invalidate([price_tag(7, "A")])
    assert cache.get("plp") is None  # marked: re-projected before it is served
    cache.reprojected("plp", cache.reprojectable("plp"), kept, kept.body(), 10)  # type: ignore[arg-type]
    clock.now += 21  # past its records' TTL and its stale window
    assert cache.get("plp") is None
    clock.now += 10
    assert cache.get("plp") is None  # its catalog part is over
    assert reasons == ["first", "evicted", "changed", "expired", "catalog"]
