"""Credit at order placement: an order paid on account above the company's available credit is held — not in
the ERP, *Manual Verification Required* in BigCommerce, ``held`` in the ledger — and posted once a payment
event raises the available credit. Over real HTTP (ERP events through the edge's intake) and a real Redis."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from pricing_edge.config import Settings
from tests.e2e.orders_system import OrderSystem, order_system
from tests.support.polling import wait_until

BUYER, COMPANY = 1, 1  # customer 1 buys for company 1
MANUAL_VERIFICATION, AWAITING_FULFILLMENT = 12, 11


@pytest.fixture
def system(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[OrderSystem]:
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix)
    with order_system(settings, tmp_path) as running:
        yield running


def set_credit(system: OrderSystem, **values: str) -> None:
    """A change in the ERP (a payment, a new limit, a hold), sent as its signed credit event."""
    system.erp_sim("/changes/credit", {"company_id": COMPANY, **values})


def held(system: OrderSystem, order_id: int) -> dict[str, Any] | None:
    entry = system.ledger(order_id)
    return entry if entry and entry["status"] == "held" else None


def held_count(system: OrderSystem) -> int:
    response = system.ops("GET", "/ops/status")
    assert response.status_code == 200, response.text
    return int(response.json()["flows"]["orders"]["held"])


def credit_events_handled(system: OrderSystem) -> float:
    found = re.search(r'^pricing_edge_worker_routed_total\{(?=[^}]*source="erp")(?=[^}]*flow="orders")[^}]*\} (\S+)$',
                      system.ops("GET", "/metrics").text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def on_account_order(system: OrderSystem, sku: str, quantity: int) -> dict[str, Any]:
    return system.create_order(BUYER, [system.line(sku, quantity, BUYER)], payment_method="Purchase Order",
                               customer_message="PO-9001")


def test_an_over_limit_on_account_order_is_held_then_released_when_a_payment_raises_the_credit(
        system: OrderSystem) -> None:
    set_credit(system, credit_limit="1000.00", balance="999.00", status="ok")  # 1.00 available
    (sku,) = system.skus(1, offset=4)
    order = on_account_order(system, sku, 2)
    entry = wait_until(lambda: held(system, order["id"]), what="the over-limit order to be held")
    hold = orjson.loads(entry["detail"])["hold"]
    assert hold["company_id"] == COMPANY and "exceeds the available credit 1.00" in hold["reason"]
    wait_until(lambda: system.order(order["id"])["status_id"] == MANUAL_VERIFICATION,
               what="the held order to show in BigCommerce")
    assert system.erp_orders(system.reference(order["id"])) == []  # not posted as an open order
    assert entry["erp_id"] in (None, "")
    assert held_count(system) == 1  # the ops status shows it

    set_credit(system, balance="0.00")  # the company paid: 1000.00 available
    entry = system.wait_synced(order["id"])
    (posted,) = system.erp_orders(system.reference(order["id"]))
    assert posted["number"] == entry["erp_id"] and posted["po_number"] == "PO-9001"
    assert "released_at" in orjson.loads(entry["detail"])["hold"]
    assert held_count(system) == 0
    wait_until(lambda: system.order(order["id"])["status_id"] == AWAITING_FULFILLMENT,
               what="the released order back to Awaiting Fulfillment")
    before = credit_events_handled(system)
    set_credit(system, balance="1.00")  # another credit event: nothing is posted again
    wait_until(lambda: credit_events_handled(system) > before, what="the credit event to reach the orders flow")
    assert len(system.erp_orders(system.reference(order["id"]))) == 1


def test_an_order_from_a_company_on_hold_is_held_and_other_payment_methods_are_not(system: OrderSystem) -> None:
    set_credit(system, credit_limit="100000.00", balance="0.00", status="hold")
    sku_a, sku_b = system.skus(2, offset=6)
    on_account = on_account_order(system, sku_a, 1)
    by_card = system.create_order(BUYER, [system.line(sku_b, 1, BUYER)], payment_method="Credit Card")
    entry = wait_until(lambda: held(system, on_account["id"]), what="the on-account order to be held")
    assert "on hold" in orjson.loads(entry["detail"])["hold"]["reason"]
    system.wait_synced(by_card["id"])  # paid by card: the company's credit is not at stake
    set_credit(system, status="ok")  # the hold is lifted
    system.wait_synced(on_account["id"])
    assert len(system.erp_orders(system.reference(on_account["id"]))) == 1


def test_the_merchant_releases_a_held_order_by_moving_it_out_of_manual_verification(system: OrderSystem) -> None:
    set_credit(system, credit_limit="10.00", balance="10.00", status="ok")  # nothing available
    (sku,) = system.skus(1, offset=8)
    order = on_account_order(system, sku, 1)
    wait_until(lambda: held(system, order["id"]), what="the order to be held")
    wait_until(lambda: system.order(order["id"])["status_id"] == MANUAL_VERIFICATION, what="the hold in BigCommerce")
    assert system.admin("PUT", f"/v2/orders/{order['id']}", {"status_id": AWAITING_FULFILLMENT}).status_code == 200
    system.wait_synced(order["id"])  # posted although the credit still does not allow it: the merchant decided
    assert len(system.erp_orders(system.reference(order["id"]))) == 1
    assert system.order(order["id"])["status_id"] == AWAITING_FULFILLMENT
