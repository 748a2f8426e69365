"""Listings by the buyer's own price, through HTTP with both simulators: Catalyst's search-results document
sorted by price goes across three pages in each buyer's order (no product repeated or missing), a price
filter keeps a product for one buyer only, an ERP price event reorders the next answer, and the facets
count what the buyer's filter keeps.

The oracle is independent of the edge: membership as BigCommerce (the simulator) answers the non-price
filters, every page of it, and each product's price from the ERP's truth in the seeded dataset."""
from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.config import DEMO_CLIENT_SECRET
from pricing_edge.sim.fixtures import expected_price
from tests.e2e.conftest import System, shared_redis_system
from tests.support.polling import wait_until
from tests.support.specs import require_client

BUYERS = ("1", "2")  # two price lists
MEMBERS = """query M($filters: SearchProductsFiltersInput!, $after: String) { site { search {
  searchProducts(filters: $filters) { products(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { entityId } } } } } } }"""


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("listing")), "listing",
                                   erp_budget_ms=30_000.0)


@pytest.fixture(scope="module")
def dataset(system: System) -> Dataset:
    return build_dataset(system.settings.seed)


@pytest.fixture(scope="module")
def search_document() -> str:
    return require_client("catalyst-1.3.1/14-search-products-sorted.graphql").read_text()


def members(system: System, buyer: str, filters: dict[str, Any]) -> list[int]:
    """Every product BigCommerce lists for these (non-price) filters, all pages."""
    found: list[int] = []
    after = None
    while True:
        page = system.upstream(MEMBERS, buyer, {"filters": filters, "after": after})["data"]
        products = page["site"]["search"]["searchProducts"]["products"]
        found += [e["node"]["entityId"] for e in products["edges"]]
        if not products["pageInfo"]["hasNextPage"]:
            return found
        after = products["pageInfo"]["endCursor"]


def erp_price(system: System, dataset: Dataset, buyer: str, product_id: int) -> Decimal:
    customer = None if buyer == "guest" else int(buyer)
    return Decimal(expected_price(dataset, dataset.product_by_id[product_id], customer))


def expected_order(system: System, dataset: Dataset, buyer: str, filters: dict[str, Any], sort: str,
                   low: Decimal | None = None, high: Decimal | None = None) -> list[int]:
    priced = [(erp_price(system, dataset, buyer, pid), pid) for pid in members(system, buyer, filters)]
    kept = [(p, pid) for p, pid in priced if (low is None or p >= low) and (high is None or p <= high)]
    ordered = sorted(kept, key=lambda x: (x[0] if sort == "LOWEST_PRICE" else -x[0], x[1]))
    return [pid for _, pid in ordered]


@pytest.fixture(scope="module")
def category(system: System) -> int:
    """A category both buyers see with 30 to 120 products (three of Catalyst's pages of nine, and more)."""
    for category_id in range(1, 60):
        sizes = [len(members(system, b, {"categoryEntityId": category_id, "searchSubCategories": True}))
                 for b in BUYERS]
        if all(30 <= n <= 120 for n in sizes):
            return category_id
    raise AssertionError("no category of 30 to 120 products in the seeded store")


def search(system: System, document: str, buyer: str, filters: dict[str, Any], sort: str | None,
           after: str | None = None, first: int = 9) -> dict[str, Any]:
    variables = {"filters": filters, "sort": sort, "first": first, "after": after, "currencyCode": "USD"}
    answer = wait_until(lambda: _complete(system.query(document, buyer, variables)), timeout=60,
                        what="a listing answer with every ERP price in")
    assert answer is not None
    return answer


def _complete(answer: dict[str, Any]) -> dict[str, Any] | None:
    assert "errors" not in answer, answer.get("errors")
    flags = (answer.get("extensions") or {}).get("pricingEdge") or {}
    return None if flags.get("degraded") else answer


def products_of(answer: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = answer["data"]["site"]["search"]["searchProducts"]["products"]
    return result


def listed(answer: dict[str, Any]) -> list[tuple[int, Decimal]]:
    return [(e["node"]["entityId"], Decimal(str(e["node"]["prices"]["price"]["value"])))
            for e in products_of(answer)["edges"]]


@pytest.mark.parametrize("sort", ["LOWEST_PRICE", "HIGHEST_PRICE"])
def test_three_pages_in_each_buyers_price_order_none_repeated_or_missing(
        system: System, dataset: Dataset, search_document: str, category: int, sort: str) -> None:
    filters = {"categoryEntityId": category, "searchSubCategories": True}
    orders = {}
    for buyer in BUYERS:
        expected = expected_order(system, dataset, buyer, filters, sort)
        seen: list[tuple[int, Decimal]] = []
        after = None
        for number in range(3):
            answer = search(system, search_document, buyer, filters, sort, after)
            page = listed(answer)
            prices = [p for _, p in page]
            assert prices == sorted(prices, reverse=sort == "HIGHEST_PRICE"), (buyer, number, page)
            info = products_of(answer)["pageInfo"]
            assert products_of(answer)["collectionInfo"]["totalItems"] == len(expected)
            assert info["hasNextPage"] and info["hasPreviousPage"] == (number > 0)
            assert not answer["extensions"]["pricingEdge"].get("listingChanged")
            seen += page
            after = info["endCursor"]
        ids = [pid for pid, _ in seen]
        assert len(set(ids)) == 27
        assert ids == expected[:27], buyer
        assert all(price == erp_price(system, dataset, buyer, pid) for pid, price in seen)
        orders[buyer] = ids
    assert orders["1"] != orders["2"]  # two price lists, two orders


def test_a_price_filter_keeps_a_product_for_one_buyer_only(
        system: System, dataset: Dataset, search_document: str, category: int) -> None:
    base = {"categoryEntityId": category, "searchSubCategories": True}
    chosen = next(pid for pid in members(system, "1", base)
                  if erp_price(system, dataset, "1", pid) < erp_price(system, dataset, "2", pid))
    mine = erp_price(system, dataset, "1", chosen)
    filters = {**base, "price": {"minPrice": float(mine), "maxPrice": float(mine)}}
    for buyer in BUYERS:
        answer = search(system, search_document, buyer, filters, "LOWEST_PRICE")
        ids = [pid for pid, _ in listed(answer)]
        expected = expected_order(system, dataset, buyer, base, "LOWEST_PRICE", mine, mine)
        assert ids == expected
        assert products_of(answer)["collectionInfo"]["totalItems"] == len(expected)
        assert (chosen in ids) == (buyer == "1")
        price_facet = [f["node"] for f in answer["data"]["site"]["search"]["searchProducts"]["filters"]["edges"]
                       if f["node"]["__typename"] == "PriceSearchFilter"]
        assert price_facet == [{"__typename": "PriceSearchFilter", "name": "Price", "isCollapsedByDefault": False,
                                "selected": {"minPrice": float(mine), "maxPrice": float(mine)}}]


def test_a_price_event_reorders_the_next_answer_and_flags_an_older_cursor(
        system: System, dataset: Dataset, search_document: str, category: int) -> None:
    taken = set(members(system, "1", {"categoryEntityId": category, "searchSubCategories": True}))
    for other in range(1, 60):  # a listing of its own, so the other tests' oracle stays true
        filters = {"categoryEntityId": other, "searchSubCategories": True}
        order = expected_order(system, dataset, "1", filters, "LOWEST_PRICE")
        if len(order) >= 20 and order[0] not in taken:
            break
    else:
        raise AssertionError("no second category for the price event")
    first = search(system, search_document, "1", filters, "LOWEST_PRICE")
    cheapest = listed(first)[0][0]
    assert cheapest == order[0]
    old_cursor = products_of(first)["pageInfo"]["endCursor"]
    buyer = system.buyer("1")
    sku = dataset.product_by_id[cheapest].default_variant.sku
    system.change_price(price_list_id=buyer["price_list_id"], sku=sku, currency="USD", price="9999.00", sale_price=None)

    def reordered() -> dict[str, Any] | None:
        answer = search(system, search_document, "1", filters, "LOWEST_PRICE")
        return answer if listed(answer)[0][0] != cheapest else None

    after_event = wait_until(reordered, timeout=30, what="the lowest-price list without the repriced product first")
    assert after_event is not None
    assert [pid for pid, _ in listed(after_event)] == order[1:10]
    highest = listed(search(system, search_document, "1", filters, "HIGHEST_PRICE"))
    assert highest[0] == (cheapest, Decimal("9999.00"))
    # A page asked with a cursor from before the event: the repriced product moved across it (from page one
    # to the end), so it would be listed twice — the answer says so.
    later = search(system, search_document, "1", filters, "LOWEST_PRICE", after=old_cursor)
    assert later["extensions"]["pricingEdge"]["listingChanged"] is True
    # The other buyer's price list is untouched: its order is the oracle's.
    other_buyer = [pid for pid, _ in listed(search(system, search_document, "2", filters, "LOWEST_PRICE"))]
    assert other_buyer == expected_order(system, dataset, "2", filters, "LOWEST_PRICE")[:9]


def facet_counts(answer: dict[str, Any]) -> dict[str, dict[Any, int]]:
    counts: dict[str, dict[Any, int]] = {}
    for edge in answer["data"]["site"]["search"]["searchProducts"]["filters"]["edges"]:
        node = edge["node"]
        if node["__typename"] == "BrandSearchFilter":
            counts["brand"] = {e["node"]["entityId"]: e["node"]["productCount"] for e in node["brands"]["edges"]}
        elif node["__typename"] == "OtherSearchFilter":
            counts["other"] = {k: node[k]["productCount"] for k in ("freeShipping", "isFeatured", "isInStock")
                               if node[k] is not None}
    return counts


def test_facets_count_the_products_the_buyers_price_filter_keeps(
        system: System, dataset: Dataset, search_document: str, category: int) -> None:
    base = {"categoryEntityId": category, "searchSubCategories": True}
    prices = sorted(erp_price(system, dataset, "1", pid) for pid in members(system, "1", base))
    low, high = prices[len(prices) // 4], prices[3 * len(prices) // 4]
    filters = {**base, "price": {"minPrice": float(low), "maxPrice": float(high)}}
    for buyer in BUYERS:
        kept = [dataset.product_by_id[pid] for pid in expected_order(system, dataset, buyer, base, "LOWEST_PRICE",
                                                                     low, high)]
        answer = search(system, search_document, buyer, filters, "LOWEST_PRICE")
        assert products_of(answer)["collectionInfo"]["totalItems"] == len(kept)
        counts = facet_counts(answer)
        brands: dict[int, int] = {}
        for product in kept:
            brands[product.brand_id] = brands.get(product.brand_id, 0) + 1
        assert counts["brand"] == {b: n for b, n in brands.items() if b is not None}, buyer
        featured = sum(1 for p in kept if p.is_featured)
        free = sum(1 for p in kept if p.free_shipping)
        assert counts["other"].get("isFeatured", 0) == featured
        assert counts["other"].get("freeShipping", 0) == free
        assert len(kept) < len(members(system, buyer, base))  # the filter did keep fewer: the counts moved


def test_a_catalog_webhook_makes_the_next_listing_ask_bigcommerce_for_its_products_again(
        system: System, search_document: str, category: int) -> None:
    filters = {"categoryEntityId": category, "searchSubCategories": True}
    memberships = system.edge.server.config.app.state.parts.memberships  # type: ignore[attr-defined]
    search(system, search_document, "2", filters, "HIGHEST_PRICE", first=7)
    asked = memberships.fetches
    search(system, search_document, "2", filters, "HIGHEST_PRICE", first=6)  # another page size, same listing
    assert memberships.fetches == asked
    payload = {"scope": "store/product/updated", "store_id": "1", "data": {"type": "product", "id": 7},
               "hash": "0" * 40, "created_at": int(time.time()), "producer": "stores/demo"}
    body, webhook_id = json.dumps(payload), str(uuid.uuid4())
    secret = base64.b64encode((system.settings.client_secret or DEMO_CLIENT_SECRET).encode()).decode()
    headers = {"content-type": "application/json", "webhook-id": webhook_id,
               "webhook-timestamp": str(int(time.time())),
               "webhook-signature": Webhook(secret).sign(webhook_id, datetime.now(UTC), body)}
    response = httpx.post(system.edge.base_url + "/webhooks/bigcommerce", content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    search(system, search_document, "2", filters, "HIGHEST_PRICE", first=5)  # served, and a refresh started
    wait_until(lambda: memberships.fetches > asked, timeout=30, what="the listing's products asked again")


def test_with_bigcommerce_down_a_listing_already_seen_still_follows_a_price_event(
        system: System, dataset: Dataset, search_document: str, category: int) -> None:
    """The guest's price list (no other test of this module reads it): membership, cards and the rest of the
    document are the edge's own for the catalog TTL, so the reorder needs nothing from BigCommerce."""
    guest = system.buyer("guest")
    assert guest["price_list_id"] not in {system.buyer(b)["price_list_id"] for b in BUYERS}
    filters = {"categoryEntityId": category, "searchSubCategories": True}
    first_page = search(system, search_document, "guest", filters, "LOWEST_PRICE")
    before = [pid for pid, _ in listed(first_page)]
    after_cursor = products_of(first_page)["pageInfo"]["endCursor"]
    before += [pid for pid, _ in listed(search(system, search_document, "guest", filters, "LOWEST_PRICE",
                                               after=after_cursor))]  # the shopper saw page two as well
    httpx.post(system.bigcommerce.base_url + "/_sim/faults", json={"down_seconds": 120}, timeout=30).raise_for_status()
    try:
        sku = dataset.product_by_id[before[0]].default_variant.sku
        system.change_price(price_list_id=guest["price_list_id"], sku=sku, currency="USD", price="9999.00",
                            sale_price=None)

        def reordered() -> list[int] | None:
            ids = [pid for pid, _ in listed(search(system, search_document, "guest", filters, "LOWEST_PRICE"))]
            return ids if ids[0] != before[0] else None

        after = wait_until(reordered, timeout=30, what="the guest's listing reordered while BigCommerce is down")
        assert after is not None and before[0] not in after and after[:8] == before[1:9]
    finally:
        httpx.delete(system.bigcommerce.base_url + "/_sim/faults", timeout=30).raise_for_status()


def test_filters_bigcommerce_refuses_get_its_own_errors_not_a_503(
        system: System, search_document: str, category: int) -> None:
    """A price-sorted listing whose other filters BigCommerce refuses (a rating filter with neither bound): the
    edge's membership query is refused, and the client gets BigCommerce's answer to its own query (found by the
    fuzz test: it was a 503 saying the storefront API was unavailable)."""
    variables = {"filters": {"categoryEntityId": category, "rating": {}}, "sort": "LOWEST_PRICE", "first": 9,
                 "after": None, "currencyCode": "USD"}
    answer = system.query(search_document, "1", variables)  # asserts a 200
    direct = system.upstream(search_document, "1", variables)
    assert direct["errors"] and answer["errors"] == direct["errors"]
    assert answer.get("data") == direct.get("data")
