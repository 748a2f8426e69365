"""The order flow under faults, against a real Redis: a worker killed mid-post (a real process,
SIGKILL), an ERP outage with 50 orders waiting, a poison order dead-lettered and replayed through
the command line, and what the queue leaves behind in Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from pricing_edge.config import Settings
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, Keys
from tests.e2e.orders_system import OrderSystem, order_system, worker_env, worker_process
from tests.support.polling import wait_until

BUYER = 1
ORDER_SCOPES = ["store/order/created", "store/order/updated", "store/order/statusUpdated"]


@pytest.fixture
def settings(redis_url: str, redis_prefix: str) -> Settings:
    return replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, bc_rate_limit="100000/30")


def cli(system: OrderSystem, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pricing_edge.cli", *args, "--url", system.worker_url],
                          env=worker_env(system.settings), capture_output=True, text=True, timeout=60)


def test_a_worker_killed_between_the_erp_post_and_the_ack_leaves_one_order(settings: Settings,
                                                                             tmp_path: Path) -> None:
    with order_system(settings, tmp_path, worker="none") as system:
        # The ERP commits each order at once but holds its reply: the worker cannot learn the number.
        system.erp_sim("/sales-orders/hold-replies", {"seconds": 120})
        with worker_process(system.settings, tmp_path / "worker-1.log") as first:
            (sku,) = system.skus(1)
            order = system.create_order(BUYER, [system.line(sku, 1, BUYER)])
            reference = system.reference(order["id"])
            (committed,) = wait_until(lambda: system.erp_orders(reference), what="the ERP to commit the order")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        system.erp_sim("/sales-orders/hold-replies", {"seconds": 0})
        with worker_process(system.settings, tmp_path / "worker-2.log"):
            entry = system.wait_synced(order["id"])
            assert entry["erp_id"] == committed["number"]
            assert len(system.erp_orders(reference)) == 1  # found by its reference, not posted again
            wait_until(lambda: system.order(order["id"])["external_order_id"] == committed["number"],
                       what="the ERP number written back")
        client = redis.Redis.from_url(settings.redis_url)
        keys = Keys(settings.redis_prefix)
        assert client.get(keys.ledger_erp("orders", committed["number"])) == str(order["id"]).encode()
        assert client.hget(keys.ledger_bc("orders", str(order["id"])), "claim_token") == b""


def test_orders_wait_out_an_erp_outage_and_post_once_each_in_order(settings: Settings, tmp_path: Path) -> None:
    # Webhooks are delivered here, one after the other, so the order they arrive in is known
    # (BigCommerce itself does not promise to deliver one order's webhooks in order).
    with order_system(settings, tmp_path, register_hooks=False) as system:
        system.erp_sim("/faults", {"down_seconds": 600})
        skus = system.skus(10, offset=20)
        orders = []
        for n in range(50):
            order = system.create_order(BUYER, [system.line(skus[n % 10], 1 + n % 3, BUYER)])
            assert system.admin("PUT", f"/v2/orders/{order['id']}", {"status_id": 9}).status_code == 200
            orders.append(order["id"])
        for scope in ORDER_SCOPES:  # interleaved: every order's created, then every order's updated, ...
            for order_id in orders:
                assert system.deliver(scope, {"type": "order", "id": order_id}).status_code == 200
        wait_until(lambda: _status(system)["retries_waiting"] == 50, timeout=60,
                   what="all 50 orders waiting for the ERP")
        assert system.http.get(f"{system.erp.base_url}/_sim/sales-orders").json()["orders"] == []
        system.http.delete(f"{system.erp.base_url}/_sim/faults")
        for order_id in orders:
            wait_until(lambda order_id=order_id: len(system.history(order_id)) == 3, timeout=60,
                       what=f"order {order_id}'s three events handled")
        posted = system.http.get(f"{system.erp.base_url}/_sim/sales-orders").json()["orders"]
        assert sorted(o["reference"] for o in posted) == sorted(system.reference(i) for i in orders)  # once each
        for order_id in orders:
            assert system.history(order_id) == ORDER_SCOPES  # each order's events in the order they came
        status = _status(system)
        assert (status["dead_letters"], status["retries_waiting"], status["depth"]) == (0, 0, 0)


def test_a_poison_order_is_dead_lettered_readably_and_replays_once_the_item_exists(settings: Settings,
                                                                                    tmp_path: Path) -> None:
    with order_system(settings, tmp_path) as system:
        ghost = {"name": "Mystery widget", "sku": "GHOST-1", "quantity": 2, "price_ex_tax": "5.00",
                 "price_inc_tax": "5.00"}
        order = system.create_order(BUYER, [ghost])
        entity = f"order:{order['id']}"
        wait_until(lambda: _dead_letters(system, entity), what="the order in the dead-letter stream")
        listed = cli(system, "ops", "dlq", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        (letter,) = [item for item in orjson.loads(listed.stdout)["items"] if item["entity"] == entity]
        assert letter["class"] == "needs-attention"
        assert "'GHOST-1' is unknown to the ERP" in letter["reason"]
        shown = cli(system, "ops", "dlq", "show", letter["id"])
        assert shown.returncode == 0 and '"kind": "store/order/created"' in shown.stdout
        status = cli(system, "ops", "status")
        assert status.returncode == 0 and "needs_attention" in status.stdout
        assert system.erp_orders(system.reference(order["id"])) == []
        assert (system.ledger(order["id"]) or {})["status"] == "dead-lettered"

        system.erp_sim("/items", {"sku": "GHOST-1", "price": "5.00"})  # the item master is fixed
        replayed = cli(system, "ops", "dlq", "replay", letter["id"])
        assert replayed.returncode == 0, replayed.stderr
        system.wait_synced(order["id"])
        assert len(system.erp_orders(system.reference(order["id"]))) == 1
        assert not _dead_letters(system, entity)
        again = cli(system, "ops", "dlq", "replay", letter["id"])
        assert again.returncode == 1 and "no dead letter" in again.stderr


def test_acknowledged_intake_is_trimmed_and_dedup_keys_expire(settings: Settings, tmp_path: Path) -> None:
    with order_system(settings, tmp_path) as system:
        (sku,) = system.skus(1, offset=40)
        order = system.create_order(BUYER, [system.line(sku, 1, BUYER)])
        system.wait_synced(order["id"])
        client = redis.Redis.from_url(settings.redis_url)
        keys = Keys(settings.redis_prefix)
        stream = keys.stream(BIGCOMMERCE_INTAKE)
        wait_until(lambda: client.xlen(stream) == 0, timeout=30, what="the acknowledged intake trimmed")
        deliveries = list(client.scan_iter(keys.dedup(BIGCOMMERCE_INTAKE, "*")))
        routing = list(client.scan_iter(keys.routed("orders", "*")))
        assert deliveries and routing, "deliveries and routing are deduplicated"
        dedup = deliveries + routing
        week = 7 * 24 * 3600
        assert all(week - 600 < client.ttl(key) <= week for key in dedup)


def test_the_correlation_id_travels_from_the_webhook_to_the_erp_call(settings: Settings, tmp_path: Path) -> None:
    with order_system(settings, tmp_path, register_hooks=False) as system:
        (sku,) = system.skus(1, offset=41)
        order = system.create_order(BUYER, [system.line(sku, 1, BUYER)])
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        answer = system.deliver("store/order/created", {"type": "order", "id": order["id"]},
                                headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        assert answer.status_code == 200
        entry = system.wait_synced(order["id"])
        assert entry["correlation_id"].split("-")[1] == trace_id
        (posted,) = system.erp_orders(system.reference(order["id"]))
        assert posted["created_by_trace"].split("-")[1] == trace_id


def _status(system: OrderSystem) -> dict[str, Any]:
    return dict(system.ops("GET", "/ops/status").json()["flows"]["orders"])


def _dead_letters(system: OrderSystem, entity: str) -> list[dict[str, Any]]:
    return [item for item in system.ops("GET", "/ops/dlq").json()["items"] if item["entity"] == entity]
