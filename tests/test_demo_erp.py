"""``pricing-edge demo --erp s4hana``: the whole demo against the simulator's S/4HANA face — the
edge reads buyers' prices through the S/4 connector and the worker posts orders into S/4."""
from __future__ import annotations

import os
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
from tests.support.redis_server import free_port
from tests.test_demo import _in_use, _ready


def test_the_demo_runs_against_the_s4hana_face(tmp_path: Path) -> None:
    port = free_port()
    while any(_in_use(port + k) for k in range(1, 4)):
        port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    env.update({"PRICING_EDGE_BC_LATENCY_MS": "0", "PRICING_EDGE_SCHEMA_CACHE": str(tmp_path / "schema.json"),
                "PRICING_EDGE_ERP_MAPPING": str(tmp_path / "mapping.json"), "PRICING_EDGE_ERP_BUDGET_MS": "10000"})
    demo = subprocess.Popen([sys.executable, "-m", "pricing_edge.cli", "demo", "--port", str(port), "--erp", "s4hana"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        fixtures = orjson.loads(subprocess.run([sys.executable, "-m", "pricing_edge.cli", "fixtures", "--port",
                                                str(port)], env=env, capture_output=True, check=True).stdout)
        try:
            wait_until(lambda: _ready(fixtures["edge_url"].rsplit("/", 1)[0]), timeout=60, what="the demo edge")
        except AssertionError as exc:
            demo.terminate()
            raise AssertionError(f"{exc}\n--- demo output ---\n{demo.communicate(timeout=30)[0].decode()}") from None
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
    finally:
        demo.terminate()
        output = demo.communicate(timeout=30)[0].decode()
    assert "(s4hana face)" in output
