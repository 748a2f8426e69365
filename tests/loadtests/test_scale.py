"""The ``scale`` scenario: its pure helpers (Zipf sampling, the targets and table), and — behind the
``bench`` marker, like the smoke run — its plumbing against the real system at a tiny size and rate."""
from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from loadtests import report, scale, scale_report
from loadtests.runner import Bench, Options
from loadtests.scenarios import PAGE_SIZE
from pricing_edge.config import Settings
from pricing_edge.sim.scale import CATEGORY_PAGES, FIRST_PAGE_ID


def test_zipf_sampling_is_seeded_and_favours_the_first_ranks() -> None:
    ranks = scale.zipf_sample(5000, 50_000, seed=3)
    assert ranks == scale.zipf_sample(5000, 50_000, seed=3) and ranks != scale.zipf_sample(5000, 50_000, seed=4)
    assert min(ranks) >= 0 and max(ranks) < 5000
    counts = Counter(ranks)
    assert counts[0] > counts[1] > counts[9] > counts.get(999, 0)
    assert 1.6 < counts[0] / counts[1] < 2.5  # s = 1: rank 1 is about twice as popular as rank 2
    assert 0.09 < counts[0] / len(ranks) < 0.13  # 1 / H(5000) ≈ 11%


@pytest.mark.parametrize(("n", "s"), [(0, 1.0), (10, 0.0), (10, -1.0)])
def test_zipf_refuses_what_has_no_distribution(n: int, s: float) -> None:
    with pytest.raises(ValueError, match="Zipf"):
        scale.zipf_cum_weights(n, s)


def test_the_scale_requests_are_category_pages_of_the_scale_store() -> None:
    catalog = scale.ScaleCatalog(Settings.from_env({}), 2000)
    requests = catalog.zipf_requests(300, seed=1)
    assert len(requests) == 300 and len(scale.distinct(requests)) < 300
    assert sorted(catalog.pages) == list(range(FIRST_PAGE_ID, FIRST_PAGE_ID + CATEGORY_PAGES))
    assert {r.buyer.key for r in requests} == {b.key for b in catalog.buyers}
    # an answer with a wrong price is caught by the same checks as the other scenarios'
    page = next(p for p in catalog.pages if catalog.dataset.products_in(p))  # a small store leaves pages empty
    request = catalog.plp(0, page)
    products = [p for p in catalog.dataset.products_in(page) if catalog.dataset.visible_to(p, request.buyer.group_id)]
    nodes = [{"entityId": p.id, "prices": {"price": {"value": 0.01}, "priceRange": {"min": 1, "max": 1},
                                         "bulkPricing": []},
              "inventory": {"aggregated": {"availableToSell": 0}}} for p in products[:PAGE_SIZE]]
    answer = {"data": {"site": {"category": {"products": {"edges": [{"node": n} for n in nodes]}}}}}
    assert nodes and any("price" in problem for problem in request.check(answer))


def _size(skus: int, p99: float, warm_s: float, rss: float) -> dict[str, Any]:
    return {"skus": skus, "price_records": skus * 20, "warm": {"seconds": warm_s},
            "redis": {"used_memory_delta_mb": 1.0, "keys": 10, "bytes_per_key": 100},
            "edge_rss_mb": {"per_process": {"1": 12.0, "2": rss}, "max_worker": rss},
            "simulators": {"bigcommerce": {"startup_s": 1.0, "rss_mb": 60.0}, "erp": {"startup_s": 1.0, "rss_mb": 50.0}},
            "primed": {"requests": 5, "seconds": 1.0},
            "plp": {"rate": 1000.0, "p50_ms": 1.0, "p99_ms": p99, "errors": 0, "achieved_rate": 1000.0,
                    "hit_ratios": {"response": 0.9, "l1": 0.99, "l2": None}}}


def test_the_targets_are_judged_at_100k_skus_only() -> None:
    small = {"rate": 1000.0, "duration_s": 10, "sizes": [_size(10_000, 1.0, 5.0, 100.0)]}
    assert [t["met"] for t in scale_report.targets(small)] == [False, False, False]
    assert all("not the target's 100,000" in t["note"] for t in scale_report.targets(small))
    full = {"rate": 1000.0, "duration_s": 10, "sizes": [small["sizes"][0], _size(100_000, 4.0, 90.0, 380.0)]}
    assert [t["met"] for t in scale_report.targets(full)] == [True, True, True]
    missed = {"rate": 1000.0, "duration_s": 10, "sizes": [_size(100_000, 6.0, 130.0, 420.0)]}
    assert [t["met"] for t in scale_report.targets(missed)] == [False, False, False]
    table = "\n".join(scale_report.markdown(full, None))
    assert "| 100,000 | 2,000,000 | 90.0 s |" in table and "90.0% / 99.0% / –" in table


def test_the_report_says_what_the_bounded_caches_held() -> None:
    size = _size(100_000, 4.0, 90.0, 380.0)
    size["plp"] |= {"l1_bytes": 128 * 2**20, "cache_bytes": {"answer": 64 * 2**20, "skeleton": 2**20,
                                                             "catalog_index": 0, "listing_membership": 0}}
    text = "\n".join(scale_report.markdown({"rate": 1000.0, "duration_s": 10, "sizes": [size]}, None))
    assert "100,000 SKUs: L1 records 128.0 MB, answers 64.0 MB, skeletons 1.0 MB, catalog index 0.0 MB" in text


def test_the_report_says_why_answers_were_missed() -> None:
    size = _size(100_000, 4.0, 90.0, 380.0)
    size["plp"]["answers"] = {"hits": 900, "misses": 100, "reprojected": 60, "computed": 40,
                              "missed": {"first": 10, "evicted": 30, "changed": 0, "expired": 55, "catalog": 5}}
    text = "\n".join(scale_report.markdown({"rate": 1000.0, "duration_s": 10, "sizes": [size]}, None))
    assert "100,000 SKUs: first 10, evicted 30, changed 0, expired 55, catalog 5." in text


@pytest.mark.bench  # the real system, two simulators at a small catalog: `make bench` runs it first
def test_the_scale_scenario_measures_each_size_on_a_system_of_its_own(redis_url: str, tmp_path: Path) -> None:
    options = scale.ScaleOptions(sizes=[1200], rate=5, duration=1, cycle=60, workers=2, redis_url=redis_url,
                                 workdir=tmp_path / "logs")
    driver = Options(driver="httpx", warmup=0, max_rate_search=False, small=True)
    results = asyncio.run(scale.run(options, lambda system: Bench(system, driver, log=lambda line: None),
                                    log=lambda line: None))
    (size,) = results["sizes"]
    assert size["skus"] >= 1200 and size["price_records"] == size["skus"] * 20
    assert size["warm"]["prices"] == size["price_records"] and size["warm"]["stock_levels"] == size["skus"] * 3
    assert size["redis"]["keys"] >= size["price_records"] + size["skus"]
    assert size["primed"]["problems"] == 0, size["primed"]
    assert size["plp"]["requests"] > 0 and size["plp"]["errors"] == 0, size["plp"]["error_samples"]
    assert all(mb and mb > 0 for mb in size["edge_rss_mb"]["per_process"].values())
    assert len(size["edge_rss_mb"]["per_process"]) >= 3  # the uvicorn master and its two workers (and helpers)
    assert all(s["startup_s"] and s["rss_mb"] > 0 for s in size["simulators"].values())
    built = report.build({"scenarios": {}, "baselines": {"bigcommerce": {}, "limit": {}}, "scale": results},
                         command="python -m loadtests --scenario scale (test)", driver="httpx", workers=2,
                         settings={"duration_s": 1, "bc_latency_ms": 150, "erp_latency_ms": 20, "redis": "local"})
    assert [t["target"] for t in built["targets"]] == [t["target"] for t in scale_report.targets(results)]
    notes = report.write(built, tmp_path / "docs")
    assert "scale: a real catalog's size" in (tmp_path / "docs" / "benchmarks.md").read_text()
    assert any("scale" in note for note in notes)
