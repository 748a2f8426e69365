"""Two edge processes (real `pricing-edge serve` subprocesses) on one Redis: an ERP event is applied
once, and both processes' in-process caches drop the old price."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, erp_sim_app
from pricing_edge.ops.instance import HEADER
from pricing_edge.demo import pristine_dataset
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from tests.e2e.conftest import System
from tests.support.polling import wait_until
from tests.support.redis_server import free_port
from tests.support.servers import serve

PRICE = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"


def applied_events(base_url: str) -> float:
    text = httpx.get(base_url + "/metrics").text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "pricing_edge_events_total" and sample.labels.get("result") == "applied")


def price(base_url: str, headers: dict[str, str], product_id: int) -> Decimal:
    body = httpx.post(base_url + "/graphql", json={"query": PRICE, "variables": {"id": product_id}},
                      headers=headers, timeout=30).json()
    return Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"]))


@pytest.fixture
def two_edges(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[tuple[list[str], Settings, dict]]:  # type: ignore[type-arg]
    ports = [free_port(), free_port()]
    bc_port, erp_port = free_port(), free_port()
    settings = replace(demo_settings(Settings.from_env({}), DemoLayout(ports[0])),
                       upstream_url=f"http://127.0.0.1:{bc_port}/graphql", erp_url=f"http://127.0.0.1:{erp_port}",
                       bc_latency_ms=0.0, erp_latency_ms=0.0, redis_url=redis_url, redis_prefix=redis_prefix)
    fixtures = demo_fixtures(pristine_dataset(settings.seed), DemoLayout(ports[0]), settings)
    env = {**os.environ, "PRICING_EDGE_REDIS_URL": redis_url, "PRICING_EDGE_REDIS_PREFIX": redis_prefix,
           "PRICING_EDGE_UPSTREAM_URL": settings.upstream_url, "PRICING_EDGE_ERP_URL": settings.erp_url,
           "PRICING_EDGE_EVENT_SECRET": settings.event_secret or "", "PRICING_EDGE_PRICE_LISTS": settings.to_env()["PRICING_EDGE_PRICE_LISTS"],
           "PRICING_EDGE_SCHEMA_CACHE": str(tmp_path / "schema.json")}
    with serve(bigcommerce_sim_app(settings), bc_port), serve(erp_sim_app(settings), erp_port):
        processes = [subprocess.Popen([sys.executable, "-m", "pricing_edge.cli", "serve", "--port", str(port),
                                       "--log-level", "warning"], env=env) for port in ports]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            for url in urls:
                wait_until(lambda url=url: _ready(url), timeout=60, what=f"edge {url} to be ready")
            yield urls, settings, fixtures
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_event_is_applied_once_and_both_edges_drop_the_old_price(two_edges) -> None:  # type: ignore[no-untyped-def]
    urls, settings, fixtures = two_edges
    buyer = next(b for b in fixtures["buyers"] if b["customer_id"] == 1)
    product = fixtures["products"][3]
    for url in urls:  # both edges now hold the old price in their in-process caches
        assert price(url, buyer["headers"], product["entity_id"]) == Decimal(product["expected_price"]["1"])
        assert price(url, buyer["headers"], product["entity_id"]) == Decimal(product["expected_price"]["1"])
    response = httpx.post(settings.erp_url + "/_sim/changes/price", timeout=30, json={
        "price_list_id": buyer["price_list_id"], "sku": product["variants"][0]["sku"], "currency": "USD",
        "price": "3.21", "sale_price": None})
    assert response.status_code == 200, response.text
    for url in urls:
        wait_until(lambda url=url: price(url, buyer["headers"], product["entity_id"]) == Decimal("3.21"),
                   timeout=15, what=f"{url} to serve the new price")
    assert sum(applied_events(url) for url in urls) == 1


def test_every_edge_answer_says_which_process_gave_it(redis_system: System) -> None:
    for path in ("/healthz", "/readyz"):
        assert httpx.get(redis_system.edge.base_url + path).headers[HEADER].endswith(f"-{os.getpid()}")
    answer = httpx.post(redis_system.edge_url, json={"query": "{ site { settings { storeName } } }"},
                        headers=redis_system.buyer("guest")["headers"])
    assert answer.headers[HEADER].endswith(f"-{os.getpid()}")
