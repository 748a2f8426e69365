"""Helpers for the storefront simulator's tests: the app, the buyers' headers as BigCommerce reads them,
requests that keep every digit and key order, and what BigCommerce's own (lagging) copy says."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from starlette.applications import Starlette

from pricing_edge.config import DEMO_IMPERSONATION_TOKEN, DEMO_STOREFRONT_TOKEN
from pricing_edge.domain.pricing import PriceView, view_of, with_ranges
from pricing_edge.jsonio import loads_exact
from pricing_edge.sim.dataset import Dataset, Product, Variant
from pricing_edge.sim.storefront import create_app, customer_access_token

CUSTOMER_TOKEN_SECRET = "storefront-tests-customer-token-secret"
TAX_RATE = Decimal("0.10")

# The demo store's buyers (see pricing_edge.sim.dataset): customer 1 is Wholesale (group 1, price
# list 2), customer 2 Distributor (group 2, list 3), customer 5 Education (group 5, list 6), which
# cannot see category 19 "Contractor Exclusives"; guests (group 0, list 1) see neither 19 nor 20.
WHOLESALE, DISTRIBUTOR, EDUCATION = 1, 2, 5
CONTRACTOR_EXCLUSIVES, TRADE_COUNTER = 19, 20


def make_app(dataset: Dataset, latency_ms: float = 0) -> Starlette:
    return create_app(dataset, storefront_token=DEMO_STOREFRONT_TOKEN, impersonation_token=DEMO_IMPERSONATION_TOKEN,
                      latency_ms=latency_ms, tax_rate=TAX_RATE, customer_token_secret=CUSTOMER_TOKEN_SECRET)


# -- buyers ------------------------------------------------------------------------------------
def guest() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_STOREFRONT_TOKEN}"}


def impersonating(customer_id: int) -> dict[str, str]:
    """Server-to-server: the customer-impersonation token names the buyer with X-Bc-Customer-Id."""
    return {"Authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}", "X-Bc-Customer-Id": str(customer_id)}


def logged_in(customer_id: int) -> dict[str, str]:
    """A browser session: the storefront token and the customer's access token."""
    return {**guest(), "X-Bc-Customer-Access-Token": customer_access_token(customer_id, CUSTOMER_TOKEN_SECRET)}


# -- requests ----------------------------------------------------------------------------------
async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None, operation_name: str | None = None) -> httpx.Response:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    if operation_name:
        payload["operationName"] = operation_name
    return await client.post("/graphql", json=payload, headers=guest() if headers is None else headers)


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None, operation_name: str | None = None) -> dict[str, Any]:
    """The body of a 200 answer, parsed keeping key order and every digit (numbers as Decimal)."""
    response = await post(client, query, variables, headers, operation_name)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = loads_exact(response.content)
    return body


async def data_of(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None, operation_name: str | None = None) -> dict[str, Any]:
    """The ``data`` of an answer that must have no errors."""
    body = await gql(client, query, variables, headers, operation_name)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


# -- what BigCommerce's copy says ---------------------------------------------------------------
def price_list_of(dataset: Dataset, customer_id: int | None) -> int:
    customer = dataset.customer(customer_id) if customer_id is not None else None
    return dataset.price_list_for_group(customer.customer_group_id if customer else 0)


def bc_variant_view(dataset: Dataset, product: Product, variant: Variant, price_list: int, currency: str = "USD",
                    include_tax: bool = False) -> PriceView:
    record = dataset.bc_prices.get(price_list, variant.sku, currency)
    assert record is not None
    return view_of(record, product.catalog_tiers, TAX_RATE if include_tax else None)


def bc_product_view(dataset: Dataset, product: Product, price_list: int, currency: str = "USD",
                    include_tax: bool = False) -> PriceView:
    views = [bc_variant_view(dataset, product, v, price_list, currency, include_tax) for v in product.variants]
    return with_ranges(views[0], views)


def bc_available(dataset: Dataset, sku: str) -> int:
    return sum(level.available_to_sell for level in dataset.stock_for(sku, bigcommerce=True))


def erp_available(dataset: Dataset, sku: str) -> int:
    return sum(level.available_to_sell for level in dataset.stock_for(sku))


def ordered(value: Any) -> Any:
    """A JSON value with every object turned into its list of (key, value) pairs, so that comparing two
    of them also compares key order (``==`` on dicts ignores it; BigCommerce's answers keep it)."""
    if isinstance(value, dict):
        return [(key, ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


def assert_exactly(actual: Any, expected: Any) -> None:
    """The same JSON, keys in the same order at every level."""
    assert actual == expected
    assert ordered(actual) == ordered(expected)
