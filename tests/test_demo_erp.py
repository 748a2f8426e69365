"""``pricing-edge demo --erp s4hana``: the whole demo against the simulator's S/4HANA face — the
edge reads buyers' prices through the S/4 connector and the worker posts orders into S/4."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import orjson

from pricing_edge.demo import demo_order
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON
from tests.support.polling import wait_until
from tests.support.processes import cli_env, demo_process


def test_the_demo_runs_against_the_s4hana_face(tmp_path: Path) -> None:
    env = cli_env({"erp": "s4hana", "bc_latency_ms": 0, "schema_cache": tmp_path / "schema.json",
                   "erp_mapping": tmp_path / "mapping.json", "erp_budget_ms": 10000})
    log = tmp_path / "demo.log"
    with demo_process(env, log) as (_, port):
        fixtures = orjson.loads(subprocess.run([sys.executable, "-m", "pricing_edge.cli", "fixtures", "--port",
                                                str(port)], env=env, capture_output=True, check=True).stdout)
        dataset = build_dataset(7)
        product = fixtures["products"][1]
        query = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"
        for buyer in fixtures["buyers"]:
            record = dataset.prices.get(buyer["price_list_id"], product["sku"], "USD")
            assert record is not None
            body = httpx.post(fixtures["edge_url"], json={"query": query, "variables": {"id": product["entity_id"]}},
                              headers=buyer["headers"], timeout=30).json()
            assert Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"])) == record.price
        order = httpx.post(fixtures["admin_url"] + "/v2/orders", json=demo_order(fixtures),
                           headers={"X-Auth-Token": fixtures["admin_token"]}, timeout=30).json()

        def posted() -> list[dict[str, object]]:
            answer = httpx.get(fixtures["erp_url"] + "/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder",
                               params={"$filter": f"PurchaseOrderByCustomer eq 'BC-demo-{order['id']}'",
                                       "sap-client": DEMO_LOGON.client},
                               auth=(DEMO_LOGON.user, DEMO_LOGON.password), timeout=30)
            return list(answer.json()["d"]["results"])

        (sales_order,) = wait_until(posted, timeout=60, what="the demo order in S/4")
        assert sales_order["SoldToParty"] == "17100001"  # buyer 1's company, in S/4's own number
    assert "(s4hana face)" in log.read_text()
