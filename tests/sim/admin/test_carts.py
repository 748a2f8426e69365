"""The simulator's server-to-server Carts API (v3) over the storefront's carts: a line's ``list_price`` set by
a server is what the storefront cart and checkout charge; requests and answers match ``carts.v3.yml``."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from pricing_edge.config import DEMO_IMPERSONATION_TOKEN
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import Sim, check, simple_product, variant_product

CARTS_SPEC = "bigcommerce/rest/carts.v3.yml"
BUYER = {"Authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}", "X-Bc-Customer-Id": "2"}
CREATE = """mutation($pid: Int!, $vid: Int, $qty: Int!) { cart { createCart(input: {lineItems: [
  {productEntityId: $pid, variantEntityId: $vid, quantity: $qty}]}) { cart { entityId
  lineItems { physicalItems { entityId } } } } } }"""
VIEW = """query($id: String!) { site { cart(entityId: $id) { amount { value } lineItems { physicalItems {
  listPrice { value } salePrice { value } extendedSalePrice { value } } } }
  checkout(entityId: $id) { subtotal { value } } } }"""


def storefront(sim: Sim, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(sim.server.base_url + "/graphql", json={"query": query, "variables": variables},
                          headers=BUYER, timeout=30)
    body: dict[str, Any] = loads_exact(response.content)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def put(rest: httpx.Client, cart_id: str, item_id: str, body: dict[str, Any]) -> httpx.Response:
    return rest.put(f"/v3/carts/{cart_id}/items/{item_id}", content=dumps(body))


def new_cart(sim: Sim, product_id: int, quantity: int, variant_id: int | None = None) -> tuple[str, str]:
    created = storefront(sim, CREATE, {"pid": product_id, "vid": variant_id, "qty": quantity})["cart"]["createCart"]
    return created["cart"]["entityId"], created["cart"]["lineItems"]["physicalItems"][0]["entityId"]


def test_a_server_set_list_price_is_what_the_cart_and_checkout_charge(sim: Sim, dataset: Dataset) -> None:
    product = simple_product(dataset)
    cart_id, item_id = new_cart(sim, product.id, 2)
    with sim.rest() as rest:
        got = rest.get(f"/v3/carts/{cart_id}")
        assert got.status_code == 200, got.text
        check(CARTS_SPEC, got)
        updated = put(rest, cart_id, item_id, {"line_item": {"product_id": product.id, "quantity": 3,
                                                             "list_price": Decimal("12.34")}})
        assert updated.status_code == 200, updated.text
        check(CARTS_SPEC, updated)
        line = loads_exact(updated.content)["data"]["line_items"]["physical_items"][0]
        assert (line["quantity"], line["list_price"], line["extended_sale_price"]) == (3, Decimal("12.34"),
                                                                                        Decimal("37.02"))
    seen = storefront(sim, VIEW, {"id": cart_id})["site"]
    physical = seen["cart"]["lineItems"]["physicalItems"][0]
    assert physical["listPrice"]["value"] == physical["salePrice"]["value"] == Decimal("12.34")
    assert seen["cart"]["amount"]["value"] == seen["checkout"]["subtotal"]["value"] == Decimal("37.02")


def test_what_the_put_refuses(sim: Sim, dataset: Dataset) -> None:
    product = variant_product(dataset)
    cart_id, item_id = new_cart(sim, product.id, 1, product.variants[0].id)
    with sim.rest() as rest:
        other_variant = put(rest, cart_id, item_id, {"line_item": {
            "product_id": product.id, "variant_id": product.variants[1].id, "quantity": 1, "list_price": 5}})
        assert other_variant.status_code == 422 and "remove the line" in other_variant.text
        negative = put(rest, cart_id, item_id, {"line_item": {"product_id": product.id, "quantity": 1,
                                                              "list_price": -1}})
        assert negative.status_code == 400 and "list_price" in negative.text
        stale = put(rest, cart_id, item_id, {"version": 99, "line_item": {"product_id": product.id, "quantity": 1}})
        assert stale.status_code == 409
        assert rest.get("/v3/carts/no-such-cart").status_code == 404
        assert put(rest, cart_id, "no-such-line", {"line_item": {"product_id": product.id, "quantity": 1}}
                   ).status_code == 404
    with sim.rest(X_Auth_Token="wrong") as rest:
        assert rest.get(f"/v3/carts/{cart_id}").status_code == 401
