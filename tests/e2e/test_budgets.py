"""A query waits for BigCommerce one budget in all (issue 19): with BigCommerce slower than the budget but
within its timeout, a never-seen document gets its 503 — it would have been a 200 had the edge waited
out the call — and the metric says the budget ran out. Outcomes and counts, no timings."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pricing_edge.config import Settings
from tests.e2e.conftest import System, start_system
from tests.e2e.test_client_limits import upstream_calls
from tests.support.polling import wait_until


@pytest.fixture
def system(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    yield from start_system(replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix,
                                    upstream_budget_ms=1000.0, upstream_timeout=20.0), tmp_path)


def slow_bigcommerce(system: System, latency_ms: float | None) -> None:
    url = system.bigcommerce.base_url + "/_sim/faults"
    response = httpx.post(url, json={"latency_ms": latency_ms}) if latency_ms else httpx.delete(url)
    response.raise_for_status()


def over_budget(system: System) -> float:
    text = httpx.get(system.edge.base_url + "/metrics", timeout=30).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("pricing_edge_upstream_calls_total") and 'outcome="over_budget"' in line)


def test_a_never_seen_document_gets_its_503_within_one_upstream_budget(system: System) -> None:
    guest = system.buyer("guest")["headers"]
    seen = httpx.post(system.edge_url, json={"query": "{ site { settings { storeName } } }"}, headers=guest,
                      timeout=30)
    assert seen.status_code == 200  # the buyer's token is known now
    slow_bigcommerce(system, 3000)  # three budgets, well within the 20 s timeout
    try:
        before = upstream_calls(system)
        unseen = httpx.post(system.edge_url, json={"query": "{ site { settings { storeHash } } }"},
                            headers=guest, timeout=30)
        assert unseen.status_code == 503 and unseen.json()["errors"][0]["message"]
        assert over_budget(system) == 1
        assert upstream_calls(system) - before == 1  # it was asked once, and not waited for
    finally:
        slow_bigcommerce(system, None)
    again = httpx.post(system.edge_url, json={"query": "{ site { settings { storeHash } } }"}, headers=guest,
                       timeout=30)
    assert again.status_code == 200


def test_a_new_token_behind_a_slow_bigcommerce_gets_its_503_within_the_budget(system: System) -> None:
    slow_bigcommerce(system, 3000)
    try:
        answer = httpx.post(system.edge_url, json={"query": "{ site { settings { storeName } } }"},
                            headers={"Authorization": "Bearer not-seen-before"}, timeout=30)
        assert answer.status_code == 503
        assert over_budget(system) == 1
    finally:
        slow_bigcommerce(system, None)


def test_readyz_calls_no_dependency_and_reports_a_slow_erp(system: System) -> None:
    guest = system.buyer("guest")["headers"]
    query = "query($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"
    before = upstream_calls(system)
    for _ in range(5):
        assert httpx.get(system.edge.base_url + "/readyz", timeout=30).status_code == 200
    assert upstream_calls(system) == before  # a probe costs BigCommerce nothing
    erp_faults = system.erp.base_url + "/_sim/faults"
    httpx.post(erp_faults, json={"latency_ms": 1000}).raise_for_status()  # past the 150 ms ERP budget
    try:
        for product in system.fixtures["products"][10:14]:  # never-seen keys: read through the slow ERP
            answer = httpx.post(system.edge_url, json={"query": query, "variables": {"id": product["entity_id"]}},
                                headers=guest, timeout=30)
            assert answer.status_code == 200
            pricing = answer.json()["extensions"]["pricingEdge"]
            assert pricing["degraded"] == ["erp"] and pricing["stale"] is True
            assert answer.headers.get("X-Pricing-Edge-Stale") == "1"  # the header goes with the body's flag

        def reported_slow() -> bool:
            return "erp" in httpx.get(system.edge.base_url + "/readyz", timeout=30).json()["slow"]

        wait_until(reported_slow, timeout=30, what="readyz to report the ERP as slow")
    finally:
        httpx.delete(erp_faults).raise_for_status()
