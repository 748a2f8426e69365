"""A category page whose catalog part (BigCommerce's skeleton) is past its TTL is answered at once from it while
one background computation asks BigCommerce again and keeps the renewed skeleton and answer (issue 20, scale:
at 100k SKUs the pages whose catalog part ended went to BigCommerce on the request, 150 ms at p99). While
BigCommerce cannot renew it, answers built on it say so (stale, upstream degraded).

The edge and both simulators over real HTTP; records judged by a clock that stands still (they stay fresh), the
catalog parts by one moved only by the test: what is counted is upstream calls, never time."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System, patient_settings, start_system
from tests.edge.test_reprojection import ask, count, parts
from tests.support.clock import ManualClock
from tests.support.polling import wait_until

CATALOG = ManualClock()  # replaced per test by the fixture


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    global CATALOG
    records, CATALOG = ManualClock(), ManualClock()
    for started in start_system(patient_settings(), tmp_path, records):
        edge = parts(started)
        edge.responses.clock, edge.responses.wall_ms = CATALOG.monotonic, CATALOG.wall_ms
        edge.graphql.skeletons.wall_ms = CATALOG.wall_ms
        yield started


def skeletons(system: System) -> Any:
    return parts(system).graphql.skeletons


def upstream(system: System) -> float:
    return count(system, "pricing_edge_upstream_calls_total", purpose="query", outcome="ok")


def bigcommerce(system: System, up: bool) -> None:
    with httpx.Client(base_url=system.bigcommerce.base_url, timeout=30) as client:
        response = client.delete("/_sim/faults") if up else client.post("/_sim/faults", json={"down_seconds": 600})
        response.raise_for_status()


def past_the_catalog_ttl(system: System) -> None:
    CATALOG.advance(system.settings.catalog_ttl + 1)


def test_a_page_past_its_catalog_ttl_is_answered_from_it_and_renewed_in_the_background(system: System) -> None:
    assert not ask(system)["stale"] and upstream(system) == 1
    past_the_catalog_ttl(system)
    assert not ask(system)["stale"]  # built on the kept catalog part at once: nothing wrong is known of it
    wait_until(lambda: not skeletons(system).renewals.refreshing, timeout=30, what="the renewal to end")
    assert upstream(system) == 1  # no request asked BigCommerce: one background renewal did
    assert count(system, "pricing_edge_upstream_calls_total", purpose="renewal", outcome="ok") == 1
    key = next(iter(skeletons(system)._l1.keys()))
    assert skeletons(system)._fresh(skeletons(system)._l1.get(key).fetched_ms)
    for _ in range(3):
        assert not ask(system)["stale"]
    assert upstream(system) == 1  # renewed once, then kept: no call on any request


def test_while_bigcommerce_cannot_renew_it_answers_built_on_it_say_so(system: System) -> None:
    ask(system)
    past_the_catalog_ttl(system)
    bigcommerce(system, up=False)
    try:
        assert not ask(system)["stale"]  # answered without BigCommerce; its renewal starts (and fails)
        wait_until(lambda: skeletons(system).renewals.failing(next(iter(skeletons(system)._l1.keys()))),
                   timeout=30, what="the renewal to fail")
        # the answer kept before it failed ends with its records' lifetime; the next is computed on the old part
        CATALOG.advance(2 * max(system.settings.price_ttl, system.settings.stock_ttl) + 1)
        flags = ask(system)
        assert flags["stale"] and "upstream" in flags["degraded"]
    finally:
        bigcommerce(system, up=True)
