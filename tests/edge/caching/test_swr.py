"""The stale-while-revalidate primitive: fresh, refresh-ahead, stale served while one refresh runs,
expired read through, backoff after failures, single-flight per key — on a clock the test moves."""
from __future__ import annotations

import asyncio

import pytest

from pricing_edge.edge.caching.swr import Freshness, Policy, Revalidator, SwrCache, fixed_delay
from tests.support.polling import async_wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    def __init__(self) -> None:
        self.calls = 0
        self.value = "v1"
        self.down = False
        self.release = asyncio.Event()
        self.release.set()

    async def read(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.down:
            raise ConnectionError("source down")
        return self.value


def test_the_policy_judges_an_entry_by_its_age() -> None:
    policy = Policy(ttl=10, ahead=0.8, usable_for=5)
    assert [policy.judge(age) for age in (0, 7.99, 8, 9.99, 10, 14.99, 15)] == [
        Freshness.FRESH, Freshness.FRESH, Freshness.AHEAD, Freshness.AHEAD, Freshness.STALE, Freshness.STALE,
        Freshness.EXPIRED]
    assert policy.judge(3, ttl=2) is Freshness.STALE  # an entry's own TTL wins
    assert not policy.due(7.9) and policy.due(8) and not policy.stale(9.9) and policy.stale(10)
    with pytest.raises(ValueError, match="fraction"):
        Policy(ttl=10, ahead=0)


async def test_a_burst_of_misses_computes_once() -> None:
    cache: SwrCache[str, str] = SwrCache(Policy(ttl=60))
    source = Source()
    source.release.clear()
    waiting = [asyncio.ensure_future(cache.get("k", source.read)) for _ in range(100)]
    await asyncio.sleep(0)
    source.release.set()
    assert await asyncio.gather(*waiting) == ["v1"] * 100 and source.calls == 1


async def test_fresh_is_served_without_a_call_and_ahead_refreshes_once_in_the_background() -> None:
    clock = Clock()
    cache: SwrCache[str, str] = SwrCache(Policy(ttl=10, ahead=0.8), clock=clock)
    source = Source()
    await cache.get("k", source.read)
    clock.now += 7
    assert await cache.get("k", source.read) == "v1" and source.calls == 1
    clock.now += 1  # 80% of the TTL: due ahead
    source.value, source.release = "v2", asyncio.Event()
    answers = [await cache.get("k", source.read) for _ in range(50)]
    assert answers == ["v1"] * 50  # nobody waits for the refresh
    source.release.set()
    await async_wait_until(lambda: _value(cache, "k", "v2"), what="the refresh to land")
    assert source.calls == 2
    assert cache.peek("k") == ("v2", Freshness.FRESH)


async def test_stale_is_served_and_expired_is_read_through() -> None:
    clock = Clock()
    cache: SwrCache[str, str] = SwrCache(Policy(ttl=10, usable_for=5), clock=clock)
    source = Source()
    await cache.get("k", source.read)
    clock.now += 20  # past TTL + usable_for
    source.value = "v2"
    assert cache.peek("k") is None
    assert await cache.get("k", source.read) == "v2" and source.calls == 2


async def test_failures_keep_the_last_good_value_and_space_the_retries() -> None:
    clock = Clock()
    cache: SwrCache[str, str] = SwrCache(Policy(ttl=10), clock=clock, retry_delay=fixed_delay(5.0),
                                         errors=(ConnectionError,))
    source = Source()
    await cache.get("k", source.read)
    clock.now += 11
    source.down = True
    assert await cache.get("k", source.read) == "v1"
    await async_wait_until(lambda: _failing(cache, "k"), what="the failed refresh to be noted")
    for _ in range(20):
        assert await cache.get("k", source.read) == "v1"
        await asyncio.sleep(0)
    assert source.calls == 2  # one failed refresh, not twenty
    source.down = False
    clock.now += 5  # the backoff has passed
    assert await cache.get("k", source.read) == "v1"
    await async_wait_until(lambda: _value(cache, "k", "v1", fresh=True), what="the next refresh")
    assert not cache.failing("k") and source.calls == 3


async def test_without_a_last_good_value_a_failure_is_the_callers() -> None:
    cache: SwrCache[str, str] = SwrCache(Policy(ttl=10), errors=(ConnectionError,))
    source = Source()
    source.down = True
    with pytest.raises(ConnectionError):
        await cache.get("k", source.read)
    assert not cache.failing("k") and not cache.knows("k")


async def test_an_entry_can_carry_its_own_ttl_and_be_forgotten() -> None:
    clock = Clock()
    cache: SwrCache[str, str] = SwrCache(Policy(ttl=60), clock=clock)
    cache.put("k", "short", ttl=1)
    clock.now += 2
    assert cache.peek("k") == ("short", Freshness.STALE)
    cache.forget("k")
    assert cache.peek("k") is None and len(cache) == 0


async def test_the_revalidator_refreshes_a_batch_once_per_key_and_backs_off_the_failed_ones() -> None:
    now = Clock()
    revalidator: Revalidator[str] = Revalidator(fixed_delay(3.0), now=now)
    asked: list[list[str]] = []
    gate = asyncio.Event()

    async def refresh(keys: list[str]) -> set[str]:
        asked.append(keys)
        await gate.wait()
        return {"a"}

    assert revalidator.start(["a", "b"], refresh) == ["a", "b"]
    assert revalidator.start(["a", "b", "c"], refresh) == ["c"]  # a and b are already being refreshed
    gate.set()
    await asyncio.gather(*revalidator.background)
    assert asked == [["a", "b"], ["c"]]
    assert not revalidator.failing("a") and revalidator.failing("b") and revalidator.failing("c")
    assert revalidator.due(["a", "b", "c"]) == ["a"]
    now.now += 3
    assert revalidator.due(["a", "b", "c"]) == ["a", "b", "c"]
    revalidator.forgive()
    assert not revalidator.failing("b")


async def test_a_refresh_that_raises_counts_as_failed_for_every_key() -> None:
    revalidator: Revalidator[str] = Revalidator(fixed_delay(3.0))

    async def refresh(keys: list[str]) -> set[str]:
        raise RuntimeError("boom")

    assert await revalidator.run(["a", "b"], refresh) == ["a", "b"]
    assert revalidator.failing("a") and revalidator.failing("b") and not revalidator.refreshing


async def _value(cache: SwrCache[str, str], key: str, wanted: str, fresh: bool = False) -> bool:
    held = cache.peek(key)
    return held is not None and held[0] == wanted and (not fresh or held[1] is Freshness.FRESH)


async def _failing(cache: SwrCache[str, str], key: str) -> bool:
    return cache.failing(key)


async def test_a_computed_value_can_say_its_own_ttl() -> None:
    clock = Clock()
    cache: SwrCache[str, tuple[str, float]] = SwrCache(Policy(ttl=60), clock=clock, ttl_of=lambda v: v[1])

    async def compute() -> tuple[str, float]:
        return ("answer", 2.0)

    await cache.get("k", compute)
    clock.now += 2
    assert cache.peek("k") == (("answer", 2.0), Freshness.STALE)
