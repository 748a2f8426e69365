"""BigCommerce's reference storefront, Catalyst 1.3.1: its thirty documents (26 page reads, 4 cart mutations),
sent as Catalyst sends them by a logged-in buyer, in the order a shopping session sends them, through the
edge and directly to the BigCommerce simulator. Each must answer without errors, in the simulator's shape,
with every ``prices``/``inventory`` value the buyer's ERP value. 30 of 30.

The documents are test data read from ../shared/clients (PRICING_EDGE_CLIENTS_DIR); without them the test
skips, and under PRICING_EDGE_REQUIRE_SPECS=1 (CI) it fails.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, get_variable_values, parse

from pricing_edge.edge.limits import DEFAULT_LIMITS, complexity, operation_named
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.storefront.schema import sdl
from tests.e2e.catalyst import (
    Document,
    body_of,
    check_owned,
    documents,
    owned_sites,
    send,
    shape,
    substitute,
    without_owned,
)
from tests.e2e.conftest import System, shared_redis_system

SHOWCASE = 104  # colour × size variants, a modifier of every kind, reviews, a redirect from an old path
CART_DOCUMENTS = ("mutations/", "06-", "24-", "26-")  # ids and times of a cart differ between two sessions
# Sorted and filtered by the buyer's own price (edge/listing/): its order, count, cursors and facet counts are
# the buyer's, not BigCommerce's; tests/e2e/test_edge_listing.py checks them against the ERP's truth.
BY_BUYERS_PRICE = ("14-search-products-sorted",)
LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { customer { entityId } customerAccessToken { value expiresAt } }
}"""


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    # A loaded machine must not turn an ERP read into BigCommerce's value (degraded): wait for the ERP.
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("catalyst")), "catalyst",
                                   erp_budget_ms=30_000.0)


@dataclass
class Session:
    """One shopper's Catalyst session against one endpoint: its headers and the ids its answers gave it."""

    url: str
    headers: dict[str, str]
    ids: dict[str, Any]
    answers: dict[str, httpx.Response] = field(default_factory=dict)

    def variables(self, document: Document, ids: dict[str, Any]) -> dict[str, Any]:
        return substitute(document.variables, {**ids, **self.ids})

    def learn(self, document: Document, data: dict[str, Any], cart_product: int) -> None:
        if document.name == "mutations/01-create-cart":
            self.ids["$CART_ID"] = data["cart"]["createCart"]["cart"]["entityId"]
        if document.name == "24-cart-page":
            items = data["site"]["cart"]["lineItems"]["physicalItems"]
            self.ids["$CART_LINE_ITEM_ID"] = next(i["entityId"] for i in items if i["productEntityId"] == cart_product)


def login(system: System, url: str, buyer: dict[str, Any]) -> dict[str, str]:
    """Catalyst's login: email and password for a customer access token; then its two headers."""
    storefront = {"Authorization": f"Bearer {system.settings.storefront_token}"}
    answer = httpx.post(url, json={"query": LOGIN, "variables": {"email": buyer["email"],
                                                                 "password": buyer["password"]}},
                        headers=storefront, timeout=60).json()
    assert "errors" not in answer, answer
    assert answer["data"]["login"]["customer"]["entityId"] == buyer["customer_id"]
    return {**storefront, "X-Bc-Customer-Access-Token": answer["data"]["login"]["customerAccessToken"]["value"]}


@pytest.fixture(scope="module")
def catalyst() -> list[Document]:
    return documents()  # first: without the documents there is nothing to start a system for


@pytest.fixture(scope="module")
def run(catalyst: list[Document], system: System) -> dict[str, tuple[httpx.Response, httpx.Response, dict[str, Any]]]:
    """Both sessions, document by document: (edge answer, simulator answer, the edge's variables)."""
    buyer = system.buyer("1")
    products = system.fixtures["products"]
    reads = {"$PRODUCT_ID": SHOWCASE, "$PRODUCT_IDS": [SHOWCASE, products[1]["entity_id"], products[2]["entity_id"]],
             "$CATEGORY_ID": 1, "$BRAND_ID": 1, "$SEARCH_TERM": "wrench", "$CURRENCY": "USD",
             "$PATH": build_dataset(system.settings.seed).site.redirects[0].from_path}
    cart_products = {"mutations/01-create-cart": products[1]["entity_id"],
                     "mutations/02-add-cart-line-items": products[2]["entity_id"],
                     "mutations/03-update-cart-line-item": products[1]["entity_id"]}
    edge = Session(system.edge_url, login(system, system.edge_url, buyer), {})
    upstream = system.bigcommerce.base_url + "/graphql"
    direct = Session(upstream, login(system, upstream, buyer), {})
    results = {}
    for document in catalyst:
        ids = {**reads, "$PRODUCT_ID": cart_products.get(document.name, SHOWCASE),
               "$CURRENCY": "EUR" if document.name == "mutations/04-update-cart-currency" else "USD"}
        answers = []
        for session in (edge, direct):
            variables = session.variables(document, ids)
            response = send(session.url, document, variables, session.headers)
            body = body_of(response) if response.status_code == 200 else {}
            if body.get("data"):
                session.learn(document, body["data"], products[1]["entity_id"])
            answers.append(response)
        results[document.name] = (answers[0], answers[1], edge.variables(document, ids))
    return results


def _problems(name: str, edge: httpx.Response, direct: httpx.Response, variables: dict[str, Any],
              dataset: Dataset, price_list: int) -> list[str]:
    """What is wrong with one document's two answers (empty: it passes)."""
    for side, response in (("edge", edge), ("simulator", direct)):
        if response.status_code != 200:
            return [f"{name}: {side} answered {response.status_code}: {response.text[:300]}"]
        body = body_of(response)
        if body.get("errors") or not body.get("data"):
            return [f"{name}: {side} errors {body.get('errors')}"]
    mine, theirs = body_of(edge), body_of(direct)
    problems = []
    if name.startswith(BY_BUYERS_PRICE):
        listed = mine["data"]["site"]["search"]["searchProducts"]["products"]["edges"]
        prices = [Decimal(str(e["node"]["prices"]["price"]["value"])) for e in listed]
        if not listed or prices != sorted(prices):
            problems.append(f"{name}: the edge's listing is not in the buyer's lowest-price order: {prices}")
    by_price = name.startswith(BY_BUYERS_PRICE)  # the rest is not BigCommerce's by design: only owned values checked
    if not by_price and shape(without_owned(mine["data"])) != shape(without_owned(theirs["data"])):
        problems.append(f"{name}: the edge's answer is not in the simulator's shape")
    if not name.startswith(CART_DOCUMENTS) and not by_price and without_owned(mine["data"]) != without_owned(theirs["data"]):
        problems.append(f"{name}: the edge changed a value that is not a price or stock")
    for path, site in owned_sites(mine["data"]):
        product_id = site.get("entityId") or (variables["entityId"] if path == ("site", "product") else None)
        if product_id is None:
            problems.append(f"{name}: prices/inventory at {path} of an unknown product")
            continue
        try:
            check_owned(site, dataset.product_by_id[product_id], dataset, price_list, variables.get("currencyCode") or "USD")
        except AssertionError as exc:
            problems.append(f"{name}: product {product_id}: {exc}")
    flags = (mine.get("extensions") or {}).get("pricingEdge")
    if flags and (flags["stale"] or flags["degraded"]):
        problems.append(f"{name}: ERP values not fresh: {flags}")
    return problems


def test_thirty_of_thirty_catalyst_documents_answer_through_the_edge_with_the_buyers_erp_values(
        system: System, run: dict[str, tuple[httpx.Response, httpx.Response, dict[str, Any]]]) -> None:
    dataset = build_dataset(system.settings.seed)
    price_list = system.buyer("1")["price_list_id"]
    problems = [p for name, (edge, direct, variables) in run.items()
                for p in _problems(name, edge, direct, variables, dataset, price_list)]
    passed = len(run) - len({p.split(":", 1)[0] for p in problems})
    assert (passed, problems) == (30, [])


def test_the_run_checks_erp_values_on_every_page_that_shows_prices_or_stock(
        system: System, run: dict[str, tuple[httpx.Response, httpx.Response, dict[str, Any]]]) -> None:
    """A guard on the check above: the listing, home, compare and product pages do carry ERP values, and they
    are not BigCommerce's (its copy lags the ERP somewhere on these pages)."""
    dataset = build_dataset(system.settings.seed)
    price_list = system.buyer("1")["price_list_id"]
    checked: dict[str, int] = {}
    for name, (edge, _, variables) in run.items():
        for _, site in owned_sites(body_of(edge)["data"]):
            product_id = site.get("entityId") or variables["entityId"]
            checked[name] = checked.get(name, 0) + check_owned(site, dataset.product_by_id[product_id], dataset,
                                                               price_list, "USD")
    assert set(checked) == {"07-home-page", "08-header-quick-search", "10-category-products", "12-brand-products",
                            "14-search-products-sorted", "16-compare-page", "19-pdp-streamable-product",
                            "20-pdp-pricing-and-related"}
    assert checked["19-pdp-streamable-product"] == 2  # inventory only: isInStock and availableToSell
    assert all(count >= 7 for name, count in checked.items() if name != "19-pdp-streamable-product"), checked
    differs = [name for name, (edge, direct, _) in run.items() if name in checked
               and [s for _, s in owned_sites(body_of(edge)["data"])] != [s for _, s in owned_sites(body_of(direct)["data"])]]
    assert differs, "the simulator's lagging copy and the ERP agree on every page: the check could not fail"


def test_the_cart_session_is_one_cart_through_all_four_mutations(
        run: dict[str, tuple[httpx.Response, httpx.Response, dict[str, Any]]]) -> None:
    data = {name: body_of(edge)["data"] for name, (edge, _, _) in run.items()}
    cart_id = data["mutations/01-create-cart"]["cart"]["createCart"]["cart"]["entityId"]
    assert data["06-header-cart-count"]["site"]["cart"] == {"entityId": cart_id, "lineItems": {"totalQuantity": 1}}
    page = data["24-cart-page"]["site"]
    assert page["cart"]["entityId"] == page["checkout"]["entityId"] == cart_id
    assert page["cart"]["lineItems"]["totalQuantity"] == 2
    assert data["mutations/03-update-cart-line-item"]["cart"]["updateCartLineItem"]["cart"]["entityId"] == cart_id
    assert data["26-validate-cart"]["site"]["cart"] == {"entityId": cart_id}
    assert data["mutations/04-update-cart-currency"]["cart"]["updateCartCurrency"]["cart"] == {
        "currencyCode": "EUR", "entityId": cart_id}


def test_every_catalyst_document_is_within_the_limits_and_the_simulator_counts_as_the_edge_does(
        catalyst: list[Document], run: dict[str, tuple[httpx.Response, httpx.Response, dict[str, Any]]]) -> None:
    """The simulator enforces the edge's complexity formula (docs/limits.md) and says its estimate in
    ``X-Bc-Graphql-Complexity``, as BigCommerce does; Catalyst's heaviest document stays under the limit."""
    schema = build_schema(sdl())
    by_name = {d.name: d for d in catalyst}
    estimates = {}
    for name, (_, direct, variables) in run.items():
        document = parse(by_name[name].text)
        operation = operation_named(document, None)
        assert operation is not None
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        assert not isinstance(coerced, list), coerced
        estimates[name] = complexity(schema, document, operation, coerced)
        assert direct.headers["X-Bc-Graphql-Complexity"] == str(estimates[name]), name
    assert max(estimates.values()) <= DEFAULT_LIMITS.max_complexity
    assert max(estimates.values()) > DEFAULT_LIMITS.max_complexity // 2  # the heavy ones are heavy
