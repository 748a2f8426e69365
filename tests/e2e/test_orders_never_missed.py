"""No order is ever missed: with no webhook at all the poller still posts every order exactly once, and a
hook BigCommerce deactivated is re-activated by the worker, with an alert in its metrics — over real HTTP
and a real Redis."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pricing_edge.config import Settings
from pricing_edge.worker.webhooks import SCOPES
from tests.e2e.orders_system import OrderSystem, order_system
from tests.support.polling import wait_until

BUYER = 1


@pytest.fixture
def base(redis_url: str, redis_prefix: str) -> Settings:
    return replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix)


@pytest.fixture
def without_webhooks(base: Settings, tmp_path: Path) -> Iterator[OrderSystem]:
    """No hook registered anywhere: BigCommerce sends nothing; only the poller can find orders."""
    with order_system(base, tmp_path, register_hooks=False, order_poll_interval=0.3) as running:
        yield running


def polled(system: OrderSystem, result: str) -> float:
    found = re.search(rf'^pricing_edge_orders_polled_total{{result="{result}"}} (\S+)$',
                      system.ops("GET", "/metrics").text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_with_webhooks_switched_off_every_order_is_still_posted_once_by_the_poller(
        without_webhooks: OrderSystem) -> None:
    system = without_webhooks
    skus = system.skus(5)
    orders = [system.create_order(BUYER, [system.line(sku, 1 + n, BUYER)]) for n, sku in enumerate(skus)]
    for order in orders:
        entry = system.wait_synced(order["id"])
        handled = wait_until(lambda o=order: system.history(o["id"]), what="the order's handling in its history")
        assert set(handled) == {"store/order/updated"}  # the poller's, no webhook's
        assert entry["erp_id"]
    queued = polled(system, "queued")
    # Later polls re-read the overlap (and see our own write-back of the ERP number): still one ERP order each.
    wait_until(lambda: polled(system, "skipped") >= 2 * len(orders), what="later polls to pass over the orders")
    for order in orders:
        assert len(system.erp_orders(system.reference(order["id"]))) == 1
        wait_until(lambda o=order: system.order(o["id"])["external_order_id"], what="the ERP number written back")
    assert queued >= len(orders)


def test_an_incomplete_order_is_not_posted_by_the_poller_until_checkout_completes(
        without_webhooks: OrderSystem) -> None:
    system = without_webhooks
    (sku,) = system.skus(1, offset=3)
    order = system.create_order(BUYER, [system.line(sku, 1, BUYER)], status_id=0)
    wait_until(lambda: polled(system, "skipped") >= 2, what="polls to pass over the incomplete order")
    assert system.erp_orders(system.reference(order["id"])) == []
    assert system.admin("PUT", f"/v2/orders/{order['id']}", {"status_id": 11}).status_code == 200
    system.wait_synced(order["id"])
    assert len(system.erp_orders(system.reference(order["id"]))) == 1


def test_a_hook_bigcommerce_deactivated_is_re_activated_with_an_alert(base: Settings, tmp_path: Path) -> None:
    with order_system(base, tmp_path, register_hooks=False, worker_registers_hooks=True,
                      hook_check_interval=0.3) as system:
        def ours() -> list[dict[str, object]]:
            hooks = system.admin("GET", "/v3/hooks").json()["data"]
            return [h for h in hooks if h["destination"] == system.webhook_url]

        hooks = wait_until(lambda: ours() if len(ours()) == len(SCOPES) and all(h["is_active"] for h in ours()) else None,
                           what="the worker to register its hooks (orders and catalog)")
        created = next(h for h in hooks if h["scope"] == "store/order/created")
        # What BigCommerce does to a hook whose deliveries keep failing.
        assert system.admin("PUT", f"/v3/hooks/{created['id']}", {"is_active": False}).status_code == 200
        wait_until(lambda: system.admin("GET", f"/v3/hooks/{created['id']}").json()["data"]["is_active"],
                   what="the worker to re-activate the hook")
        metrics = system.ops("GET", "/metrics").text
        assert 'pricing_edge_webhooks_reactivated_total{scope="store/order/created"} 1.0' in metrics
        assert len(ours()) == len(SCOPES)  # re-activated, not re-created
        # And it delivers again: an order created now is posted through its webhook.
        (sku,) = system.skus(1, offset=7)
        order = system.create_order(BUYER, [system.line(sku, 1, BUYER)])
        system.wait_synced(order["id"])
        wait_until(lambda: "store/order/created" in system.history(order["id"]),
                   what="the order posted through its webhook")


def test_a_hook_that_sends_only_its_custom_header_delivers_every_order_once(base: Settings, tmp_path: Path) -> None:
    """No Standard Webhooks headers at all (no webhook-id): the custom header authenticates the delivery and a
    key of scope, data and created_at deduplicates it — the order is posted through its webhook, once."""
    with order_system(base, tmp_path, register_hooks=False, worker_registers_hooks=True, client_secret=None,
                      webhook_header="X-Pricing-Edge-Hook: new-value-2, old-value-1") as system:
        store = system.http.post(f"{system.bigcommerce.base_url}/_sim/store", json={"sign_webhooks": False})
        assert store.json()["sign_webhooks"] is False
        wait_until(lambda: len(system.admin("GET", "/v3/hooks").json()["data"]) == len(SCOPES),
                   what="the worker to register its hooks with the custom header")
        hooks = system.admin("GET", "/v3/hooks").json()["data"]
        assert all(h["headers"] == {"x-pricing-edge-hook": "new-value-2"} for h in hooks)  # the first is sent
        (sku,) = system.skus(1, offset=11)
        order = system.create_order(BUYER, [system.line(sku, 1, BUYER)])
        system.wait_synced(order["id"])
        wait_until(lambda: "store/order/created" in system.history(order["id"]),
                   what="the order posted through its header-only webhook")
        deliveries = system.http.get(f"{system.bigcommerce.base_url}/_sim/webhooks").json()["deliveries"]
        assert deliveries and all(d["status"] == "delivered" for d in deliveries)
        assert len(system.erp_orders(system.reference(order["id"]))) == 1
