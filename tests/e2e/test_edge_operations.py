"""The edge's other promises: buyers by customer access token, prices-only documents without the
upstream, health and metrics, a restart with the upstream down, and warming a fresh store."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pricing_edge.bigcommerce.storefront import forwarded
from pricing_edge.edge.warm import warm
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.e2e.conftest import System, module_system, start_system

PRICE = "query($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"


@pytest.fixture(scope="module", params=["redis", "embedded"])
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """One system per store for the module: its tests read, each on products of its own, and compare
    metrics before and after within the test."""
    yield from module_system(request, tmp_path_factory.mktemp("operations"), "operations")


def metric(system: System, name: str, **labels: str) -> float:
    text = httpx.get(system.edge.base_url + "/metrics").text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_a_customer_access_token_resolves_the_buyer_through_the_upstream(system: System) -> None:
    buyer = system.buyer("2")
    product = system.fixtures["products"][1]
    headers = {"Authorization": system.buyer("guest")["headers"]["Authorization"],
               "X-Bc-Customer-Access-Token": buyer["customer_access_token"]}
    body = httpx.post(system.edge_url, json={"query": PRICE, "variables": {"id": product["entity_id"]}},
                      headers=headers).json()
    assert Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"])) == \
        Decimal(product["expected_price"]["2"])


def test_bigcommerces_error_for_an_invalid_access_token_passes_through_unchanged(system: System) -> None:
    headers = {"Authorization": system.buyer("guest")["headers"]["Authorization"],
               "X-Bc-Customer-Access-Token": "cat_2_forged", "X-Bc-Error-On-Invalid-Customer-Access-Token": "true"}
    query = {"query": "{ site { settings { storeName } } }"}
    from_edge = httpx.post(system.edge_url, json=query, headers=headers)
    from_upstream = httpx.post(system.bigcommerce.base_url + "/graphql", json=query, headers=headers)
    assert from_edge.status_code == from_upstream.status_code
    assert from_edge.json() == from_upstream.json()
    assert from_edge.json()["errors"][0]["extensions"]["code"]
    without_flag = {k: v for k, v in headers.items() if k != "X-Bc-Error-On-Invalid-Customer-Access-Token"}
    assert "data" in httpx.post(system.edge_url, json=query, headers=without_flag).json()  # guest


def test_a_prices_only_document_for_a_known_product_skips_the_upstream(system: System) -> None:
    product = system.fixtures["products"][6]
    catalog_doc = "query($id: Int!) { site { product(entityId: $id) { name prices { price { value } } } } }"
    system.query(catalog_doc, "1", {"id": product["entity_id"]})  # the edge learns the product is visible
    calls = metric(system, "pricing_edge_upstream_calls_total")
    refresh = """query Refresh($id: Int!) { site { product(entityId: $id) {
        entityId sku prices { price { value currencyCode } priceRange { min { value } } }
        inventory { isInStock aggregated { availableToSell } }
        variants { edges { node { entityId prices { price { value } } } } } } } }"""
    answer = system.query(refresh, "1", {"id": product["entity_id"]})["data"]["site"]["product"]
    assert metric(system, "pricing_edge_upstream_calls_total") == calls
    assert metric(system, "pricing_edge_synthesized_answers_total") >= 1
    assert Decimal(str(answer["prices"]["price"]["value"])) == Decimal(product["expected_price"]["1"])
    assert answer["inventory"]["aggregated"]["availableToSell"] == product["available_to_sell"]
    assert answer == system.upstream(refresh, "1", {"id": product["entity_id"]})["data"]["site"]["product"] | {
        "prices": answer["prices"], "inventory": answer["inventory"], "variants": answer["variants"]}
    unseen = system.fixtures["products"][7]
    system.query(refresh, "1", {"id": unseen["entity_id"]})
    assert metric(system, "pricing_edge_upstream_calls_total") == calls + 1  # unknown product: ask BigCommerce


def test_health_readiness_and_metrics(system: System) -> None:
    assert httpx.get(system.edge.base_url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(system.edge.base_url + "/readyz")
    assert ready.status_code == 200 and ready.json()["store"] and ready.json()["upstream"]
    product = system.fixtures["products"][1]
    system.query(PRICE, "guest", {"id": product["entity_id"]})
    system.query(PRICE, "guest", {"id": product["entity_id"]})
    assert metric(system, "pricing_edge_request_seconds_count", route="/graphql") >= 2
    assert metric(system, "pricing_edge_cache_lookups_total", tier="response", result="hit") >= 1
    assert metric(system, "pricing_edge_cache_lookups_total", tier="l1", result="miss") >= 1
    assert metric(system, "pricing_edge_erp_reads_total") >= 1
    assert metric(system, "pricing_edge_upstream_calls_total") >= 1


def test_a_restart_during_an_upstream_outage_starts_from_the_saved_schema(redis_url: str, redis_prefix: str,
                                                                         tmp_path: Path) -> None:
    from pricing_edge.config import Settings

    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix)
    for system in start_system(settings, tmp_path):  # first start: learns the schema and saves it
        assert (tmp_path / "schema.json").exists()
        product = system.fixtures["products"][1]
        system.query(PRICE, "1", {"id": product["entity_id"]})
    from pricing_edge.demo import edge_app
    from tests.support.servers import serve

    dead_upstream = replace(system.settings, upstream_url="http://127.0.0.1:9/graphql")
    with serve(edge_app(dead_upstream)) as edge:
        assert httpx.get(edge.base_url + "/healthz").status_code == 200
        ready = httpx.get(edge.base_url + "/readyz").json()
        assert ready["upstream"] is False


def test_warm_loads_price_lists_and_stock_so_first_reads_spare_the_erp(redis_system: System) -> None:
    system = redis_system
    assignments = system.settings.assignments

    async def run() -> None:
        store = RedisStore(system.settings.redis_url or "", Keys(system.settings.redis_prefix))
        erp = SimulatedErpAdapter(system.settings.erp_url)
        try:
            report = await warm(store, erp, assignments, ["USD"])
            assert report.prices > 1000 and report.stock_levels > 1000
        finally:
            await erp.aclose()
            await store.aclose()

    asyncio.run(run())
    reads = metric(system, "pricing_edge_erp_reads_total")
    product = system.fixtures["products"][2]
    answer = system.query("query($id: Int!) { site { product(entityId: $id) { prices { price { value } } "
                          "inventory { aggregated { availableToSell } } } } }", "1", {"id": product["entity_id"]})
    assert answer["data"]["site"]["product"]["inventory"]["aggregated"]["availableToSell"] == \
        product["available_to_sell"]
    assert metric(system, "pricing_edge_erp_reads_total") == reads


def test_the_proxy_headers_bigcommerce_rate_limits_on_are_sent() -> None:
    headers = forwarded({"authorization": "Bearer t", "x-bc-customer-id": "3", "cookie": "secret", "host": "x"},
                        "203.0.113.9", "proxy-secret")
    assert headers == {"authorization": "Bearer t", "x-bc-customer-id": "3", "True-Client-IP": "203.0.113.9",
                       "X-BC-Trusted-Proxy-Secret": "proxy-secret"}


def test_warm_at_start_fills_the_store_in_the_background(redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    from pricing_edge.config import Settings
    from tests.support.polling import wait_until

    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, warm_at_start=1,
                       currencies="USD")
    for system in start_system(settings, tmp_path):
        product = system.fixtures["products"][3]

        async def stored() -> bool:
            store = RedisStore(redis_url, Keys(redis_prefix))
            try:
                found = await store.get_prices(system.buyer("1")["price_list_id"], "USD", [product["variants"][0]["sku"]])
                return bool(found)
            finally:
                await store.aclose()

        wait_until(lambda: asyncio.run(stored()), timeout=60, what="warming at start to reach the product")
