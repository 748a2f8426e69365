"""Two details of a storefront session through the edge: a customer who logs out is a guest at once (the edge
forgets the customer token it had resolved), and BigCommerce's complexity header comes through — scoring the
document the client sent, not the edge's rewrite of it."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from pricing_edge.demo import edge_app
from pricing_edge.edge.limits import complexity
from pricing_edge.sim.storefront.schema import build
from tests.e2e.conftest import System, shared_redis_system
from tests.edge.test_limits import prepared
from tests.sim.storefront import page_documents as pages
from tests.support.polling import wait_until
from tests.support.redis_server import free_port
from tests.support.servers import serve

PRICE = "query Price($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"
COMPLEXITY = "X-Bc-Graphql-Complexity"


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("session")), "session",
                                   erp_budget_ms=30_000.0)


def post(system: System, query: str, variables: dict[str, Any], headers: dict[str, str],
         url: str | None = None) -> httpx.Response:
    response = httpx.post(url or system.edge_url, json={"query": query, "variables": variables}, headers=headers,
                          timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_a_customer_who_logs_out_through_the_edge_is_a_guest_at_once(system: System) -> None:
    buyer = system.buyer("2")
    guest = system.buyer("guest")["headers"]
    login = post(system, pages.LOGIN, {"email": buyer["email"], "password": buyer["password"]}, guest).json()
    token = login["data"]["login"]["customerAccessToken"]["value"]
    as_customer = {**guest, "X-Bc-Customer-Access-Token": token}
    product = system.fixtures["products"][3]
    mine, guests = Decimal(product["expected_price"]["2"]), Decimal(product["expected_price"]["guest"])
    assert mine != guests

    def price() -> Decimal:
        body = post(system, PRICE, {"id": product["entity_id"]}, as_customer).json()
        return Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"]))

    assert price() == mine  # the token resolved to the customer (and that resolution is now cached)
    out = post(system, pages.LOGOUT, {}, as_customer).json()
    assert out["data"]["logout"]["result"] == "success", out
    assert price() == guests  # not the customer's price until the cached resolution expires


def test_a_logout_through_one_edge_process_reaches_the_others(system: System) -> None:
    """Two edge processes on one Redis: the customer logs out through one, the other forgets the token too."""
    buyer = system.buyer("5")
    guest = system.buyer("guest")["headers"]
    login = post(system, pages.LOGIN, {"email": buyer["email"], "password": buyer["password"]}, guest).json()
    as_customer = {**guest, "X-Bc-Customer-Access-Token": login["data"]["login"]["customerAccessToken"]["value"]}
    product = system.fixtures["products"][6]
    mine, guests = Decimal(product["expected_price"]["5"]), Decimal(product["expected_price"]["guest"])
    assert mine != guests
    port = free_port()
    with serve(edge_app(system.settings), port) as other:

        def price_at(url: str) -> Decimal:
            body = post(system, PRICE, {"id": product["entity_id"]}, as_customer, url=url + "/graphql").json()
            return Decimal(str(body["data"]["site"]["product"]["prices"]["price"]["value"]))

        assert price_at(other.base_url) == mine and price_at(system.edge.base_url) == mine  # both resolved it
        assert post(system, pages.LOGOUT, {}, as_customer).json()["data"]["logout"]["result"] == "success"
        wait_until(lambda: price_at(other.base_url) == guests, timeout=15,
                   what="the other edge process to treat the logged-out customer as a guest")


def test_the_complexity_header_scores_the_clients_own_document(system: System) -> None:
    product = system.fixtures["products"][4]
    variables = {"id": product["entity_id"]}
    headers = system.buyer("1")["headers"]
    schema = build()
    document, operation, coerced = prepared(schema, PRICE, variables)
    expected = complexity(schema, document, operation, coerced)
    upstream = httpx.post(system.bigcommerce.base_url + "/graphql", json={"query": PRICE, "variables": variables},
                          headers=headers, timeout=30)
    assert upstream.headers[COMPLEXITY] == str(expected)  # BigCommerce's score of this very document
    first = post(system, PRICE, variables, headers)
    again = post(system, PRICE, variables, headers)  # from the answer cache
    assert first.headers[COMPLEXITY] == again.headers[COMPLEXITY] == str(expected)
