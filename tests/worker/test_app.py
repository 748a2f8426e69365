"""The worker's own port: health, metrics, the ops API and its dashboard page, nothing public; and the
command line that registers its webhooks (idempotent, over real HTTP to the BigCommerce simulator)."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import orjson
import pytest

from pricing_edge.config import Settings
from tests.e2e.orders_system import OrderSystem, order_system, worker_env
from tests.support.polling import wait_until


@pytest.fixture
def system(tmp_path: Path) -> Iterator[OrderSystem]:
    with order_system(Settings.from_env({}), tmp_path, register_hooks=False) as running:
        yield running


def test_the_worker_serves_health_metrics_and_ops_only(system: OrderSystem) -> None:
    assert system.ops("GET", "/healthz").json()["status"] == "ok"
    assert "pricing_edge_worker_depth" in system.ops("GET", "/metrics").text
    for path in ("/graphql", "/webhooks/bigcommerce", "/events/erp"):
        assert system.ops("POST", path).status_code == 404


def test_the_dashboard_page_is_served_under_a_strict_policy(system: OrderSystem) -> None:
    page = system.http.get(system.worker_url + "/ops/")  # the page holds no data: no token needed to load it
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"] and "<script>" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert system.http.get(system.worker_url + "/ops/assets/dashboard.js").status_code == 200
    assert system.http.get(system.worker_url + "/ops/assets/__init__.py").status_code == 404
    assert system.http.get(system.worker_url + "/ops", follow_redirects=False).headers["location"] == "/ops/"
    answer = system.ops("GET", "/ops/status")
    assert answer.headers["cache-control"] == "no-store"


def test_the_ledger_is_found_by_order_id_reference_or_erp_number(system: OrderSystem) -> None:
    (sku,) = system.skus(1, offset=23)
    order = system.create_order(1, [system.line(sku, 1, 1)])
    assert system.deliver("store/order/created", {"type": "order", "id": order["id"]}).status_code == 200
    entry = system.wait_synced(order["id"])
    for key in (str(order["id"]), system.reference(order["id"]), entry["erp_id"]):
        assert system.ops("GET", f"/ops/ledger/orders/{key}").json()["bc_id"] == str(order["id"]), key
    assert system.ops("GET", "/ops/ledger/orders/BC-demo-999999").status_code == 404


def test_ops_status_and_metrics_show_the_same_figures(system: OrderSystem) -> None:
    order = system.create_order(1, [{"name": "Unknown part", "sku": "NOPE-1", "quantity": 1, "price_ex_tax": "1.00",
                                     "price_inc_tax": "1.00"}])
    assert system.deliver("store/order/created", {"type": "order", "id": order["id"]}).status_code == 200
    wait_until(lambda: system.ops("GET", "/ops/status").json()["flows"]["orders"]["dead_letters"] == 1,
               what="the order dead-lettered")
    figures = system.ops("GET", "/ops/status").json()["flows"]["orders"]
    metrics = system.ops("GET", "/metrics").text
    assert f'pricing_edge_worker_dead_letters{{flow="orders"}} {figures["dead_letters"]}.0' in metrics
    assert f'pricing_edge_worker_depth{{flow="orders"}} {figures["depth"]}.0' in metrics
    assert figures["needs_attention"] == 1 and figures["last_success"] is None


def test_bad_ops_requests_get_clear_errors(system: OrderSystem) -> None:
    assert "unknown flow" in system.ops("GET", "/ops/dlq?flow=nope").json()["error"]
    for path in ("/ops/dlq?limit=0", "/ops/dlq?limit=x", "/ops/audit?limit=100000", "/ops/dlq/replay-all?flow=nope"):
        method = "POST" if "replay" in path else "GET"
        answer = system.ops(method, path)
        assert answer.status_code == 400 and answer.json()["error"], path
    for method, path in (("GET", "/ops/dlq/orders:1-0"), ("POST", "/ops/dlq/bogus/replay"),
                         ("DELETE", "/ops/dlq/orders:1-0"), ("GET", "/ops/ledger/orders/999999")):
        answer = system.ops(method, path)
        assert answer.status_code == 404 and answer.json()["error"], (method, path)


def test_register_webhooks_twice_changes_nothing_the_second_time(system: OrderSystem) -> None:
    def register() -> list[dict[str, object]]:
        result = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "bigcommerce", "register-webhooks",
                                 "--destination", system.webhook_url], env=worker_env(system.settings),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return list(orjson.loads(result.stdout))

    first = register()
    assert {change["action"] for change in first} == {"created"}
    assert {change["scope"] for change in first} == {"store/order/created", "store/order/updated",
                                                     "store/order/statusUpdated", "store/product/created",
                                                     "store/product/updated", "store/product/deleted",
                                                     "store/category/*", "store/brand/*",
                                                     "store/priceList/assignment/updated"}
    second = register()
    assert {change["action"] for change in second} == {"unchanged"}
    hooks = system.admin("GET", "/v3/hooks").json()["data"]
    assert len([h for h in hooks if h["destination"] == system.webhook_url]) == 9


def test_register_webhooks_says_why_it_failed(system: OrderSystem) -> None:
    env = {**worker_env(replace(system.settings, admin_token="wrong-token")),
           "PRICING_EDGE_ADMIN_URL": system.settings.admin_url}
    result = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "bigcommerce", "register-webhooks",
                             "--destination", system.webhook_url], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "cannot register webhooks" in result.stderr
    assert "401" in result.stderr


def test_the_ops_cli_says_when_the_worker_is_unreachable(system: OrderSystem) -> None:
    result = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "ops", "status", "--url",
                             "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "cannot reach the worker" in result.stderr
    assert httpx.get(system.worker_url + "/healthz").status_code == 200


def test_the_ops_cli_sends_its_token_and_says_when_it_is_refused(system: OrderSystem) -> None:
    def ops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pricing_edge.cli", "ops", *args, "--url", system.worker_url],
                              env=worker_env(system.settings), capture_output=True, text=True, timeout=60)

    assert ops("dlq", "replay", "--all").returncode == 0
    audit = ops("audit", "--json")
    assert audit.returncode == 0, audit.stderr
    (entry,) = orjson.loads(audit.stdout)["entries"]
    assert (entry["operator"], entry["via"], entry["action"]) == ("demo", "api", "dlq.replay-all")
    refused = ops("status", "--token", "not-the-token-at-all")
    assert refused.returncode == 1 and "refused the ops token" in refused.stderr


def test_a_malformed_webhook_is_dead_lettered_with_the_reason(system: OrderSystem) -> None:
    """Accepted (a refusal would only make BigCommerce retry it, then deactivate the hook), never dropped
    silently: the worker dead-letters it, saying what is wrong."""
    assert system.deliver("store/order/created", {"type": "order", "id": "abc"}).status_code == 200
    wait_until(lambda: system.ops("GET", "/ops/status").json()["flows"]["orders"]["dead_letters"] == 1,
               what="the malformed webhook dead-lettered")
    letters = system.ops("GET", "/ops/dlq?flow=orders").json()
    assert "data.id: 'abc' is not of type 'integer'" in orjson.dumps(letters).decode(), letters
