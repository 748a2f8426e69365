"""`pricing-edge demo` runs the whole system in one process, and what its banner says works."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import httpx
import orjson

from pricing_edge.demo import demo_order
from tests.support.polling import wait_until
from tests.support.processes import cli_env, demo_process, sigterm_and_wait


def test_the_demo_serves_each_buyer_the_erp_price_and_applies_erp_events(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = cli_env({"bc_latency_ms": 0, "schema_cache": tmp_path / "schema.json"})
    log = tmp_path / "demo.log"
    with demo_process(env, log) as (demo, port):
        fixtures = orjson.loads(subprocess.run(
            [sys.executable, "-m", "pricing_edge.cli", "fixtures", "--port", str(port)], env=env,
            capture_output=True, check=True).stdout)
        product = fixtures["products"][0]
        query = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"
        for buyer in fixtures["buyers"]:
            key = str(buyer["customer_id"]) if buyer["customer_id"] else "guest"
            body = httpx.post(fixtures["edge_url"], json={"query": query, "variables": {"id": product["entity_id"]}},
                              headers=buyer["headers"], timeout=30).json()
            assert Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"])) == \
                Decimal(product["expected_price"][key])
        buyer = fixtures["buyers"][0]
        change = {"price_list_id": buyer["price_list_id"], "sku": product["variants"][0]["sku"], "currency": "USD",
                  "price": "1.23", "sale_price": None}
        assert httpx.post(fixtures["erp_url"] + "/_sim/changes/price", json=change, timeout=30).status_code == 200

        def shows_new_price() -> bool:
            body = httpx.post(fixtures["edge_url"], json={"query": query, "variables": {"id": product["entity_id"]}},
                              headers=buyer["headers"], timeout=30).json()
            return Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"])) == Decimal("1.23")

        wait_until(shows_new_price, timeout=15, what="the demo edge to show the ERP's new price")

        # The write path: an order placed in BigCommerce reaches the ERP through the demo's worker.
        order = httpx.post(fixtures["admin_url"] + "/v2/orders", json=demo_order(fixtures),
                           headers={"X-Auth-Token": fixtures["admin_token"]}, timeout=30).json()
        reference = f"BC-demo-{order['id']}"

        def posted() -> list[dict[str, object]]:
            return list(httpx.get(fixtures["erp_url"] + "/api/v1/sales-orders", params={"reference": reference},
                                  timeout=30).json()["items"])

        (sales_order,) = wait_until(posted, timeout=30, what="the demo order in the ERP")
        status = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "ops", "status", "--json", "--port",
                                 str(port)], env=env, capture_output=True, check=True).stdout  # as the banner says
        assert orjson.loads(status)["flows"]["orders"]["dead_letters"] == 0
        assert sales_order["sold_to"].startswith(("company:", "customer:"))
        assert sigterm_and_wait(demo, timeout=30)[1] == 0
    output = log.read_text()
    assert "curl -s " + fixtures["edge_url"] in output
    assert "keeps nothing" in output
    assert f"pricing-edge ops status --port {port}" in output

