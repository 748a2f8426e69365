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
from tests.support.clock import ManualClock
from tests.support.polling import wait_until

PAGE = """query Page($categoryId: Int!) { site { category(entityId: $categoryId) { products(first: 24) { edges {
  node { entityId sku prices { price { value } } inventory { isInStock } } } } } } }"""


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


def parts(system: System) -> Any:
    app: Any = system.edge.server.config.app
    return app.state.parts


def skeletons(system: System) -> Any:
    return parts(system).graphql.skeletons


def ask(system: System) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page for a guest: its data and its freshness flags (the header checked against them)."""
    response = httpx.post(system.edge_url, json={"query": PAGE, "variables": {"categoryId": system.fixtures["category_id"]}},
                          headers=system.buyer("guest")["headers"], timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body and body["data"]["site"]["category"]["products"]["edges"], response.text
    flags: dict[str, Any] = body["extensions"]["pricingEdge"]
    assert ("x-pricing-edge-stale" in response.headers) == flags["stale"]
    return body["data"], flags


def count(system: System, name: str, **labels: str) -> float:
    return float(parts(system).metrics.value(name, labels))


def upstream(system: System) -> float:
    return count(system, "pricing_edge_upstream_calls_total", purpose="query", outcome="ok")


def bigcommerce(system: System, up: bool) -> None:
    with httpx.Client(base_url=system.bigcommerce.base_url, timeout=30) as client:
        response = client.delete("/_sim/faults") if up else client.post("/_sim/faults", json={"down_seconds": 600})
        response.raise_for_status()


def past_the_catalog_ttl(system: System) -> None:
    CATALOG.advance(system.settings.catalog_ttl + 1)


def test_a_page_past_its_catalog_ttl_is_answered_from_it_and_renewed_in_the_background(system: System) -> None:
    data, flags = ask(system)
    assert not flags["stale"] and upstream(system) == 1
    past_the_catalog_ttl(system)
    again, flags = ask(system)
    assert again == data and not flags["stale"]  # built on the kept catalog part: nothing wrong is known of it
    wait_until(lambda: not skeletons(system).renewals.refreshing, timeout=30, what="the renewal to end")
    assert upstream(system) == 1  # no request asked BigCommerce: one background renewal did
    assert count(system, "pricing_edge_upstream_calls_total", purpose="renewal", outcome="ok") == 1
    key = next(iter(skeletons(system)._l1.keys()))
    assert skeletons(system)._fresh(skeletons(system)._l1.get(key).fetched_ms)
    for _ in range(3):
        assert ask(system) == (data, flags)
    assert upstream(system) == 1  # renewed once, then kept: no call on any request


def test_while_bigcommerce_cannot_renew_it_answers_built_on_it_say_so(system: System) -> None:
    data, _ = ask(system)
    past_the_catalog_ttl(system)
    bigcommerce(system, up=False)
    try:
        assert not ask(system)[1]["stale"]  # its renewal starts (and fails)
        wait_until(lambda: skeletons(system).renewals.failing(next(iter(skeletons(system)._l1.keys()))),
                   timeout=30, what="the renewal to fail")
        # the answer kept before it failed ends with its records' lifetime; the next is computed on the old part
        CATALOG.advance(2 * max(system.settings.price_ttl, system.settings.stock_ttl) + 1)
        again, flags = ask(system)
        assert again == data and flags["stale"] and "upstream" in flags["degraded"]
    finally:
        bigcommerce(system, up=True)
