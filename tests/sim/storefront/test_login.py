"""A shopper logs in as Catalyst does — email and password for a customer access token, a guest cart carried
over — sees its own wishlists, and logs out: the token stops working and the cart can be left behind."""
from __future__ import annotations

from typing import Any

import httpx

from pricing_edge.sim.dataset import Dataset
from tests.sim.storefront import documents as docs
from tests.sim.storefront import page_documents as pages
from tests.sim.storefront.helpers import WHOLESALE, data_of, gql, guest, logged_in

WHO = "query { customer { entityId } }"


async def login(client: httpx.AsyncClient, dataset: Dataset, customer_id: int, cart: str | None = None,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    customer = dataset.customer(customer_id)
    assert customer is not None
    data = await data_of(client, pages.LOGIN, {"email": customer.email.upper(), "guestCartEntityId": cart,
                                               "password": dataset.site.passwords[customer_id]}, headers or guest())
    result: dict[str, Any] = data["login"]
    return result


def with_token(token: str) -> dict[str, str]:
    return {**guest(), "X-Bc-Customer-Access-Token": token}


async def test_login_gives_a_token_that_names_the_customer_and_takes_the_guest_cart(client: httpx.AsyncClient,
                                                                                    dataset: Dataset) -> None:
    guest_cart = (await data_of(client, docs.CREATE_CART, {"lineItems": [{"productEntityId": 102, "quantity": 1}]}))
    cart_id = guest_cart["cart"]["createCart"]["cart"]["entityId"]
    result = await login(client, dataset, WHOLESALE, cart_id)
    assert result["result"] == "success" and result["customer"]["entityId"] == WHOLESALE
    assert result["cart"] == {"entityId": cart_id}
    token = result["customerAccessToken"]
    assert token["value"] and token["expiresAt"].endswith("Z")
    assert (await data_of(client, WHO, headers=with_token(token["value"]))) == {"customer": {"entityId": WHOLESALE}}
    mine = await data_of(client, docs.GET_CART, {"cartEntityId": cart_id}, with_token(token["value"]))
    assert mine["site"]["cart"]["entityId"] == cart_id
    assert (await data_of(client, docs.GET_CART, {"cartEntityId": cart_id}))["site"]["cart"] is None  # no longer a guest's


async def test_a_wrong_password_and_an_unknown_email_get_the_same_refusal(client: httpx.AsyncClient,
                                                                         dataset: Dataset) -> None:
    customer = dataset.customer(WHOLESALE)
    assert customer is not None
    for email, password in ((customer.email, "not-it"), ("nobody@example.com", dataset.site.passwords[WHOLESALE])):
        body = await gql(client, pages.LOGIN, {"email": email, "password": password})
        assert body["errors"][0]["message"] == "Invalid credentials: check the email address and the password."
        assert body["data"] is None


async def test_a_browser_does_not_get_the_customer_access_token(client: httpx.AsyncClient, dataset: Dataset) -> None:
    """"This field can only be fetched in server-to-server context": a request with an Origin is a browser."""
    result = await login(client, dataset, 2, headers={**guest(), "Origin": "https://shop.example.com"})
    assert result["customer"]["entityId"] == 2 and result["customerAccessToken"] is None


async def test_logout_revokes_the_token_and_leaves_the_cart_behind(client: httpx.AsyncClient, dataset: Dataset) -> None:
    token = (await login(client, dataset, 13))["customerAccessToken"]["value"]
    headers = with_token(token)
    created = await data_of(client, docs.CREATE_CART, {"lineItems": [{"productEntityId": 102, "quantity": 1}]}, headers)
    cart_id = created["cart"]["createCart"]["cart"]["entityId"]
    out = await data_of(client, pages.LOGOUT, {"cartEntityId": cart_id}, headers)
    assert out["logout"] == {"result": "success", "cartUnassignResult": {"cart": {"entityId": cart_id}, "errors": []}}
    assert await data_of(client, WHO, headers=headers) == {"customer": None}  # the token is revoked: a guest now
    strict = await gql(client, WHO, headers={**headers, "X-Bc-Error-On-Invalid-Customer-Access-Token": "true"})
    assert strict["errors"][0]["extensions"]["code"] == "INVALID_CUSTOMER_ACCESS_TOKEN"
    assert (await data_of(client, docs.GET_CART, {"cartEntityId": cart_id}))["site"]["cart"]["entityId"] == cart_id
    other = (await login(client, dataset, WHOLESALE))["customerAccessToken"]["value"]
    again = await data_of(client, pages.LOGOUT, {"cartEntityId": "no-such-cart"}, with_token(other))
    assert again["logout"]["cartUnassignResult"]["errors"] == [
        {"__typename": "CartUnassignInaccessibleError", "message": "Cart no-such-cart is not this customer's cart."}]


async def test_a_customer_sees_its_own_wishlists_filtered_by_product(client: httpx.AsyncClient,
                                                                    dataset: Dataset) -> None:
    data = await data_of(client, pages.WISHLISTS, {"productId": 104}, logged_in(WHOLESALE))
    lists = [edge["node"] for edge in data["customer"]["wishlists"]["edges"]]
    expected = [w for w in dataset.site.wishlists if w.customer_id == WHOLESALE and any(p == 104 for _, p, _ in w.items)]
    assert [w["entityId"] for w in lists] == [w.id for w in expected] and expected
    items = [edge["node"] for edge in lists[0]["items"]["edges"]]
    assert [i["productEntityId"] for i in items] == [p for _, p, _ in expected[0].items]
    assert all(i["product"]["entityId"] == i["productEntityId"] for i in items)
    assert (await data_of(client, pages.WISHLISTS, {"productId": 104}))["customer"] is None
