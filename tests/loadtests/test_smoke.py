"""The load harness, smoke-run: every scenario, both baselines, event-to-visible and the coalescing check
at a tiny rate for a couple of seconds against the real system (edge processes on Redis, both
simulators, the limit app), with the httpx driver, which checks every answer against the ERP's truth.
It measures nothing — speed is for ``make bench`` — and writes its report to a temporary folder. Starting
the whole system takes minutes, so the smoke run is behind the ``bench`` marker (``make bench`` runs it
before measuring); the harness's own checks run in ``make test``."""
from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from loadtests import autocannon, report
from loadtests.limit_app import create_app
from loadtests.runner import Bench, Options
from loadtests.scenarios import PLP, SCENARIOS, Catalog, Request, body
from loadtests.system import System
from pricing_edge.config import Settings
from pricing_edge.demo import demo_settings
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from tests.support.servers import serve

SCENARIO_KEYS = {"rate", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "errors", "upstream_calls", "erp_reads"}


@pytest.fixture(scope="module")
def smoke(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("bench")
    options = Options(rate=8, cart_rate=4, event_rate=4, bigcommerce_rate=4, duration=2, baseline_duration=1,
                      driver="httpx", misses=40, max_rate_search=False, small=True)
    with System(workdir=workdir / "logs", redis_url=redis_url, workers=2) as system:
        results = asyncio.run(Bench(system, options, log=lambda line: None).run())
        settings = {"duration_s": 2, "warmup_s": 0, "bc_latency_ms": system.settings.bc_latency_ms,
                    "erp_latency_ms": system.settings.erp_latency_ms, "redis": "local"}
        built = report.build(results, command="python -m loadtests --driver httpx (smoke)", driver="httpx",
                             workers=system.workers, settings=settings)
    output = workdir / "docs"
    notes = report.write(built, output)
    return {"report": built, "output": output, "notes": notes}


@pytest.mark.bench  # the real system for ~3 minutes: `make bench` runs it first, `make test` does not
def test_every_scenario_answers_what_the_erp_says(smoke: dict[str, Any]) -> None:
    scenarios = smoke["report"]["scenarios"]
    assert set(scenarios) == set(SCENARIOS)
    for name, result in scenarios.items():
        assert result["requests"] > 0, name
        assert result["errors"] == 0, (name, result["errors_detail"], result["error_samples"])
    assert scenarios["plp"]["edge_requests"] >= scenarios["plp"]["requests"]


@pytest.mark.bench  # the real system for ~3 minutes: `make bench` runs it first, `make test` does not
def test_both_baselines_ran_the_same_requests(smoke: dict[str, Any]) -> None:
    baselines = smoke["report"]["baselines"]
    for kind in ("bigcommerce", "limit"):
        assert set(baselines[kind]) == {"plp", "pdp", "mixed", "cart", "sorted"}
        for name, result in baselines[kind].items():
            assert result["requests"] > 0 and result["errors"] == 0, (kind, name, result["error_samples"])
    assert smoke["report"]["scenarios"]["plp"]["vs"]["limit"]["p50"] is not None


@pytest.mark.bench  # the real system for ~3 minutes: `make bench` runs it first, `make test` does not
def test_every_erp_event_became_visible_at_every_edge_process(smoke: dict[str, Any]) -> None:
    events = smoke["report"]["event_to_visible"]
    assert events["events"] > 0 and events["measured"] == events["events"], events["samples"]
    assert len(events["per_instance"]) == 2
    assert events["p50_ms"] is not None and events["p99_ms"] is not None
    # one ERP request per change (held until the edge's 202), each figure's resolution known per process
    assert events["erp_requests"] == events["events"] and events["notice_ms"]["count"] == events["events"]
    assert events["resolution_ms"]["count"] == 2 * events["measured"]


@pytest.mark.bench  # the real system for ~3 minutes: `make bench` runs it first, `make test` does not
def test_concurrent_identical_misses_read_each_key_from_the_erp_once(smoke: dict[str, Any]) -> None:
    coalescing = smoke["report"]["coalescing"]
    assert coalescing["records_removed_from_redis"] > 0
    assert coalescing["answers"]["completed"] == coalescing["concurrent_requests"]
    assert coalescing["answers"]["wrong_values"] == 0
    assert coalescing["erp_reads_per_key"] and all(n == 1 for n in coalescing["erp_reads_per_key"].values())


@pytest.mark.bench  # the real system for ~3 minutes: `make bench` runs it first, `make test` does not
def test_the_report_has_the_documented_keys_and_lands_in_its_folder(smoke: dict[str, Any]) -> None:
    output: Path = smoke["output"]
    written = orjson.loads((output / "benchmarks" / "latest.json").read_bytes())
    assert {"machine", "command", "scenarios", "baselines", "event_to_visible"} <= set(written)
    for name in SCENARIOS:
        assert set(written["scenarios"][name]) >= SCENARIO_KEYS, name
    assert {"p50_ms", "p99_ms"} <= set(written["event_to_visible"])
    assert written["machine"]["cores"] and written["machine"]["python"]
    markdown = (output / "benchmarks.md").read_text()
    assert "python -m loadtests --driver httpx (smoke)" in markdown and "| plp |" in markdown
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert any("no plot" in note for note in smoke["notes"])
    else:
        assert (output / "benchmarks" / "latency.png").stat().st_size > 0


def test_the_harness_truth_is_the_fixtures() -> None:
    """The smoke checks compare against the same values `pricing-edge fixtures` prints."""
    settings = demo_settings(Settings.from_env({}), DemoLayout())
    catalog = Catalog(settings, small=True)
    fixtures = demo_fixtures(catalog.dataset, DemoLayout(), settings)
    for product in fixtures["products"]:
        model = catalog.product(product["entity_id"])
        assert catalog.truth.product_available(model) == {product["available_to_sell"]}
        for buyer in catalog.buyers:
            assert catalog.truth.prices(buyer.price_list_id, model.default_variant.sku) == {
                Decimal(product["expected_price"][buyer.key])}
    assert all(len(p.variants) >= 10 for p in catalog.pdp_products) and catalog.pdp_products


def test_the_checks_catch_a_wrong_price_and_a_wrong_stock() -> None:
    catalog = Catalog(demo_settings(Settings.from_env({}), DemoLayout()), small=True)
    product, buyer = catalog.mixed_products[0], catalog.buyer("2")
    price = catalog.truth.price(buyer.price_list_id, product.default_variant.sku)
    (stock,) = catalog.truth.product_available(product)

    def answer(value: Any, available: int) -> dict[str, Any]:
        return {"data": {"site": {"product": {"entityId": product.id, "prices": {"price": {"value": value}},
                                              "inventory": {"aggregated": {"availableToSell": available}}}}}}

    assert catalog.check_probe(answer(float(price), stock), buyer, product) == []
    assert catalog.check_probe(answer(float(price) + 1, stock), buyer, product)
    assert catalog.check_probe(answer(float(price), stock + 1), buyer, product)
    assert catalog.check_probe({"errors": [{"message": "no"}]}, buyer, product)


@pytest.mark.bench
def test_the_autocannon_driver_holds_a_fixed_rate() -> None:
    """Run by `make bench` before measuring (it needs `npm ci --prefix loadtests/js`); not by `make test`."""
    autocannon.check_installed()
    catalog = Catalog(demo_settings(Settings.from_env({}), DemoLayout()), small=True)
    requests = catalog.plp_requests()[:2]
    answers = {r.key(): b'{"data": {}}' for r in requests}
    with serve(create_app(answers)) as server:
        result = asyncio.run(autocannon.run(server.base_url + "/graphql", requests, rate=200, duration=1.5,
                                            warmup=0.5))
    assert result["errors"] == {"non2xx": 0, "graphql": 0, "timeouts": 0, "connection": 0}
    assert 250 <= result["completed"] <= 350 and result["latency"]["p50_ms"] is not None
    assert result["sent"] >= result["completed"]


@pytest.mark.bench
def test_the_driver_does_not_count_its_set_up_as_latency() -> None:
    """A cycle of 10,000 distinct requests over 50 connections (the scale scenario's): building every
    connection's requests once took ~15 s of the driver's CPU, which the old schedule counted as every
    request's lateness (p50 6.5 s against an idle edge) and which fired the first connections' timeouts."""
    autocannon.check_installed()
    catalog = Catalog(demo_settings(Settings.from_env({}), DemoLayout()), small=True)
    buyer = catalog.buyers[0]
    requests = [Request(buyer, body(PLP, {"categoryId": page}), lambda answer: []) for page in range(10_000)]
    with serve(create_app({r.key(): b'{"data": {}}' for r in requests})) as server:
        result = asyncio.run(autocannon.run(server.base_url + "/graphql", requests, rate=200, duration=1.5,
                                            warmup=0.5, connections=50))
    assert result["errors"] == {"non2xx": 0, "graphql": 0, "timeouts": 0, "connection": 0}
    assert 250 <= result["completed"] <= 350
    assert result["setup_s"] is not None
    # what it measures is the server's answer, not the set-up: far under the old seconds
    assert result["latency"]["p50_ms"] < 200, result["latency"]
