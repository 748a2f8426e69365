"""The whole system with ``PRICING_EDGE_ERP=s4hana`` against the simulator's S/4HANA face, over real
HTTP and a real Redis: the demo's buyers see their S/4 prices through the edge; an order posts once
through a worker killed mid-post (a real process, SIGKILL); a price changed in S/4 reaches the edge
through the change source; an order shipped in S/4 reaches BigCommerce through an S/4 business event."""
from __future__ import annotations

import os
import signal
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pricing_edge.config import Settings
from pricing_edge.domain.orders import cents
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import fixture_products
from tests.e2e.orders_system import OrderSystem, order_system, worker_env, worker_process
from tests.e2e.test_orders_complete import checkout_with_everything
from tests.support.polling import wait_until

BUYER = 1
PRICE = "query Price($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"
S4_FAST = {"erp": "s4hana", "erp_poll_interval": 0.3, "erp_poll_overlap": 5.0, "erp_full_read_interval": 3600.0,
           "bc_rate_limit": "100000/30", "erp_budget_ms": 10_000.0}  # prices, not latency, are asserted here


@pytest.fixture
def settings(redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix,
                   erp_mapping=str(tmp_path / "s4hana-mapping.json"), **S4_FAST)  # type: ignore[arg-type]


def s4_worker_env(settings: Settings) -> dict[str, str]:
    env = worker_env(settings)
    for name in ("erp", "erp_mapping", "s4_user", "s4_password", "s4_sap_client", "events_url", "event_secret",
                 "erp_poll_interval", "erp_poll_overlap", "erp_full_read_interval", "worker_max_attempts"):
        value = getattr(settings, name)
        if value is not None:
            env[f"PRICING_EDGE_{name.upper()}"] = str(value)
    return env


def s4_price(system: OrderSystem, price_list: int, sku: str) -> Decimal:
    """S/4's price: its PPR0 condition record (no sale price: one condition type, no pricing run)."""
    record = system.erp.server.config.app.state.erp.state.dataset.prices.get(price_list, sku, "USD")  # type: ignore[attr-defined]
    assert record is not None
    return Decimal(record.price)


def edge_price(system: OrderSystem, product_id: int, customer_id: int | None) -> Decimal:
    headers = ({"Authorization": f"Bearer {system.settings.impersonation_token}", "X-Bc-Customer-Id": str(customer_id)}
               if customer_id else {"Authorization": f"Bearer {system.settings.storefront_token}"})
    answer = httpx.post(system.edge.base_url + "/graphql", json={"query": PRICE, "variables": {"id": product_id}},
                        headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return Decimal(str(answer.json()["data"]["site"]["product"]["prices"]["price"]["value"]))


def test_buyers_see_their_s4_prices_through_the_edge_and_a_price_changed_in_s4_reaches_it(
        settings: Settings, tmp_path: Path) -> None:
    with order_system(settings, tmp_path) as system:
        dataset = build_dataset(settings.seed)
        buyers = [(1, dataset.price_list_for_group(dataset.customer(1).customer_group_id)),  # type: ignore[union-attr]
                  (2, dataset.price_list_for_group(dataset.customer(2).customer_group_id)),  # type: ignore[union-attr]
                  (None, dataset.default_price_list_id)]
        products = [p for p in fixture_products(dataset) if len(p.variants) == 1][:8]  # visible to every buyer
        for product in products:
            for customer_id, price_list in buyers:
                assert edge_price(system, product.id, customer_id) == s4_price(system, price_list, product.sku), (
                    product.sku, customer_id)
        product = products[3]
        list_id = buyers[0][1]
        before_other = edge_price(system, product.id, 2)
        system.erp_sim("/changes/price", {"price_list_id": list_id, "sku": product.sku, "currency": "USD",
                                          "price": "7.77"})  # S/4 emits nothing for it: the change source polls
        wait_until(lambda: edge_price(system, product.id, 1) == Decimal("7.77"), timeout=30,
                   what="the S/4 price change to reach the edge through the change source")
        assert edge_price(system, product.id, 2) == before_other
        metrics = system.ops("GET", "/metrics").text
        assert 'pricing_edge_erp_change_events_total{connector="s4hana",type="com.pricingedge.price.changed"}' in metrics
        assert 'pricing_edge_erp_change_lag_seconds{connector="s4hana",stream="prices"}' in metrics


def test_an_order_posts_once_to_s4_through_a_worker_killed_mid_post(settings: Settings, tmp_path: Path) -> None:
    with order_system(settings, tmp_path, worker="none") as system:
        system.erp_sim("/sales-orders/hold-replies", {"seconds": 120})  # S/4 commits, the answer never comes
        env = s4_worker_env(system.settings)
        with worker_process(system.settings, tmp_path / "worker-1.log", env=env) as first:
            (sku,) = system.skus(1, offset=60)
            order = system.create_order(BUYER, [system.line(sku, 2, BUYER)], payment_method="Purchase Order",
                                        customer_message="PO-5501")
            reference = system.reference(order["id"])
            committed = wait_until(lambda: _s4_orders(system, reference), what="S/4 to commit the order")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        system.erp_sim("/sales-orders/hold-replies", {"seconds": 0})
        with worker_process(system.settings, tmp_path / "worker-2.log", env=env):
            entry = system.wait_synced(order["id"], timeout=60)
            (posted,) = _s4_orders(system, reference)  # found by PurchaseOrderByCustomer, not posted again
            assert entry["erp_id"] == posted["SalesOrder"] == committed[0]["SalesOrder"]
            assert posted["PurchaseOrderByShipToParty"] == "PO-5501"  # the buyer's PO, beside our reference
            wait_until(lambda: system.order(order["id"])["external_order_id"] == posted["SalesOrder"],
                       what="the S/4 order number written back")
            number = f"SO-{posted['SalesOrder']}"
            system.erp_sim(f"/sales-orders/{number}/ship", {"carrier": "UPS", "tracking_number": "1ZS4"})
            wait_until(lambda: system.order(order["id"])["status_id"] == 2, timeout=60,
                       what="the S/4 shipment to reach BigCommerce (business event → re-read → shipment.created)")
            shipments = system.admin("GET", f"/v2/orders/{order['id']}/shipments").json()
            assert [s["tracking_number"] for s in shipments] == ["1ZS4"]


def test_a_coupon_two_ship_tos_tax_inclusive_and_an_option_modifier_land_in_s4_with_equal_totals(
        settings: Settings, tmp_path: Path) -> None:
    """#15's complete order against the S/4 face: every part posted as S/4 keeps it (pricing elements, item
    partner, item text), and the total S/4 computed from them equals BigCommerce's to the cent."""
    with order_system(settings, tmp_path) as system:
        order = checkout_with_everything(system, offset=20)
        entry = system.wait_synced(order["id"], timeout=60)
        bigcommerce = cents(Decimal(system.order(order["id"])["total_inc_tax"]))
        assert orjson.loads(entry["detail"])["totals"] == {"bigcommerce": str(bigcommerce), "erp": str(bigcommerce),
                                                           "equal": True}
        reference = system.reference(order["id"])
        (posted,) = _s4_orders(system, reference, expand="to_PricingElement,to_Text,to_Item/to_PricingElement,"
                                                         "to_Item/to_Partner/to_Address,to_Item/to_Text")
        items = posted["to_Item"]["results"]
        assert cents(Decimal(posted["TotalNetAmount"]) + sum(Decimal(i["TaxAmount"]) for i in items)) == bigcommerce
        assert (posted["PurchaseOrderByCustomer"], posted["PurchaseOrderByShipToParty"]) == (reference, "PO-4411")
        kinds = [{e["ConditionType"] for e in i["to_PricingElement"]["results"]} for i in items]
        assert all({"PPR0", "RB00", "ZSHP", "ZTAX"} <= found for found in kinds)  # price, coupon, shipping, tax
        header = {e["ConditionType"]: Decimal(e["ConditionAmount"]) for e in posted["to_PricingElement"]["results"]}
        assert header["ZFEE"] == Decimal("3.00") and header["ZTAX"] == Decimal("0.30")
        assert items[0]["to_Partner"]["results"] == []  # the header's ship-to
        (ship_to,) = items[1]["to_Partner"]["results"]
        assert (ship_to["PartnerFunction"], ship_to["to_Address"]["results"][0]["StreetName"]) == ("WE", "9 Dock Road")
        assert items[1]["to_Text"]["results"][0]["LongText"] == "Engraving: Engraved"
        assert posted["to_Text"]["results"][0]["LongText"] == "Coupons: SPRING10\nShipping 1: Ground\nShipping 2: Express"
        assert "pricing_edge_order_total_mismatches_total 0.0" in system.ops("GET", "/metrics").text


def _s4_orders(system: OrderSystem, reference: str, expand: str | None = None) -> list[dict[str, Any]]:
    from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON

    params = {"$filter": f"PurchaseOrderByCustomer eq '{reference}'", "sap-client": DEMO_LOGON.client}
    answer = httpx.get(f"{system.erp.base_url}/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder",
                       params=params | ({"$expand": expand} if expand else {}),
                       auth=(DEMO_LOGON.user, DEMO_LOGON.password), timeout=30)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["d"]["results"])
