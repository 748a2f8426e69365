"""Nothing personal is shared: two colleagues of one customer group (same scope, same cache entries) each
have a cart, a checkout, an order and an e-mail address — markers planted for each. Whatever documents
they send, in whatever order, no marker of one ever appears in the bytes the other receives; and
catalog documents (a product, a route) are still shared between them."""
from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import System, shared_redis_system
from tests.sim.storefront.documents import CREATE_CART

COLLEAGUES = ("1", "13")  # one company, one customer group (pricing_edge.sim.fixtures.DEMO_BUYERS)


@dataclass(frozen=True)
class Planted:
    """One buyer's personal objects and the strings that betray them if they reach anyone else."""

    buyer: str
    cart_id: str
    order_id: int
    email: str
    order_email: str

    def gid(self, kind: str) -> str:
        entity = self.order_id if kind == "Order" else self.cart_id
        return base64.b64encode(f"{kind}:{entity}".encode()).decode()

    @property
    def markers(self) -> tuple[str, ...]:
        return (self.cart_id, self.email, self.order_email, self.gid("Order"), self.gid("Cart"),
                self.gid("Checkout"))


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("sharing")), "sharing",
                                   erp_budget_ms=30_000.0)


def _plant(system: System, buyer: str) -> Planted:
    product = system.fixtures["products"][2]
    created = system.query(CREATE_CART, buyer, {"lineItems": [{"productEntityId": product["entity_id"],
                                                               "quantity": 1}]})
    assert "errors" not in created, created
    cart_id = created["data"]["cart"]["createCart"]["cart"]["entityId"]
    order_email = f"order-{buyer}-{uuid.uuid4().hex[:8]}@example.com"
    address = {"first_name": "Pat", "last_name": "Buyer", "street_1": "1 Main St", "city": "Austin",
               "state": "Texas", "zip": "78701", "country": "United States", "country_iso2": "US",
               "email": order_email}
    order = {"customer_id": int(buyer), "status_id": 11, "billing_address": address,
             "products": [{"product_id": product["entity_id"], "quantity": 1}]}
    response = httpx.post(f"{system.bigcommerce.base_url}/stores/{system.settings.store_hash}/v2/orders",
                          json=order, headers={"X-Auth-Token": system.settings.admin_token}, timeout=30)
    assert response.status_code in (200, 201), response.text
    email = system.buyer(buyer)["email"]
    assert email
    return Planted(buyer, cart_id, response.json()["id"], email, order_email)


@pytest.fixture(scope="module")
def planted(system: System) -> dict[str, Planted]:
    assert system.buyer(COLLEAGUES[0])["price_list_id"] == system.buyer(COLLEAGUES[1])["price_list_id"]
    assert system.buyer(COLLEAGUES[0])["customer_group_id"] == system.buyer(COLLEAGUES[1])["customer_group_id"]
    return {buyer: _plant(system, buyer) for buyer in COLLEAGUES}


def ask(system: System, buyer: str, query: str, variables: dict[str, Any] | None = None) -> bytes:
    response = httpx.post(system.edge_url, json={"query": query, "variables": variables or {}},
                          headers=system.buyer(buyer)["headers"], timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def response_hits(system: System) -> float:
    text = httpx.get(system.edge.base_url + "/metrics", timeout=30).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "pricing_edge_cache_lookups_total" and s.labels.get("tier") == "response"
               and s.labels.get("result") == "hit")


NODE_PLAIN = "query N($id: ID!) { node(id: $id) { id __typename } }"
NODE_TYPED = """query T($id: ID!) { node(id: $id) { id ... on Cart { entityId } ... on Checkout { entityId }
  ... on Order { orderId: entityId billingAddress { email } } } }"""


@pytest.mark.parametrize("kind", ["Cart", "Checkout", "Order"])
@pytest.mark.parametrize("document", [NODE_PLAIN, NODE_TYPED], ids=["plain", "typed"])
def test_a_node_that_is_a_buyers_cart_checkout_or_order_is_that_buyers_alone(
        system: System, planted: dict[str, Planted], kind: str, document: str) -> None:
    owner, other = planted[COLLEAGUES[0]], planted[COLLEAGUES[1]]
    variables = {"id": owner.gid(kind)}
    for _ in range(2):  # asked twice by the owner: a second answer could come from a cache
        mine = httpx.post(system.edge_url, json={"query": document, "variables": variables},
                          headers=system.buyer(owner.buyer)["headers"], timeout=30).json()
        assert mine["data"]["node"]["id"] == owner.gid(kind), mine
    theirs = ask(system, other.buyer, document, variables)
    upstream = system.upstream(document, other.buyer, variables)
    assert upstream["data"] == {"node": None}  # BigCommerce shows it to no one else...
    assert orjson.loads(theirs)["data"] == {"node": None}  # ...and neither does the edge
    assert not [m for m in owner.markers if m.encode() in theirs]


def test_a_node_asked_at_once_by_its_owner_and_a_colleague_is_computed_for_each(
        system: System, planted: dict[str, Planted]) -> None:
    """Identical requests of one scope share one computation — unless its answer turns out personal."""
    owner, other = planted[COLLEAGUES[0]], planted[COLLEAGUES[1]]
    variables = {"id": owner.gid("Order")}
    faults = system.bigcommerce.base_url + "/_sim/faults"
    httpx.post(faults, json={"latency_ms": 500}, timeout=30)  # a slow upstream: the two requests overlap
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(ask, system, owner.buyer, NODE_PLAIN, variables)
            time.sleep(0.1)  # the owner's computation is under way when the colleague asks
            second = pool.submit(ask, system, other.buyer, NODE_PLAIN, variables)
            mine, theirs = first.result(), second.result()
    finally:
        httpx.delete(faults, timeout=30)
    assert orjson.loads(mine)["data"]["node"]["id"] == owner.gid("Order")
    assert orjson.loads(theirs)["data"] == {"node": None}


def test_catalog_nodes_and_routes_are_still_shared_by_the_group(system: System, planted: dict[str, Planted]) -> None:
    product = system.fixtures["products"][5]
    document = """query P($id: ID!, $path: String!) { node(id: $id) { id ... on Product { entityId
      prices { price { value } } } } site { route(path: $path) { node { __typename id } } } }"""
    variables = {"id": base64.b64encode(f"Product:{product['entity_id']}".encode()).decode(),
                 "path": system.upstream("query($e: Int!) { site { product(entityId: $e) { path } } }",
                                         COLLEAGUES[0], {"e": product["entity_id"]})["data"]["site"]["product"]["path"]}
    first = ask(system, COLLEAGUES[0], document, variables)
    # The edge asked for the runtime type at both abstract positions to judge them; the client did not ask
    # for it under node(id:), so it gets none there (route.node's is its own __typename, kept).
    assert orjson.loads(first)["data"]["node"].keys() == {"id", "entityId", "prices"} and b"_pe" not in first
    before = response_hits(system)
    second = ask(system, COLLEAGUES[1], document, variables)
    assert second == first
    assert response_hits(system) == before + 1  # the colleague's answer came from the shared cache


PART_KINDS = ("customer", "own-cart", "node", "node", "typed-node", "product", "product", "route", "checkout-field")
# (plain nodes and products twice as likely: documents that pass the static check are the interesting ones)


def _part(kind: str, owner: Planted, target: str, index: int, product_id: int) -> str:
    """One top-level selection of a random document (aliased so any mix of parts is valid)."""
    if kind == "customer":
        return f"c{index}: customer {{ entityId email }}"
    if kind == "own-cart":
        return f"s{index}: site {{ cart {{ entityId }} }}"
    if kind == "checkout-field":
        return f's{index}: site {{ checkout(entityId: "{owner.cart_id}") {{ entityId }} }}'
    if kind == "node":
        return f'n{index}: node(id: "{owner.gid(target)}") {{ id }}'
    if kind == "typed-node":
        return (f'n{index}: node(id: "{owner.gid(target)}") {{ __typename ... on Order {{ billingAddress '
                f'{{ email }} }} ... on Cart {{ entityId }} ... on Checkout {{ entityId }} }}')
    if kind == "product":
        return f"p{index}: site {{ product(entityId: {product_id}) {{ entityId prices {{ price {{ value }} }} }} }}"
    return f's{index}: site {{ route(path: "/no-such-page-{index}") {{ node {{ id }} }} }}'


documents = st.lists(
    st.tuples(st.sampled_from(PART_KINDS), st.sampled_from(COLLEAGUES), st.sampled_from(["Cart", "Checkout", "Order"])),
    min_size=1, max_size=4,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=documents, askers=st.lists(st.sampled_from(COLLEAGUES), min_size=2, max_size=4))
def test_no_marker_of_one_buyer_ever_reaches_the_other(system: System, planted: dict[str, Planted],
                                                      parts: list[tuple[str, str, str]], askers: list[str]) -> None:
    product_id = system.fixtures["products"][6]["entity_id"]
    body = " ".join(_part(kind, planted[owner], target, n, product_id) for n, (kind, owner, target) in enumerate(parts))
    document = "query Leak { " + body + " }"
    # Both ask, in a random order, some more than once — one after the other, then all at once (concurrent
    # identical requests of one scope share a computation when, and only when, the answer is catalog).
    sequential = [(asker, ask(system, asker, document)) for asker in [*askers, *COLLEAGUES]]
    concurrent_askers = [*askers, *COLLEAGUES]
    faults = system.bigcommerce.base_url + "/_sim/faults"
    httpx.post(faults, json={"latency_ms": 300}, timeout=30)  # a slow upstream: the requests overlap
    try:
        with ThreadPoolExecutor(max_workers=len(concurrent_askers)) as pool:
            concurrent = list(zip(concurrent_askers, pool.map(lambda b: ask(system, b, document), concurrent_askers),
                                  strict=True))
    finally:
        httpx.delete(faults, timeout=30)
    for asker, answer in [*sequential, *concurrent]:
        other = planted[COLLEAGUES[1] if asker == COLLEAGUES[0] else COLLEAGUES[0]]
        leaked = [m for m in other.markers if m.encode() in answer]
        assert not leaked, f"buyer {asker} received {leaked} of buyer {other.buyer} for {document}: {answer!r}"
