"""Realistic storefront documents come back through the edge in exactly BigCommerce's shape — same
keys, order, aliases, fragments merged, nulls — with only prices and inventory values replaced."""
from __future__ import annotations

from decimal import Decimal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pricing_edge.sim.dataset import CONTRACTOR_EXCLUSIVES, build_dataset
from tests.e2e.conftest import System, module_system


@pytest.fixture(scope="module", params=["redis", "embedded"])
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """These tests only read (and are refused): one system per store serves the whole module."""
    yield from module_system(request, tmp_path_factory.mktemp("shapes"), "shapes")

CATEGORY_PAGE = """
query CategoryPage($categoryId: Int!, $first: Int = 24) {
  site {
    category(entityId: $categoryId) {
      name
      products(first: $first, sortBy: A_TO_Z) {
        pageInfo { hasNextPage endCursor }
        edges { node { ...ProductCard } }
      }
    }
  }
}
fragment ProductCard on Product {
  entityId name path
  brand { name }
  defaultImage { url(width: 320) altText }
  ...Prices
  inventory { isInStock aggregated { availableToSell warningLevel } }
}
fragment Prices on Product {
  prices {
    price { value currencyCode formattedV2 }
    basePrice { value }
    salePrice { value }
    retailPrice { value }
    priceRange { min { value } max { value } }
    bulkPricing {
      __typename minimumQuantity maximumQuantity
      ... on BulkPricingFixedPriceDiscount { price }
      ... on BulkPricingPercentageDiscount { percentOff }
      ... on BulkPricingRelativePriceDiscount { priceAdjustment }
    }
  }
}
"""
PRODUCT_PAGE = """
query ProductPage($id: Int!, $withInventory: Boolean!) {
  site {
    product(entityId: $id) {
      __typename id entityId sku name
      prices { price { value } }
      eur: prices(currencyCode: EUR) { price { value formattedV2 } }
      variants(first: 20) {
        edges { node {
          entityId sku
          options { edges { node { displayName values { edges { node { label } } } } } }
          prices { price { value } basePrice { value } }
          inventory @include(if: $withInventory) {
            isInStock
            byLocation { edges { node { locationEntityId locationEntityCode availableToSell } } }
          }
        } }
      }
    }
  }
}
"""
COMPARE = """
query Compare($ids: [Int!]) {
  site { products(entityIds: $ids) { edges { node {
    entityId name ...Price prices { price { currencyCode } }
  } } } }
}
fragment Price on Product { prices { price { value } } }
"""
NODE = """
query Nodes($product: ID!, $variant: ID!) {
  product: node(id: $product) { __typename id ... on Product { name prices { price { value } } } }
  variant: node(id: $variant) { __typename ... on Variant { sku prices { price { value } } } }
}
"""
OWNED = {"prices", "inventory", "eur"}


def shape(value: Any) -> Any:
    """Keys (in order) and value kinds, not values: what must match BigCommerce exactly."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def masked(value: Any) -> Any:
    """Everything but the owned fields' values, which the edge replaces."""
    if isinstance(value, dict):
        return [(k, shape(v) if k in OWNED else masked(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def both(system: System, query: str, buyer: str, variables: dict[str, Any]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """The edge's and BigCommerce's answers; the edge's additive freshness flags are checked and set aside."""
    edge = system.query(query, buyer, variables)
    flags = edge.pop("extensions", {}).get("pricingEdge")
    if flags is not None:
        assert set(flags) == {"stale", "asOf", "degraded"}
    return edge, system.upstream(query, buyer, variables)


def test_a_category_page_from_named_fragments_keeps_bigcommerces_shape(system: System) -> None:
    edge, upstream = both(system, CATEGORY_PAGE, "1", {"categoryId": system.fixtures["category_id"]})
    assert "errors" not in edge
    assert masked(edge) == masked(upstream)
    assert len(edge["data"]["site"]["category"]["products"]["edges"]) == 24


def test_a_product_page_with_variants_aliases_and_directives(system: System) -> None:
    product = next(p for p in system.fixtures["products"] if len(p["variants"]) >= 10)
    for include in (True, False):
        edge, upstream = both(system, PRODUCT_PAGE, "2", {"id": product["entity_id"], "withInventory": include})
        assert masked(edge) == masked(upstream)
    data = edge["data"]["site"]["product"]
    assert Decimal(str(data["prices"]["price"]["value"])) == Decimal(product["expected_price"]["2"])
    assert data["eur"]["price"]["formattedV2"].endswith(" €")


def test_duplicate_selections_merge_and_hidden_products_are_left_out(system: System) -> None:
    dataset = build_dataset(system.settings.seed)
    hidden = next(p for p in dataset.products if p.category_ids == (CONTRACTOR_EXCLUSIVES,))
    ids = [system.fixtures["products"][1]["entity_id"], hidden.id]
    edge, upstream = both(system, COMPARE, "5", {"ids": ids})
    assert masked(edge) == masked(upstream)
    nodes = [e["node"] for e in edge["data"]["site"]["products"]["edges"]]
    assert [n["entityId"] for n in nodes] == [ids[0]]
    assert list(nodes[0]["prices"]["price"]) == ["value", "currencyCode"]


def test_a_product_hidden_from_the_buyers_group_stays_null(system: System) -> None:
    dataset = build_dataset(system.settings.seed)
    hidden = next(p for p in dataset.products if p.category_ids == (CONTRACTOR_EXCLUSIVES,))
    query = "query($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"
    for _ in range(2):  # the second time from the edge's caches
        assert system.query(query, "5", {"id": hidden.id})["data"]["site"]["product"] is None
        assert system.query(query, "guest", {"id": hidden.id})["data"]["site"]["product"] is None
    assert system.query(query, "1", {"id": hidden.id})["data"]["site"]["product"]["entityId"] == hidden.id


def test_node_ids_reach_products_and_variants(system: System) -> None:
    product = system.fixtures["products"][1]
    import base64
    variables = {"product": base64.b64encode(f"Product:{product['entity_id']}".encode()).decode(),
                 "variant": base64.b64encode(f"Variant:{product['variants'][0]['entity_id']}".encode()).decode()}
    edge, upstream = both(system, NODE, "guest", variables)
    assert masked(edge) == masked(upstream)
    assert Decimal(str(edge["data"]["product"]["prices"]["price"]["value"])) == Decimal(product["expected_price"]["guest"])
    assert Decimal(str(edge["data"]["variant"]["prices"]["price"]["value"])) == Decimal(product["expected_price"]["guest"])


def test_catalyst_style_requests_and_get_requests_are_answered(system: System) -> None:
    product = system.fixtures["products"][1]
    query = "query P($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"
    response = httpx.post(system.edge_url + "?operation=P&type=query", timeout=30,
                          json={"query": query, "variables": {"id": product["entity_id"]}},
                          headers=system.buyer("guest")["headers"])
    assert response.json()["data"]["site"]["product"]["prices"]["price"]["value"] == \
        float(product["expected_price"]["guest"])
    response = httpx.get(system.edge_url, params={"query": query, "variables": f'{{"id": {product["entity_id"]}}}'},
                         headers=system.buyer("guest")["headers"], timeout=30)
    assert response.status_code == 200 and response.json()["data"]["site"]["product"]


def test_invalid_documents_and_variables_get_graphql_errors(system: System) -> None:
    headers = system.buyer("guest")["headers"]
    bad_field = httpx.post(system.edge_url, json={"query": "{ site { nope } }"}, headers=headers).json()
    assert "nope" in bad_field["errors"][0]["message"] and "data" not in bad_field
    syntax = httpx.post(system.edge_url, json={"query": "{ site { "}, headers=headers).json()
    assert syntax["errors"][0]["message"].startswith("Syntax Error")
    wrong_type = httpx.post(system.edge_url, headers=headers, json={
        "query": "query($id: Int!) { site { product(entityId: $id) { name } } }", "variables": {"id": "abc"}}).json()
    assert "$id" in wrong_type["errors"][0]["message"]
    unknown_op = httpx.post(system.edge_url, headers=headers, json={
        "query": "query A { site { settings { storeName } } }", "operationName": "B"}).json()
    assert "Unknown operation named 'B'" in unknown_op["errors"][0]["message"]
    not_json = httpx.post(system.edge_url, content=b"{nope", headers={**headers, "content-type": "application/json"})
    assert not_json.status_code == 400 and "errors" in not_json.json()
    no_token = httpx.post(system.edge_url, json={"query": "{ site { settings { storeName } } }"})
    assert no_token.status_code == 401


def test_bigcommerces_limits_are_enforced_before_anything_is_forwarded(system: System) -> None:
    headers = system.buyer("guest")["headers"]
    too_big = httpx.post(system.edge_url, headers=headers, json={
        "query": "{ site { products(first: 51) { edges { node { entityId } } } } }"}).json()
    assert too_big["errors"][0]["message"] == "Argument 'first' cannot exceed 50"
    two = httpx.post(system.edge_url, headers=headers, json={"query": """mutation {
        cart { a: deleteCart(input: {cartEntityId: "x"}) { deletedCartEntityId }
               b: deleteCart(input: {cartEntityId: "y"}) { deletedCartEntityId } } }"""}).json()
    assert "errors" in two and "data" not in two
    nested = "{ site { products(first: 50) { edges { node { variants(first: 50) { edges { node { inventory { " \
             "byLocation(first: 50) { edges { node { availableToSell } } } } } } } } } } } }"
    complex_answer = httpx.post(system.edge_url, headers=headers, json={"query": nested}).json()
    assert "complexity" in complex_answer["errors"][0]["message"]


def test_oversized_bodies_are_refused_without_reading_them_whole(system: System) -> None:
    headers = {**system.buyer("guest")["headers"], "content-type": "application/json"}

    def chunked() -> Iterator[bytes]:  # no Content-Length: only counting the stream can stop it
        yield b'{"query": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    response = httpx.post(system.edge_url, content=chunked(), headers=headers, timeout=30)
    assert response.status_code == 413 and "exceeds" in response.json()["errors"][0]["message"]
    long_query = "{ site { settings { storeName } } }" + " " * 100_001
    response = httpx.post(system.edge_url, json={"query": long_query}, headers=headers, timeout=30)
    assert response.status_code == 413
