"""`pricing-edge fixtures` prints the demo layout and data the issue specifies."""
import subprocess
import sys
from decimal import Decimal

import orjson

from pricing_edge.sim.dataset import build_dataset


def fixtures(port: int = 9100) -> dict:
    out = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "fixtures", "--port", str(port)],
                         capture_output=True, check=True)
    return orjson.loads(out.stdout)


def test_urls_follow_the_demo_layout() -> None:
    data = fixtures(9100)
    assert data["edge_url"] == "http://127.0.0.1:9100/graphql"
    assert data["events_url"] == "http://127.0.0.1:9100/events/erp"
    assert data["webhooks_url"] == "http://127.0.0.1:9100/webhooks/bigcommerce"
    assert data["upstream_url"] == "http://127.0.0.1:9101/graphql"
    assert data["erp_url"] == "http://127.0.0.1:9102"
    assert data["worker_url"] == "http://127.0.0.1:9103"
    assert data["event_secret"].startswith("whsec_")
    assert data["currency"] in data["currencies"] and len(data["currencies"]) >= 2


def test_buyers_are_in_different_price_lists_and_one_is_the_guest() -> None:
    buyers = fixtures()["buyers"]
    assert len(buyers) >= 3
    assert len({b["price_list_id"] for b in buyers}) == len(buyers)
    guest = [b for b in buyers if b["customer_id"] is None]
    assert len(guest) == 1 and set(guest[0]["headers"]) == {"Authorization"}
    for buyer in buyers:
        assert buyer["headers"]["Authorization"].startswith("Bearer ")
        if buyer["customer_id"] is not None:
            assert buyer["headers"]["X-Bc-Customer-Id"] == str(buyer["customer_id"])


def test_products_have_differing_erp_prices_per_buyer() -> None:
    data = fixtures()
    dataset = build_dataset(data["seed"])
    keys = {"guest" if b["customer_id"] is None else str(b["customer_id"]) for b in data["buyers"]}
    products = data["products"]
    assert len(products) == 20
    for product in products:
        assert set(product["expected_price"]) == keys
        assert len(set(product["expected_price"].values())) == len(keys)
        for price in product["expected_price"].values():
            assert isinstance(price, str) and Decimal(price) > 0
        assert product["variants"] and product["variants"][0]["sku"].startswith(product["sku"])
        assert dataset.product_by_id[product["entity_id"]].sku == product["sku"]
    assert [p["available_to_sell"] for p in products].count(10) >= 1


def test_the_category_has_a_full_page_of_products() -> None:
    data = fixtures()
    dataset = build_dataset(data["seed"])
    in_category = [p for p in dataset.products if data["category_id"] in p.category_ids]
    assert len(in_category) >= 24
