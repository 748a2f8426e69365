"""A kept answer outlives its records (issue 20, scale): once its records are past their TTL, the next request
re-projects it from the records as they are now (``edge/reprojection.py``) instead of computing it anew — flagged
stale while they cannot be renewed — until its catalog part ends; then it is computed anew. Such a renewal
projects again only the owned fields whose records now show another value, an event or not.

The edge, both simulators over real HTTP, and one standing clock for the records and the kept answers, moved
only by the test: what is counted is computes, re-projections, ERP reads and upstream calls, never time.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System, patient_settings, start_system
from tests.support.clock import ManualClock
from tests.support.polling import wait_until
from tests.support.servers import on_loop

PAGE = """query Page($categoryId: Int!) { site { category(entityId: $categoryId) { products(first: 24) { edges {
  node { entityId sku prices { price { value } } inventory { isInStock aggregated { availableToSell } } } } } } } }"""


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    clock = ManualClock()
    for started in start_system(patient_settings(), tmp_path, clock):
        responses = parts(started).responses
        responses.clock, responses.wall_ms = clock.monotonic, clock.wall_ms  # answers judged by the same clock
        yield started


def parts(system: System) -> Any:
    return system.edge.server.config.app.state.parts


def ask(system: System) -> dict[str, Any]:
    """The page for a guest; its freshness flags (the header checked against them)."""
    response = httpx.post(system.edge_url, json={"query": PAGE, "variables": {"categoryId": system.fixtures["category_id"]}},
                          headers=system.buyer("guest")["headers"], timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body and body["data"]["site"]["category"]["products"]["edges"], response.text
    flags: dict[str, Any] = body["extensions"]["pricingEdge"]
    assert ("x-pricing-edge-stale" in response.headers) == flags["stale"]
    return flags


def count(system: System, name: str, **labels: str) -> float:
    return float(parts(system).metrics.value(name, labels))


def computed(system: System) -> float:
    return count(system, "pricing_edge_answers_computed_total")


def hits(system: System) -> float:
    return count(system, "pricing_edge_cache_lookups_total", tier="response", kind="graphql", result="hit")


def past_its_records(system: System) -> None:
    """Past the stock TTL and the one more TTL a kept answer is served flagged: its bytes are spent."""
    clock = system.clock
    assert isinstance(clock, ManualClock)
    clock.advance(2 * system.settings.stock_ttl + 1)


def set_erp(system: System, up: bool) -> None:
    with httpx.Client(base_url=system.erp.base_url, timeout=30) as client:
        response = client.delete("/_sim/faults") if up else client.post("/_sim/faults", json={"down_seconds": 600})
        response.raise_for_status()


def test_an_answer_past_its_records_ttl_is_reprojected_on_the_next_request(system: System) -> None:
    assert not ask(system)["stale"] and computed(system) == 1
    kept = hits(system)
    assert not ask(system)["stale"] and hits(system) == kept + 1
    upstream = count(system, "pricing_edge_upstream_calls_total", purpose="query", outcome="ok")
    stock_reads = count(system, "pricing_edge_erp_keys_read_total", kind="stock")
    past_its_records(system)
    assert ask(system)["stale"]  # its stock is past its TTL: said so while the records layer renews it
    wait_until(lambda: not ask(system)["stale"], timeout=30, what="the renewed records to renew the answer")
    assert count(system, "pricing_edge_erp_keys_read_total", kind="stock") > stock_reads  # renewed from the ERP
    assert computed(system) == 1  # re-projected on every request: never computed anew
    assert count(system, "pricing_edge_upstream_calls_total", purpose="query", outcome="ok") == upstream
    assert count(system, "pricing_edge_answer_reprojections_total", outcome="served") >= 1
    assert count(system, "pricing_edge_answer_reprojections_total", outcome="kept") >= 1
    kept = hits(system)
    assert not ask(system)["stale"] and hits(system) == kept + 1  # and kept again


def degraded(flags: dict[str, Any]) -> dict[str, Any] | None:
    return flags if "erp" in flags["degraded"] else None


def test_an_answer_past_its_records_ttl_is_flagged_stale_while_the_erp_cannot_answer(system: System) -> None:
    assert not ask(system)["stale"] and computed(system) == 1
    set_erp(system, up=False)
    try:
        past_its_records(system)
        assert ask(system)["stale"]
        flags = wait_until(lambda: degraded(ask(system)), timeout=30, what="the failed refresh to be told")
        assert flags is not None and flags["stale"]
        assert all(ask(system)["stale"] for _ in range(3))
    finally:
        set_erp(system, up=True)
    wait_until(lambda: not ask(system)["stale"], timeout=60, what="the ERP's return to renew the answer")
    assert computed(system) == 1  # re-projected throughout, never computed anew


def test_an_answer_whose_catalog_part_ended_is_computed_anew(system: System) -> None:
    assert not ask(system)["stale"] and computed(system) == 1
    past_its_records(system)
    ask(system)
    assert computed(system) == 1
    clock = system.clock
    assert isinstance(clock, ManualClock)
    clock.advance(system.settings.catalog_ttl + 120)  # its skeleton is past its TTL (learned after the clock began)
    ask(system)
    assert computed(system) == 2


def sites_projected(system: System) -> float:
    return count(system, "pricing_edge_answer_reprojected_sites_total")


def test_a_renewal_that_finds_every_value_as_it_was_projects_no_field(system: System) -> None:
    assert not ask(system)["stale"] and computed(system) == 1
    renewals = count(system, "pricing_edge_answer_reprojections_total", outcome="kept")
    projected = sites_projected(system)
    past_its_records(system)
    assert ask(system)["stale"]
    wait_until(lambda: not ask(system)["stale"], timeout=30, what="the renewed records to renew the answer")
    assert count(system, "pricing_edge_answer_reprojections_total", outcome="kept") > renewals
    assert sites_projected(system) == projected  # the same values: only the flags were judged anew
    assert computed(system) == 1


VARIANT_PAGE = """query NAME($categoryId: Int!) { site { category(entityId: $categoryId) { products(first: 24) { edges {
  node { entityId inventory { aggregated { availableToSell } }
    variants(first: 1) { edges { node { sku inventory { aggregated { availableToSell } } } } } } } } } } }"""


def page(system: System, name: str = "Page") -> dict[str, Any]:
    response = httpx.post(system.edge_url, json={"query": VARIANT_PAGE.replace("NAME", name),
                                                 "variables": {"categoryId": system.fixtures["category_id"]}},
                          headers=system.buyer("guest")["headers"], timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, response.text
    return body


def first_variant(body: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = body["data"]["site"]["category"]["products"]["edges"][0]["node"]["variants"]["edges"][0]["node"]
    return node


def fresh(body: dict[str, Any]) -> dict[str, Any] | None:
    return None if body["extensions"]["pricingEdge"]["stale"] else body


def test_a_value_changed_without_an_event_is_reprojected_when_its_record_is_renewed(system: System) -> None:
    before = page(system)
    assert computed(system) == 1
    variant = first_variant(before)
    shown = variant["inventory"]["aggregated"]["availableToSell"]
    erp = system.erp.server.config.app.state.erp
    level = on_loop(system.erp, lambda: erp.state.dataset.stock[(variant["sku"], 1)])
    # The ERP's stock changes and says nothing: no event, no invalidation — only the record's renewal can tell.
    on_loop(system.erp, lambda: erp.state.change_stock({"sku": variant["sku"], "location_id": 1,
                                                        "on_hand": level.on_hand + 7}))
    assert page(system) == before  # kept: its records are fresh
    projected = sites_projected(system)
    past_its_records(system)
    renewed = wait_until(lambda: fresh(page(system)), timeout=30, what="the renewed stock record to renew the answer")
    assert first_variant(renewed)["inventory"]["aggregated"]["availableToSell"] == shown + 7
    assert computed(system) == 1  # re-projected, never computed anew
    # The variant's inventory and its product's (which sums its variants'): nothing else on the page.
    assert sites_projected(system) - projected == 2
    assert renewed == page(system, "Scratch")  # what a compute from scratch shows
