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
    assert len({b["price_list_id"] for b in buyers}) == len(buyers) - 1  # two colleagues share one list
    guest = [b for b in buyers if b["customer_id"] is None]
    assert len(guest) == 1 and set(guest[0]["headers"]) == {"Authorization"}
    for buyer in buyers:
        assert buyer["headers"]["Authorization"].startswith("Bearer ")
        if buyer["customer_id"] is not None:
            assert buyer["headers"]["X-Bc-Customer-Id"] == str(buyer["customer_id"])
            assert "@" in buyer["email"] and buyer["password"]


def test_two_buyers_are_colleagues_in_one_company_and_customer_group() -> None:
    """So that sharing within a scope is testable: same company, group and price list, two people."""
    customers = [b for b in fixtures()["buyers"] if b["customer_id"] is not None]
    colleagues = [(a, b) for i, a in enumerate(customers) for b in customers[i + 1:]
                  if a["company_id"] == b["company_id"]]
    assert len(colleagues) == 1
    a, b = colleagues[0]
    assert a["customer_group_id"] == b["customer_group_id"] and a["price_list_id"] == b["price_list_id"]
    assert a["customer_id"] != b["customer_id"] and a["email"] != b["email"]


def test_products_have_differing_erp_prices_per_buyer() -> None:
    data = fixtures()
    dataset = build_dataset(data["seed"])
    keys = {"guest" if b["customer_id"] is None else str(b["customer_id"]) for b in data["buyers"]}
    products = data["products"]
    assert len(products) == 20
    price_lists = {b["price_list_id"] for b in data["buyers"]}
    for product in products:
        assert set(product["expected_price"]) == keys
        assert len(set(product["expected_price"].values())) == len(price_lists)
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
