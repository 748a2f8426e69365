"""The wheel round trip: the package built and installed as the image installs it (not the worktree, not
editable) runs the demo from a directory outside the repository, and that demo accepts a signed ERP
event and a signed BigCommerce webhook — the first thing a broken wheel used to answer with a 500."""
from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from pricing_edge.config import DEMO_CLIENT_SECRET
from pricing_edge.demo import demo_order
from pricing_edge.intake import envelope
from pricing_edge.intake.bigcommerce_webhooks import signing_secret
from pricing_edge.sim.fixtures import DEMO_EVENT_SECRET
from tests.packaging.dockerfile import REPO
from tests.support.polling import wait_until
from tests.support.processes import demo_process, sigterm_and_wait

QUERY = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"


def _outside_the_repo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_") and k != "PYTHONPATH"}
    return {**env, "PRICING_EDGE_BC_LATENCY_MS": "0", "PRICING_EDGE_ERP_LATENCY_MS": "0"}


@pytest.fixture
def demo(installed: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``pricing-edge demo`` from the installed copy, in a scratch directory; yields its fixtures. Its four
    ports are tried again elsewhere if a parallel test takes one first (``demo_process``)."""
    command = str(installed / "bin" / "pricing-edge")
    env = _outside_the_repo_env()
    with demo_process(env, tmp_path / "demo.log", command=[command], cwd=tmp_path) as (process, port):
        fixtures = orjson.loads(subprocess.run([command, "fixtures", "--port", str(port)], cwd=tmp_path, env=env,
                                               capture_output=True, check=True).stdout)
        yield {**fixtures, "base": fixtures["edge_url"].rsplit("/", 1)[0]}
        sigterm_and_wait(process, timeout=30)  # a clean stop; demo_process kills it if this did not


def test_the_installed_copy_is_what_runs(installed: Path, tmp_path: Path) -> None:
    script = ("import pricing_edge, importlib.resources as r; print(pricing_edge.__file__); "
              "print(sorted(p.name for p in (r.files('pricing_edge') / 'schemas' / 'events').iterdir()))")
    result = subprocess.run([str(installed / "bin" / "python"), "-c", script], cwd=tmp_path,
                            env=_outside_the_repo_env(), capture_output=True, text=True, check=True)
    location, schemas = result.stdout.splitlines()
    assert Path(location).is_relative_to(installed) and not Path(location).is_relative_to(REPO)
    assert "cloudevent.json" in schemas and "com.pricingedge.price.changed.json" in schemas


def test_the_installed_demo_accepts_an_erp_event_and_a_bigcommerce_webhook(demo: dict[str, Any]) -> None:
    product, buyer = demo["products"][0], demo["buyers"][0]
    variables = {"id": product["entity_id"]}

    # An ERP event, signed as a connector signs it: accepted (202), then visible to the buyer.
    data = {"price_list_id": buyer["price_list_id"], "sku": product["variants"][0]["sku"], "currency": "USD",
            "price": "1.23", "version": int(time.time() * 1000) + 3_600_000}  # newer than the ERP's, within a day
    event = envelope.signed_event("com.pricingedge.price.changed", data, source="urn:test:packaging",
                                  secret=DEMO_EVENT_SECRET)
    accepted = httpx.post(demo["events_url"], content=event.body, headers=event.headers, timeout=30)
    assert accepted.status_code == 202, accepted.text

    def price() -> Decimal:
        body = httpx.post(demo["edge_url"], json={"query": QUERY, "variables": variables},
                          headers=buyer["headers"], timeout=30).json()
        return Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"]))

    wait_until(lambda: price() == Decimal("1.23"), timeout=30, what="the event's price at the installed edge")

    # A BigCommerce webhook, signed with the app's client secret: accepted (200), and the order it names
    # reaches the ERP through the installed worker.
    order = httpx.post(demo["admin_url"] + "/v2/orders", json=demo_order(demo),
                       headers={"X-Auth-Token": demo["admin_token"]}, timeout=30).json()
    payload = {"scope": "store/order/updated", "store_id": "1", "data": {"type": "order", "id": order["id"]},
               "hash": uuid.uuid4().hex, "created_at": int(time.time()), "producer": "stores/demo"}
    body = orjson.dumps(payload)
    webhook_id = f"msg_{uuid.uuid4().hex}"
    moment = datetime.now(UTC)
    signature = Webhook(signing_secret(DEMO_CLIENT_SECRET)).sign(webhook_id, moment, body.decode())
    delivered = httpx.post(demo["webhooks_url"], content=body, timeout=30, headers={
        "content-type": "application/json", "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": signature})
    assert delivered.status_code == 200, delivered.text

    def in_the_erp() -> list[dict[str, Any]]:
        return list(httpx.get(demo["erp_url"] + "/api/v1/sales-orders",
                              params={"reference": f"BC-demo-{order['id']}"}, timeout=30).json()["items"])

    assert wait_until(in_the_erp, timeout=60, what="the order in the ERP")[0]["bc_order_id"] == order["id"]

