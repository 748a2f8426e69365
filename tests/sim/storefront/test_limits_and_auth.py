"""BigCommerce's limits (50 per page, query depth), its error answers, its buyer headers, and paging."""
from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from starlette.applications import Starlette

from pricing_edge.config import DEMO_IMPERSONATION_TOKEN, DEMO_STOREFRONT_TOKEN
from pricing_edge.jsonio import loads_exact
from pricing_edge.sim.dataset import Dataset, Product
from pricing_edge.sim.storefront import customer_access_token
from tests.sim.storefront import documents as docs
from tests.sim.storefront.documents import deep_document
from tests.sim.storefront.helpers import (
    CUSTOMER_TOKEN_SECRET,
    DISTRIBUTOR,
    EDUCATION,
    WHOLESALE,
    bc_product_view,
    data_of,
    gql,
    guest,
    impersonating,
    logged_in,
    nodes,
    post,
    price_list_of,
)
from tests.support.servers import serve

MAX_DEPTH = 16


def prices_differ_for(dataset: Dataset, *customers: int | None) -> Product:
    """A simple product all of these buyers can see and each one's price list prices differently."""
    lists = [price_list_of(dataset, c) for c in customers]
    return next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 0)
                and len({bc_product_view(dataset, p, pl).price for pl in lists}) == len(lists))


def error_messages(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body.get("errors", [])]


# -- page size ---------------------------------------------------------------------------------
@pytest.mark.parametrize("argument", ["first", "last"])
async def test_more_than_50_per_page_is_refused_with_bigcommerces_message(client: httpx.AsyncClient,
                                                                          argument: str) -> None:
    body = await gql(client, docs.PRODUCTS_PAGE, {argument: 51})
    assert error_messages(body) == [f"Argument '{argument}' cannot exceed 50"]
    assert "data" not in body  # refused before execution, as the edge refuses it (docs/limits.md)
    assert body["errors"][0]["locations"]

    fifty = await data_of(client, docs.PRODUCTS_PAGE, {argument: 50})
    assert len(fifty["site"]["products"]["edges"]) == 50


async def test_the_page_limit_holds_on_nested_connections_too(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = next(p for p in dataset.products if p.has_variants)
    body = await gql(client, "query V($id: Int!) { site { product(entityId: $id) { variants(first: 51) "
                             "{ edges { node { sku } } } } } }", {"id": product.id})
    assert error_messages(body) == ["Argument 'first' cannot exceed 50"]
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 54}]


# -- depth -------------------------------------------------------------------------------------
async def test_a_query_at_the_depth_limit_runs(client: httpx.AsyncClient, dataset: Dataset) -> None:
    data = await data_of(client, deep_document(MAX_DEPTH), {"entityId": dataset.products[0].id})
    assert data["site"]["product"]["relatedProducts"]["edges"]


async def test_a_query_one_level_too_deep_is_refused_before_execution(
        client: httpx.AsyncClient, app: Starlette, dataset: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = app.state.catalog
    looked_up: list[int] = []
    real_product = catalog.product

    def spy(product_id: int, buyer: Any) -> Any:
        looked_up.append(product_id)
        return real_product(product_id, buyer)

    monkeypatch.setattr(catalog, "product", spy)

    body = await gql(client, deep_document(MAX_DEPTH + 1), {"entityId": dataset.products[0].id})
    assert list(body) == ["errors"]  # no "data": nothing was executed
    assert error_messages(body) == [f"Query depth of {MAX_DEPTH + 1} exceeds the maximum allowed depth of {MAX_DEPTH}."]
    assert looked_up == []

    await data_of(client, deep_document(MAX_DEPTH), {"entityId": dataset.products[0].id})
    assert looked_up  # the spy does see an executed query


async def test_the_standard_introspection_query_is_answered(client: httpx.AsyncClient) -> None:
    """The edge learns the upstream schema this way, so introspection must fit within the limits."""
    data = await data_of(client, get_introspection_query(descriptions=False))
    types = {t["name"]: t for t in data["__schema"]["types"]}
    assert data["__schema"]["queryType"]["name"] == "Query"
    assert {"Product", "Variant", "Prices", "Money", "BulkPricingFixedPriceDiscount"} <= set(types)
    product_fields = {f["name"] for f in types["Product"]["fields"]}
    assert {"prices", "inventory", "variants"} <= product_fields


# -- bad requests ------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "message"), [
    ("{ site { product(entityId: 101) { name ", "Syntax Error: Expected Name, found <EOF>."),
    ("{ site { product(entityId: 101) { nmae } } }", "Cannot query field 'nmae' on type 'Product'."),
    ("{ site { product(entityId: \"101\") { name } } }", "Int cannot represent non-integer value"),
])
async def test_an_invalid_document_gets_errors_with_locations_and_no_data(client: httpx.AsyncClient, query: str,
                                                                          message: str) -> None:
    body = await gql(client, query)
    assert list(body) == ["errors"]
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["locations"][0]["line"] == 1
    assert body["errors"][0]["locations"][0]["column"] > 1


async def test_a_missing_required_variable_is_an_error_before_execution(client: httpx.AsyncClient) -> None:
    body = await gql(client, docs.PRICE_FOR_BUYER, {})
    assert list(body) == ["errors"]
    assert "$entityId" in body["errors"][0]["message"]


@pytest.mark.parametrize(("payload", "message"), [
    (b"{not json", "Request body is not valid JSON."),
    (b'{"variables": {}}', "Must provide query string."),
    (b'{"query": "{ site { settings { storeName } } }", "variables": [1]}', "Variables must be a JSON object."),
])
async def test_a_malformed_request_is_a_400(client: httpx.AsyncClient, payload: bytes, message: str) -> None:
    response = await client.post("/graphql", content=payload,
                                 headers={**guest(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message}]}


async def test_get_requests_work_and_bad_variables_are_a_400(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = dataset.products[1]
    response = await client.get("/graphql", headers=guest(), params={
        "query": docs.PRICE_IN_CURRENCY, "variables": f'{{"entityId": {product.id}, "currencyCode": "USD"}}'})
    assert response.status_code == 200
    assert loads_exact(response.content)["data"]["site"]["product"]["entityId"] == product.id
    broken = await client.get("/graphql", headers=guest(), params={"query": docs.PRICE_IN_CURRENCY,
                                                                   "variables": "{entityId"})
    assert broken.status_code == 400
    assert broken.json() == {"errors": [{"message": "Variables are not valid JSON."}]}


# -- who the buyer is --------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": f"Basic {DEMO_STOREFRONT_TOKEN}"},
    {"Authorization": DEMO_STOREFRONT_TOKEN},
    {"X-Bc-Customer-Id": "1"},
])
async def test_no_or_an_unknown_bearer_token_is_a_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await post(client, docs.STORE_SETTINGS, headers=headers)
    assert response.status_code == 401
    assert response.json()["status"] == 401


async def test_the_impersonation_token_and_a_customer_id_give_that_customers_group_prices(
        client: httpx.AsyncClient, dataset: Dataset) -> None:
    buyers = [None, WHOLESALE, DISTRIBUTOR, EDUCATION]
    product = prices_differ_for(dataset, *buyers)
    seen = set()
    for customer_id in buyers:
        headers = guest() if customer_id is None else impersonating(customer_id)
        data = await data_of(client, docs.PRICE_FOR_BUYER, {"entityId": product.id}, headers)
        customer = dataset.customer(customer_id) if customer_id else None
        assert data["customer"] == (None if customer is None else
                                    {"entityId": customer.id, "customerGroupId": customer.customer_group_id})
        price = data["site"]["product"]["prices"]["price"]["value"]
        assert price == bc_product_view(dataset, product, price_list_of(dataset, customer_id)).price
        seen.add(price)
    assert len(seen) == len(buyers)


async def test_a_customer_access_token_names_the_customer(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = prices_differ_for(dataset, None, DISTRIBUTOR)
    data = await data_of(client, docs.PRICE_FOR_BUYER, {"entityId": product.id}, logged_in(DISTRIBUTOR))
    assert data["customer"] == {"entityId": DISTRIBUTOR, "customerGroupId": 2}
    assert data["site"]["product"]["prices"]["price"]["value"] == \
        bc_product_view(dataset, product, price_list_of(dataset, DISTRIBUTOR)).price


@pytest.mark.parametrize("token", [
    customer_access_token(DISTRIBUTOR, "some-other-stores-secret"),  # forged: signed with the wrong secret
    customer_access_token(DISTRIBUTOR, CUSTOMER_TOKEN_SECRET)[:-1] + "0",  # tampered
    customer_access_token(9999, CUSTOMER_TOKEN_SECRET),  # no such customer
    "not-a-token",
])
async def test_an_invalid_access_token_means_guest_unless_the_request_asks_for_an_error(
        client: httpx.AsyncClient, dataset: Dataset, token: str) -> None:
    product = prices_differ_for(dataset, None, DISTRIBUTOR)
    headers = {**guest(), "X-Bc-Customer-Access-Token": token}
    data = await data_of(client, docs.PRICE_FOR_BUYER, {"entityId": product.id}, headers)
    assert data["customer"] is None
    assert data["site"]["product"]["prices"]["price"]["value"] == bc_product_view(dataset, product, 1).price

    body = await gql(client, docs.PRICE_FOR_BUYER, {"entityId": product.id},
                     {**headers, "X-Bc-Error-On-Invalid-Customer-Access-Token": "true"})
    assert list(body) == ["errors"]
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CUSTOMER_ACCESS_TOKEN"


async def test_a_storefront_token_cannot_name_a_customer_with_x_bc_customer_id(client: httpx.AsyncClient,
                                                                               dataset: Dataset) -> None:
    """Only the server-to-server impersonation token may; a browser could set the header."""
    product = prices_differ_for(dataset, None, WHOLESALE)
    headers = {**guest(), "X-Bc-Customer-Id": str(WHOLESALE)}
    data = await data_of(client, docs.PRICE_FOR_BUYER, {"entityId": product.id}, headers)
    assert data["customer"] is None
    assert data["site"]["product"]["prices"]["price"]["value"] == bc_product_view(dataset, product, 1).price


async def test_the_impersonation_token_without_a_customer_id_is_a_guest(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}"}
    assert await data_of(client, docs.CUSTOMER, headers=headers) == {"customer": None}


@pytest.mark.parametrize("raw", ["²".encode("latin-1"), b"9" * 5000, b"abc", b"-1", b"1.5", b"0x10"])
async def test_a_customer_id_that_names_no_customer_means_guest_never_a_500(client: httpx.AsyncClient,
                                                                            raw: bytes) -> None:
    token = b"cat_" + raw + b"_0123456789abcdef0123456789abcdef"
    for name, header in ((b"X-Bc-Customer-Id", raw), (b"X-Bc-Customer-Access-Token", token)):
        headers = {b"Authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}".encode(), name: header}
        response = await client.post("/graphql", json={"query": docs.CUSTOMER}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"customer": None}}


# -- currencies --------------------------------------------------------------------------------
async def test_an_unsupported_currency_is_a_graphql_error_on_that_field(client: httpx.AsyncClient,
                                                                        dataset: Dataset) -> None:
    product = dataset.products[1]
    body = await gql(client, docs.PRICE_IN_CURRENCY, {"entityId": product.id, "currencyCode": "CHF"})
    assert error_messages(body) == ["Currency CHF is not enabled for this channel."]
    assert body["errors"][0]["path"] == ["site", "product", "prices"]
    assert body["data"] == {"site": {"product": {"entityId": product.id, "prices": None}}}

    euro = await data_of(client, docs.PRICE_IN_CURRENCY, {"entityId": product.id, "currencyCode": "EUR"})
    assert euro["site"]["product"]["prices"]["price"] == {
        "currencyCode": "EUR", "value": bc_product_view(dataset, product, 1, "EUR").price}


async def test_a_currency_code_that_is_not_an_iso_code_fails_validation(client: httpx.AsyncClient) -> None:
    body = await gql(client, docs.PRICE_IN_CURRENCY, {"entityId": 101, "currencyCode": "EURO"})
    assert list(body) == ["errors"]
    assert "currencyCode" in body["errors"][0]["message"]


# -- paging ------------------------------------------------------------------------------------
async def test_pages_default_to_10_and_the_end_cursor_leads_to_the_next_page(client: httpx.AsyncClient,
                                                                             dataset: Dataset) -> None:
    visible = [p.id for p in dataset.products if dataset.visible_to(p, 0)]
    first = (await data_of(client, docs.PRODUCTS_PAGE))["site"]["products"]
    assert [n["entityId"] for n in nodes(first)] == visible[:10]
    assert first["collectionInfo"] == {"totalItems": len(visible)}
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    second = (await data_of(client, docs.PRODUCTS_PAGE, {"after": first["pageInfo"]["endCursor"]}))["site"]["products"]
    assert [n["entityId"] for n in nodes(second)] == visible[10:20]
    assert second["pageInfo"]["hasPreviousPage"] is True

    back = (await data_of(client, docs.PRODUCTS_PAGE, {"last": 3, "before": second["pageInfo"]["startCursor"]}))
    assert [n["entityId"] for n in nodes(back["site"]["products"])] == visible[7:10]


async def test_paging_through_everything_visits_each_product_once_and_ends(client: httpx.AsyncClient,
                                                                           dataset: Dataset) -> None:
    visible = [p.id for p in dataset.products if dataset.visible_to(p, EDUCATION)]
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = (await data_of(client, docs.PRODUCTS_PAGE, {"first": 50, "after": after},
                              impersonating(EDUCATION)))["site"]["products"]
        seen += [n["entityId"] for n in nodes(page)]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert pages < 100
    assert seen == visible
    assert pages == -(-len(visible) // 50)

    tail = (await data_of(client, docs.PRODUCTS_PAGE, {"last": 3}, impersonating(EDUCATION)))["site"]["products"]
    assert [n["entityId"] for n in nodes(tail)] == visible[-3:]
    assert tail["pageInfo"]["hasNextPage"] is False and tail["pageInfo"]["hasPreviousPage"] is True


async def test_a_cursor_that_is_not_one_of_ours_is_an_error(client: httpx.AsyncClient) -> None:
    body = await gql(client, docs.PRODUCTS_PAGE, {"after": "bm90IGEgY3Vyc29y"})  # "not a cursor"
    assert error_messages(body) and "cursor" in error_messages(body)[0].lower()


# -- over real HTTP --------------------------------------------------------------------------------
async def test_buyers_and_refusals_over_real_http(app: Starlette, dataset: Dataset) -> None:
    product = prices_differ_for(dataset, None, WHOLESALE)
    with serve(app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
            refused = await http.post("/graphql", json={"query": docs.STORE_SETTINGS})
            assert refused.status_code == 401
            answered = await http.post("/graphql", json={"query": docs.PRICE_FOR_BUYER,
                                                         "variables": {"entityId": product.id}},
                                       headers=impersonating(WHOLESALE))
            assert answered.status_code == 200
            assert answered.headers["content-type"].startswith("application/json")
            body = loads_exact(answered.content)
            assert body["data"]["customer"] == {"entityId": WHOLESALE, "customerGroupId": 1}
            assert body["data"]["site"]["product"]["prices"]["price"]["value"] == \
                bc_product_view(dataset, product, price_list_of(dataset, WHOLESALE)).price
            too_many = loads_exact((await http.post("/graphql", json={"query": docs.PRODUCTS_PAGE,
                                                                      "variables": {"first": 51}},
                                                    headers=guest())).content)
            assert error_messages(too_many) == ["Argument 'first' cannot exceed 50"]


# -- complexity ----------------------------------------------------------------------------------
async def test_complexity_is_the_edges_estimate_refused_over_the_limit_and_told_in_a_header(
        client: httpx.AsyncClient) -> None:
    """The same formula and limit as the edge (docs/limits.md): one document, one verdict, on both sides."""
    from graphql import build_schema, get_variable_values, parse

    from pricing_edge.edge.limits import check_limits, complexity, operation_named
    from pricing_edge.sim.storefront.schema import sdl

    schema = build_schema(sdl())
    light = "{ site { products(first: 50) { edges { node { sku prices { price { value } } } } } } }"
    heavy = ("{ site { products(first: 50) { edges { node { variants(first: 50) { edges { node { inventory { "
             "byLocation(first: 50) { edges { node { availableToSell } } } } } } } } } } } }")
    answer = await post(client, light)
    assert answer.status_code == 200 and "errors" not in answer.json()
    assert answer.headers["X-Bc-Graphql-Complexity"] == str(2 + 50 * 4)
    refused = await gql(client, heavy)
    document = parse(heavy)
    operation = operation_named(document, None)
    assert operation is not None
    variables = get_variable_values(schema, (), {})
    assert not isinstance(variables, list)
    edge_errors = check_limits(schema, document, operation, variables)
    assert refused == {"errors": [e.formatted for e in edge_errors]}
    assert refused["errors"][0]["extensions"]["complexity"] == complexity(schema, document, operation, variables)
