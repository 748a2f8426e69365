"""Answers kept as bytes with holes (issue 20): the bytes are the answer's, each hole is one owned field (or
the flags), an invalidation marks the holes its records feed instead of dropping the answer, and a marked
answer is never served until it is re-projected."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from pricing_edge.edge.answer_flags import restale
from pricing_edge.edge.holes import Holes, punch
from pricing_edge.edge.overlay import Needs, Site
from pricing_edge.edge.response_cache import AHEAD, ResponseCache, price_tag, stock_tag
from pricing_edge.jsonio import dumps
from tests.edge.test_response_cache import Clock


def page() -> tuple[dict[str, Any], Any]:
    """An answer as the overlay leaves it: two products, each with an owned ``prices`` and ``inventory``."""
    a: dict[str, Any] = {"name": "\x00pe-not-a-hole-0\x00", "prices": {"price": {"value": 1}}, "inventory": {"n": 3}}
    b: dict[str, Any] = {"name": "B", "prices": {"price": {"value": 2}}, "inventory": {"n": 0}}
    result = {"data": {"site": {"products": [a, b]}},
              "extensions": {"pricingEdge": {"stale": False, "asOf": "2026-12-05T00:00:00.000Z", "degraded": []}}}
    sites = [site(a, "prices", ("A", "A-2")), site(a, "inventory", ("A",)), site(b, "prices", ("B",)),
             site(b, "inventory", ("B",))]
    collector = SimpleNamespace(schema=None, fragments={}, variables=None, memo={}, shares_memo=False)
    return result, SimpleNamespace(sites=sites, schema=None, collector=collector, default_currency="USD", needs=Needs(),
                                   extension_fields=frozenset(), records_only=False)


def site(out: dict[str, Any], name: str, skus: tuple[str, ...]) -> Site:
    return Site(out, name, "Product", name, [], out[name], skus, "USD", False)


def holes() -> Holes:
    result, overlay = page()
    punched = punch(result, overlay, 7, 10**15)
    assert punched is not None
    return punched


def test_the_bytes_with_holes_are_the_answers_bytes_and_the_answer_is_left_as_it_was() -> None:
    result, overlay = page()
    before = dumps(result)
    punched = punch(result, overlay, 7, 10**15)
    assert punched is not None
    assert punched.body() == before and dumps(result) == before
    assert punched.sites_for([price_tag(7, "A-2")]) == {0}
    assert punched.sites_for([stock_tag("B"), price_tag(7, "A")]) == {0, 3}
    assert punched.sites_for([price_tag(8, "A")]) is None  # another price list's: not this answer's record
    changed = punched.with_values({2: b'{"price":{"value":9}}', punched.flags_hole: b'{"stale":true}'})
    result["data"]["site"]["products"][1]["prices"] = {"price": {"value": 9}}
    result["extensions"]["pricingEdge"] = {"stale": True}
    assert changed.body() == dumps(result)
    assert punched.body() == before  # the kept one is untouched


def cache_with_holes(clock: Clock) -> tuple[ResponseCache, Holes]:
    cache = ResponseCache(ttl=10, clock=clock, jitter=0.0, restale=restale)
    kept = holes()
    tags = [price_tag(7, "A"), price_tag(7, "A-2"), stock_tag("A"), price_tag(7, "B"), stock_tag("B")]
    assert cache.put("plp", kept.body(), tags, lifetime=10, holes=kept)
    return cache, kept


def test_an_invalidation_marks_the_holes_and_the_answer_is_not_served_until_reprojected() -> None:
    clock = Clock()
    cache, kept = cache_with_holes(clock)
    assert cache.invalidate([stock_tag("B")]) == 1
    assert cache.invalidate([price_tag(7, "A")]) == 1
    assert cache.get("plp") is None  # its old bytes hold a replaced value
    began = cache.reprojectable("plp")
    assert began is not None and began.dirty == {3, 0} and began.holes is kept  # two events, one re-projection
    patched = kept.with_values({3: b'{"n":1}'})
    assert cache.reprojected("plp", began, patched, patched.body(), lifetime=10)
    served = cache.get("plp")
    assert served is not None and served.fresh and served.body == patched.body()
    again = cache.reprojectable("plp")
    assert again is not None and not again.dirty
    assert cache.invalidate([stock_tag("B")]) == 1  # the tag index still knows it
    assert cache.get("plp") is None


def test_a_reprojection_that_an_invalidation_overtook_is_kept_but_not_served_until_reprojected_again() -> None:
    clock = Clock()
    cache, kept = cache_with_holes(clock)
    cache.invalidate([stock_tag("A"), stock_tag("B")])
    began = cache.reprojectable("plp")
    assert began is not None and began.dirty == {1, 3}
    assert cache.get("plp") is None  # not while it is being re-projected
    cache.invalidate([stock_tag("A")])  # meanwhile: the re-projection may have read the replaced record
    assert cache.reprojected("plp", began, kept, kept.body(), lifetime=10)
    assert cache.get("plp") is None
    again = cache.reprojectable("plp")
    assert again is not None and again.dirty == {1}  # only what changed meanwhile


def test_an_abandoned_reprojection_leaves_its_sites_dirty() -> None:
    clock = Clock()
    cache, _ = cache_with_holes(clock)
    cache.invalidate([price_tag(7, "B")])
    began = cache.reprojectable("plp")
    assert began is not None
    cache.abandon("plp", began)
    assert cache.get("plp") is None
    again = cache.reprojectable("plp")
    assert again is not None and again.dirty == {2}


def test_a_stale_reprojection_keeps_a_changed_answers_holes_but_not_its_bytes() -> None:
    clock = Clock()
    cache, kept = cache_with_holes(clock)
    began = cache.reprojectable("plp")
    assert began is not None
    assert not cache.reprojected("plp", began, kept, b"stale", lifetime=None)
    assert cache.get("plp") is not None  # unchanged: its bytes stand
    cache.invalidate([price_tag(7, "B")])
    began = cache.reprojectable("plp")
    assert began is not None and began.dirty == {2}
    patched = kept.with_values({2: b'{"price":{"value":9}}'})
    assert not cache.reprojected("plp", began, patched, b"stale", lifetime=None)
    assert cache.get("plp") is None  # its records are not fresh: never served as kept
    again = cache.reprojectable("plp")
    assert again is not None and again.holes is patched and again.dirty == frozenset()  # every site, next time
    renewed = patched.with_values({})
    assert cache.reprojected("plp", again, renewed, renewed.body(), lifetime=10)
    served = cache.get("plp")
    assert served is not None and served.fresh and served.body == renewed.body()


def test_an_answer_with_holes_outlives_its_records_and_is_reprojected_whole_on_the_next_request() -> None:
    clock = Clock()
    cache, kept = cache_with_holes(clock)
    clock.now += 10 + 10  # past its records' TTL, and the one more TTL it is served flagged
    assert cache.get("plp") is None and len(cache) == 1  # not served as it is, but kept
    began = cache.reprojectable("plp")
    assert began is not None and began.holes is kept and began.dirty == frozenset()  # every record looked up
    assert cache.get("plp") is None  # not while it is being re-projected
    renewed = kept.with_values({1: b'{"n":2}'})
    assert cache.reprojected("plp", began, renewed, renewed.body(), lifetime=10)
    served = cache.get("plp")
    assert served is not None and served.fresh and served.body == renewed.body()
    assert cache.invalidate([stock_tag("A")]) == 1  # an invalidation still marks it
    assert cache.get("plp") is None
    marked = cache.reprojectable("plp")
    assert marked is not None and marked.dirty == {1}


def test_an_answer_without_holes_is_dropped_once_expired() -> None:
    clock = Clock()
    cache = ResponseCache(ttl=10, clock=clock, jitter=0.0)
    cache.put("plp", b"page", [price_tag(7, "A")], lifetime=10)
    clock.now += 20
    assert cache.get("plp") is None and len(cache) == 0 and cache.reprojectable("plp") is None


def test_an_answer_whose_catalog_part_ended_is_dropped_and_computed_anew() -> None:
    clock, wall = Clock(), Clock()
    cache = ResponseCache(ttl=10, clock=clock, jitter=0.0, restale=restale, wall_ms=lambda: int(wall.now * 1000))
    result, overlay = page()
    kept = punch(result, overlay, 7, int((wall.now + 30) * 1000))  # its skeleton is good for 30 s more
    assert kept is not None
    assert cache.put("plp", kept.body(), [price_tag(7, "A")], lifetime=10, holes=kept)
    clock.now += 29
    assert cache.reprojectable("plp") is not None  # past its records, within its catalog part: re-projected
    clock.now += 1
    assert cache.reprojectable("plp") is None and cache.get("plp") is None and len(cache) == 0
    late = punch(result, overlay, 7, int(wall.now * 1000))  # from a skeleton already over: kept whole
    assert late is not None
    assert cache.put("plp", late.body(), [price_tag(7, "A")], lifetime=10, holes=late)
    assert cache.reprojectable("plp") is None and cache.get("plp") is not None


def test_a_tag_no_hole_is_fed_by_drops_the_answer() -> None:
    clock = Clock()
    cache = ResponseCache(ttl=10, clock=clock, jitter=0.0)
    kept = holes()
    cache.put("plp", kept.body(), [price_tag(7, "A"), ("listing", 1)], lifetime=10, holes=kept)
    assert cache.invalidate([("listing", 1)]) == 1
    assert cache.reprojectable("plp") is None


def test_a_kept_answer_is_due_in_the_last_part_of_its_lifetime() -> None:
    clock = Clock()
    cache, _ = cache_with_holes(clock)
    fresh = cache.get("plp")
    assert fresh is not None and fresh.fresh and not fresh.due
    clock.now += 10 * (1 - AHEAD)
    due = cache.get("plp")
    assert due is not None and due.fresh and due.due
    clock.now += 10 * AHEAD
    expired = cache.get("plp")
    assert expired is not None and not expired.fresh and expired.stale  # past its lifetime: flagged


async def test_refreshes_run_one_at_a_time_and_are_spaced_after_one_that_did_not_renew() -> None:
    clock = Clock()
    cache, kept = cache_with_holes(clock)
    clock.now += 10 * (1 - AHEAD)
    release = asyncio.Event()
    runs: list[str] = []

    async def no_renewal() -> None:
        runs.append("ran")
        await release.wait()

    assert cache.refresh("plp", no_renewal)
    assert not cache.refresh("plp", no_renewal)  # one at a time
    release.set()
    await asyncio.gather(*cache.revalidator.background)
    assert runs == ["ran"]
    assert not cache.refresh("plp", no_renewal)  # it did not renew the answer: spaced
    clock.now += 10 * AHEAD / 4

    async def renewal() -> None:
        began = cache.reprojectable("plp")
        assert began is not None
        cache.reprojected("plp", began, kept, kept.body(), lifetime=10)

    assert cache.refresh("plp", renewal)
    await asyncio.gather(*cache.revalidator.background)
    assert cache.refresh("plp", renewal)  # renewed: due normally again
    await asyncio.gather(*cache.revalidator.background)
    renewed = cache.get("plp")
    assert renewed is not None and renewed.fresh and not renewed.due


def test_the_cache_holds_to_its_memory_bound_least_recently_used_first() -> None:
    kept = holes()
    one = len(kept.body())
    cache = ResponseCache(ttl=10, jitter=0.0, max_bytes=50 * one)
    for n in range(10):
        assert cache.put(f"plp-{n}", kept.body(), [price_tag(7, "A")], lifetime=10, holes=kept)
    assert 0 < len(cache) < 10  # an answer with holes takes more than its bytes, and the bound holds
    assert cache.get("plp-9") is not None and cache.get("plp-0") is None  # the least recently used went first
    assert not cache.put("huge", b"x" * 50 * one, [])  # larger than the whole bound: not kept


def test_an_answer_with_holes_overtaken_while_computed_is_kept_with_the_touched_sites_dirty() -> None:
    cache = ResponseCache(ttl=10, clock=Clock(), jitter=0.0, restale=restale)
    kept = holes()
    tags = [price_tag(7, "A"), price_tag(7, "A-2"), stock_tag("A"), price_tag(7, "B"), stock_tag("B")]
    started = cache.generation
    cache.invalidate([stock_tag("B")])  # while it was computed: its site 3 may hold the replaced value
    cache.invalidate([price_tag(7, "OTHER")])
    assert cache.put("plp", kept.body(), tags, generation=started, lifetime=10, holes=kept)
    assert cache.get("plp") is None  # not served before the touched site is re-projected
    began = cache.reprojectable("plp")
    assert began is not None and began.dirty == {3}
    assert cache.reprojected("plp", began, kept, kept.body(), lifetime=10)
    assert cache.get("plp") is not None
    # Without holes, or when the log no longer reaches back, it is not kept, as before.
    assert not cache.put("whole", b"x", tags, generation=started, lifetime=10)
    for i in range(5000):
        cache.invalidate([price_tag(7, f"OTHER-{i}")])
    assert not cache.put("late", kept.body(), tags, generation=started, lifetime=10, holes=kept)


def test_an_answer_computed_from_records_past_their_ttl_keeps_only_its_holes() -> None:
    clock = Clock()
    cache = ResponseCache(ttl=10, clock=clock, jitter=0.0, restale=restale)
    kept = holes()
    assert not cache.put("whole", kept.body(), [price_tag(7, "A")], spent=True)  # nothing to re-project: not kept
    assert cache.put("plp", kept.body(), [price_tag(7, "A")], holes=kept, spent=True)
    assert cache.get("plp") is None  # its bytes say stale: never served as kept
    began = cache.reprojectable("plp")
    assert began is not None and began.dirty == frozenset()  # the next request re-projects every site
    assert cache.reprojected("plp", began, kept, kept.body(), lifetime=10)
    served = cache.get("plp")
    assert served is not None and served.fresh
