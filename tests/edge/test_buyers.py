"""Buyer resolutions are remembered: one upstream call per key however many requests arrive, the old
answer while it is refreshed, and the last good one while the upstream cannot be asked."""
from __future__ import annotations

import asyncio

import pytest

from pricing_edge.bigcommerce.storefront import UpstreamUnavailable
from pricing_edge.edge.buyers import RETRY_AFTER, remembered
from pricing_edge.edge.caching.swr import SwrCache
from tests.support.polling import async_wait_until


class Upstream:
    def __init__(self) -> None:
        self.calls = 0
        self.answer = "group-1"
        self.down = False

    async def ask(self) -> str:
        self.calls += 1
        await asyncio.sleep(0.02)
        if self.down:
            raise UpstreamUnavailable("bigcommerce: down")
        return self.answer


async def test_a_burst_of_first_requests_asks_the_upstream_once() -> None:
    cache: SwrCache[str, str] = remembered(ttl=60, size=10)
    upstream = Upstream()
    answers = await asyncio.gather(*(cache.get("token", upstream.ask) for _ in range(300)))
    assert answers == ["group-1"] * 300 and upstream.calls == 1


async def test_an_expired_answer_is_given_while_one_refresh_runs() -> None:
    cache: SwrCache[str, str] = remembered(ttl=0.05, size=10)
    upstream = Upstream()
    assert await cache.get("token", upstream.ask) == "group-1"
    await asyncio.sleep(0.06)  # past the 50 ms TTL: waiting out a TTL, not polling for an outcome
    upstream.answer = "group-2"
    answers = await asyncio.gather(*(cache.get("token", upstream.ask) for _ in range(300)))
    assert answers == ["group-1"] * 300  # nobody waited for the upstream
    await async_wait_until(lambda: _is(cache.get("token", upstream.ask), "group-2"), what="the refresh")
    assert upstream.calls == 2


async def test_while_the_upstream_is_down_the_last_good_answer_stays_and_retries_are_spaced() -> None:
    cache: SwrCache[str, str] = remembered(ttl=0.05, size=10)
    upstream = Upstream()
    await cache.get("token", upstream.ask)
    await asyncio.sleep(0.06)
    upstream.down = True
    for _ in range(50):
        assert await cache.get("token", upstream.ask) == "group-1"
        await asyncio.sleep(0.001)
    assert upstream.calls == 2  # one failed refresh, not fifty


async def test_without_a_last_good_answer_an_outage_is_an_error() -> None:
    cache: SwrCache[str, str] = remembered(ttl=60, size=10)
    upstream = Upstream()
    upstream.down = True
    with pytest.raises(UpstreamUnavailable):
        await cache.get("token", upstream.ask)


async def _is(answer: object, wanted: str) -> bool:
    return bool(await answer == wanted)  # type: ignore[misc]


async def test_an_answer_whose_refresh_failed_is_known_as_last_good() -> None:
    cache: SwrCache[str, str] = remembered(ttl=0.05, size=10)
    upstream = Upstream()
    await cache.get("token", upstream.ask)
    assert not cache.failing("token")
    await asyncio.sleep(0.06)  # past the 50 ms TTL: waiting out a TTL, not polling for an outcome
    upstream.down = True
    assert await cache.get("token", upstream.ask) == "group-1"  # served while the refresh runs

    async def known_failing() -> bool:
        return cache.failing("token")

    await async_wait_until(known_failing, what="the failed refresh to be noted")
    assert not cache.failing("never-seen")
    upstream.down = False
    await asyncio.sleep(RETRY_AFTER + 0.05)  # the next refresh is spaced: waiting it out, not polling

    async def recovered() -> bool:
        await cache.get("token", upstream.ask)
        return not cache.failing("token")

    await async_wait_until(recovered, timeout=30, what="a successful refresh to clear it")
