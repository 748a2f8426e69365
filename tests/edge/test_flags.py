"""The freshness flags tell the truth under any schedule of ERP faults and clock moves (issue 19).

A property test: hypothesis draws a schedule — the clock moves (an injectable clock, so a record's age is
exactly what the schedule says), the ERP goes down or comes back (the simulator's own fault switch, over
real HTTP), buyers ask for sets of SKUs — and every answer served, computed or kept in the response
cache, must carry the flags the pure oracle (:func:`pricing_edge.domain.freshness.flags`) gives for the
records that answer used at the moment it is served, with the header present exactly when the body says
``stale``. Before the fix, kept answers said ``"stale": false`` for up to two TTLs after their records
expired.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing_edge.domain.freshness import UsedRecord, flags, iso_ms
from pricing_edge.edge.answer_flags import Filled, finish, restale
from pricing_edge.edge.records import RecordService
from pricing_edge.edge.response_cache import Cached, ResponseCache, price_tag, stock_tag
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.embedded import EmbeddedStore
from tests.support.clock import ManualClock
from tests.support.servers import ServerThread, serve

SKUS = ("PE-10000", "PE-10001", "PE-10002")
PRICE_TTL, STOCK_TTL = 20.0, 10.0
PRICE_LIST = 2


@pytest.fixture(scope="module")
def erp() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        yield server


def set_erp(erp: ServerThread, up: bool) -> None:
    with httpx.Client(base_url=erp.base_url, timeout=30) as client:
        response = client.delete("/_sim/faults") if up else client.post("/_sim/faults", json={"down_seconds": 600})
        response.raise_for_status()


@dataclass
class Served:
    body: bytes
    header: bool
    used: list[UsedRecord]
    degraded: set[str]
    missing: set[str] = field(default_factory=set)


@dataclass
class Edge:
    """The edge's freshness path, whole: records (L1 → store → ERP), the response cache, the answer's flags."""

    clock: ManualClock
    records: RecordService
    responses: ResponseCache
    kept: dict[tuple[str, ...], tuple[list[UsedRecord], set[str]]] = field(default_factory=dict)

    async def ask(self, skus: tuple[str, ...]) -> Served:
        cached = self.responses.get(skus)
        if cached is not None:
            used, degraded = self.kept[skus]
            return Served(cached.body, cached.stale, used, degraded)
        generation = self.responses.generation
        filled = Filled(touched=True)
        prices = await self.records.price_lookup(PRICE_LIST, "USD", skus)
        stock = await self.records.stock_lookup(skus)
        filled.note(prices)
        filled.note(stock)
        filled.tags = [price_tag(PRICE_LIST, s) for s in skus] + [stock_tag(s) for s in skus]
        found = {key[2] for key in prices.found} & set(stock.found)
        done = finish({"data": {"skus": list(skus)}}, filled, self.clock.wall_ms(), self.responses.ttl)
        if done.keep_for is not None and self.responses.put(skus, done.body, filled.tags, generation,
                                                            lifetime=done.keep_for):
            self.kept[skus] = (list(filled.used), set(filled.degraded))
        await asyncio.gather(*self.records.background(), return_exceptions=True)  # refreshes settle
        return Served(done.body, done.stale, list(filled.used), set(filled.degraded), set(skus) - found)


step = st.one_of(
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=12)),
    st.tuples(st.just("erp_up"), st.booleans()),
    st.tuples(st.just("ask"), st.sets(st.sampled_from(SKUS), min_size=1).map(lambda s: tuple(sorted(s)))),
)


async def run_schedule(erp: ServerThread, schedule: list[tuple[str, object]]) -> None:
    clock = ManualClock()
    adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
    responses = ResponseCache(ttl=min(PRICE_TTL, STOCK_TTL), clock=clock.monotonic, restale=restale)

    def on_refreshed(kind: str, keys: list[object]) -> None:
        responses.invalidate([price_tag(k[0], k[2]) if kind == "price" else stock_tag(k)  # type: ignore[index]
                              for k in keys])

    records = RecordService(EmbeddedStore(), adapter, EdgeMetrics(), price_ttl=PRICE_TTL, stock_ttl=STOCK_TTL,
                            erp_budget=5.0, breaker_threshold=2, breaker_reset=0.2, on_refreshed=on_refreshed,
                            clock=clock)
    edge = Edge(clock, records, responses)
    erp_up = True
    try:
        for kind, arg in schedule:
            if kind == "advance":
                clock.advance(float(arg))  # type: ignore[arg-type]
            elif kind == "erp_up":
                erp_up = bool(arg)
                set_erp(erp, erp_up)
            else:
                served = await edge.ask(arg)  # type: ignore[arg-type]
                check(served, clock.wall_ms(), erp_up)
    finally:
        set_erp(erp, True)
        await asyncio.gather(*records.background(), return_exceptions=True)
        await adapter.aclose()


def check(served: Served, now_ms: int, erp_up: bool) -> None:
    body = orjson.loads(served.body)["extensions"]["pricingEdge"]
    expected = flags(served.used, served.degraded, now_ms)  # the pure oracle, at the time it is served
    assert body == expected.as_json(), (body, expected, served)
    assert served.header == body["stale"]  # the header if and only if the body says stale
    past_ttl = [r for r in served.used if now_ms - r.as_of_ms >= r.ttl_ms]
    assert body["stale"] is bool(past_ttl or served.degraded)
    assert body["asOf"] == iso_ms(min((r.as_of_ms for r in served.used), default=None))
    if served.missing and not erp_up:
        assert "erp" in body["degraded"]  # a key the ERP could not be asked for is named


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(schedule=st.lists(step, min_size=2, max_size=18))
def test_flags_tell_the_truth_under_any_fault_schedule(erp: ServerThread, schedule: list[tuple[str, object]]) -> None:
    asyncio.run(run_schedule(erp, schedule))


def test_a_kept_answer_turns_stale_with_its_oldest_record(erp: ServerThread) -> None:
    """The measured bug as one story: an answer kept at t=0 from a 10 s stock record, asked again at
    t=11 s with the ERP down, must say stale (it said false for up to 28 s)."""
    asyncio.run(run_schedule(erp, [("ask", SKUS), ("erp_up", False), ("advance", 11), ("ask", SKUS),
                                   ("ask", SKUS), ("advance", 20), ("ask", SKUS)]))


def test_the_oracle() -> None:
    fresh, old = UsedRecord(10_000, 5_000), UsedRecord(1_000, 5_000)
    assert flags([fresh], [], 14_999).as_json() == {"stale": False, "asOf": iso_ms(10_000), "degraded": []}
    assert flags([fresh], [], 15_000).stale
    assert flags([fresh, old], [], 12_000).as_json()["asOf"] == iso_ms(1_000)
    assert flags([], ["upstream", "erp"], 0).as_json() == {"stale": True, "asOf": None, "degraded": ["erp", "upstream"]}
    with pytest.raises(ValueError):
        flags([], ["bigcommerce"], 0)


def test_an_expired_kept_answer_is_flagged_stale_only_if_it_carries_flags() -> None:
    now = [0.0]
    cache = ResponseCache(ttl=10.0, clock=lambda: now[0], jitter=0.0, restale=restale)
    flagged = b'{"data":{"pricingEdge":{"stale":false}},"extensions":{"pricingEdge":{"stale":false,"asOf":null}}}'
    cache.put("priced", flagged, [], lifetime=4.0)
    cache.put("plain", b'{"data":{"site":{}}}', [])
    assert cache.get("priced") == Cached(flagged, fresh=True, stale=False)  # fresh: as kept
    now[0] = 5.0  # past the first record's TTL (4 s), within the cache's own
    priced = cache.get("priced")
    assert priced is not None and not priced.fresh and priced.stale
    assert orjson.loads(priced.body) == {"data": {"pricingEdge": {"stale": False}},  # the data is untouched
                                         "extensions": {"pricingEdge": {"stale": True, "asOf": None}}}
    now[0] = 11.0
    plain = cache.get("plain")
    assert plain is not None and not plain.fresh and not plain.stale  # no flags: no header either
