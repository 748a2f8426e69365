"""A kept answer's catalog part is renewed ahead of its end (issue 20: the full bench's max-rate stall): answers
computed together — a warm — are due apart, each in the last share of its catalog part's life, and served as
kept meanwhile; only an answer nobody asked for in that window reaches its end and is computed anew."""
from __future__ import annotations

import asyncio
import random

import pytest

from pricing_edge.edge.answer_flags import restale
from pricing_edge.edge.holes import punch
from pricing_edge.edge.response_cache import CATALOG_AHEAD, CATALOG_AHEAD_LEAST, ResponseCache, price_tag
from tests.edge.test_holes import page
from tests.edge.test_response_cache import Clock

CATALOG_S = 300.0
ANSWERS = 200


def warmed_together() -> tuple[ResponseCache, Clock]:
    """``ANSWERS`` answers kept at once from catalog parts that end together, 300 s from now; their records are
    renewed long before (a lifetime of the whole catalog part: only the catalog part is due here)."""
    clock = Clock()
    cache = ResponseCache(ttl=CATALOG_S, clock=clock, jitter=0.0, restale=restale,
                          wall_ms=lambda: int(clock.now * 1000))
    for n in range(ANSWERS):
        result, overlay = page()
        kept = punch(result, overlay, 7, int((clock.now + CATALOG_S) * 1000))
        assert kept is not None
        assert cache.put(f"plp-{n}", kept.body(), [price_tag(7, "A")], lifetime=CATALOG_S, holes=kept)
    return cache, clock


def catalog_due(cache: ResponseCache) -> list[bool]:
    found = [cache.get(f"plp-{n}") for n in range(ANSWERS)]
    assert all(cached is not None for cached in found), "an answer was dropped before its catalog part ended"
    return [cached.catalog_due and cached.due for cached in found if cached is not None]


@pytest.mark.parametrize("seed", range(3))
def test_answers_kept_together_are_due_for_their_catalog_part_apart_and_before_its_end(seed: int) -> None:
    random.seed(seed)
    cache, clock = warmed_together()
    first = CATALOG_S * (1 - CATALOG_AHEAD)  # the earliest point any is due at
    last = CATALOG_S * (1 - CATALOG_AHEAD * CATALOG_AHEAD_LEAST)  # the latest
    clock.now += first - 0.01
    assert not any(catalog_due(cache))  # served as kept, nothing to renew yet
    clock.now += (last - first) / 2
    due = sum(catalog_due(cache))
    assert 0.2 * ANSWERS < due < 0.8 * ANSWERS  # spread over the window: not all at once
    clock.now = 1000.0 + last + 0.01
    assert all(catalog_due(cache))  # every one, still served, before its catalog part ends
    clock.now = 1000.0 + CATALOG_S
    assert cache.get("plp-0") is None and cache.reprojectable("plp-1") is None  # over: computed anew


def test_a_renewal_that_did_not_renew_the_catalog_part_is_spaced_and_one_that_did_clears_it() -> None:
    cache, clock = warmed_together()
    clock.now += CATALOG_S * (1 - CATALOG_AHEAD * CATALOG_AHEAD_LEAST) + 0.01
    renewals: list[str] = []

    async def not_renewed() -> None:
        renewals.append("asked")  # e.g. BigCommerce unreachable: the kept answer stands as it was

    async def twice() -> tuple[bool, bool]:
        first = cache.refresh("plp-0", not_renewed)
        await asyncio.gather(*cache.revalidator.background)
        return first, cache.refresh("plp-0", not_renewed)

    started, again = asyncio.run(twice())
    assert started and not again and renewals == ["asked"]  # spaced: not asked again at once
    result, overlay = page()
    renewed = punch(result, overlay, 7, int((clock.now + CATALOG_S) * 1000))  # a new catalog part
    assert renewed is not None
    assert cache.put("plp-0", renewed.body(), [price_tag(7, "A")], lifetime=CATALOG_S, holes=renewed)
    cached = cache.get("plp-0")
    assert cached is not None and not cached.catalog_due and not cached.due

