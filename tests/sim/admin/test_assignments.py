"""Channels, channel currencies and price-list assignments in the REST Admin simulator: every request and answer
validates against the vendor's ``channels.v3.yml`` / ``price_lists.v3.yml`` (openapi-core); a change emits
``store/priceList/assignment/updated``; bad assignments are refused and change nothing; and the storefront
prices a buyer by its group × channel assignment, a second channel at its own host in its own currency."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import yaml

from pricing_edge.config import DEMO_IMPERSONATION_TOKEN
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.sim.admin.channels import ASSIGNMENT_SCOPE
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import STORE_HASH, Sim, check, order_body, simple_product
from tests.support.polling import wait_until
from tests.support.receiver import Receiver
from tests.support.servers import ServerThread
from tests.support.specs import require_spec

PRICE_LISTS_SPEC = "bigcommerce/rest/price_lists.v3.yml"
CHANNELS_SPEC = "bigcommerce/rest/channels.v3.yml"
WHOLESALE_CUSTOMER, WHOLESALE_GROUP = 1, 1
PRICE = "query P($id: Int!) { channel { entityId } site { product(entityId: $id) { prices { price { currencyCode value } } } } }"


def send(client: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    return client.request(method, path, content=dumps(body) if body is not None else None)


def price(sim: Sim, product_id: int, host: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}", "X-Bc-Customer-Id": str(WHOLESALE_CUSTOMER),
               "Content-Type": "application/json"}
    if host:
        headers["Host"] = host
    response = httpx.post(f"{sim.server.base_url}/graphql", headers=headers, timeout=30.0,
                          content=dumps({"query": PRICE, "variables": {"id": product_id}}))
    assert response.status_code == 200, response.text
    data = loads_exact(response.content)["data"]
    return data["channel"]["entityId"], data["site"]["product"]["prices"]["price"]


def shown_price(dataset: Dataset, price_list_id: int, sku: str, currency: str) -> Decimal:
    """What BigCommerce shows from a price list's record: its sale price when it has one."""
    record = dataset.bc_prices.get(price_list_id, sku, currency)
    assert record is not None
    return record.effective_price


def wholesale_assignment(rest: httpx.Client, channel_id: int = 1) -> dict[str, Any]:
    listed = send(rest, "GET", f"/v3/pricelists/assignments?customer_group_id={WHOLESALE_GROUP}&channel_id={channel_id}")
    assert listed.status_code == 200, listed.text
    check(PRICE_LISTS_SPEC, listed)
    [found] = listed.json()["data"]
    return dict(found)


def test_channels_and_their_currencies_match_the_channels_spec(sim: Sim) -> None:
    with sim.rest() as rest:
        channels = send(rest, "GET", "/v3/channels")
        assert channels.status_code == 200, channels.text
        check(CHANNELS_SPEC, channels)
        assert [c["id"] for c in channels.json()["data"]] == [1, 2]

        everything = send(rest, "GET", "/v3/channels/currency-assignments")
        check(CHANNELS_SPEC, everything)
        assert everything.json()["data"] == [
            {"channel_id": 1, "enabled_currencies": ["USD", "EUR"], "default_currency": "USD"},
            {"channel_id": 2, "enabled_currencies": ["EUR"], "default_currency": "EUR"}]

        one = send(rest, "GET", "/v3/channels/2/currency-assignments")
        check(CHANNELS_SPEC, one)
        assert one.json()["data"]["default_currency"] == "EUR"
        channel = send(rest, "GET", "/v3/channels/2")
        check(CHANNELS_SPEC, channel)
        assert channel.json()["data"]["currencies"]["enabled_currencies"] == ["EUR"]
        missing = send(rest, "GET", "/v3/channels/99/currency-assignments")
        assert missing.status_code == 404
        check(CHANNELS_SPEC, missing)


def test_a_reassigned_group_is_priced_by_its_new_list_and_a_webhook_says_so(
        sim: Sim, dataset: Dataset, receiver: tuple[Receiver, ServerThread]) -> None:
    rec, server = receiver
    product = simple_product(dataset)
    with sim.rest() as rest:
        hook = send(rest, "POST", "/v3/hooks", {"scope": ASSIGNMENT_SCOPE, "destination": server.base_url + "/hook",
                                                "is_active": True})
        assert hook.status_code == 200, hook.text
        before = wholesale_assignment(rest)
        assert before["price_list_id"] == 2
        assert price(sim, product.id)[1]["value"] == shown_price(dataset, 2, product.default_variant.sku, "USD")

        moved = send(rest, "PUT", "/v3/pricelists/4/assignments", {"customer_group_id": WHOLESALE_GROUP, "channel_id": 1})
        assert moved.status_code == 200, moved.text
        check(PRICE_LISTS_SPEC, moved)
        assert moved.json()["data"] == {**before, "price_list_id": 4}
        assert wholesale_assignment(rest)["price_list_id"] == 4
        expected = shown_price(dataset, 4, product.default_variant.sku, "USD")
        assert price(sim, product.id) == (1, {"currencyCode": "USD", "value": expected})

    [delivery] = wait_until(rec.received, timeout=30, what="the assignment webhook")
    payload = loads_exact(delivery.body)
    assert payload["scope"] == ASSIGNMENT_SCOPE
    assert payload["data"] == {"price_list_id": 4, "channel_id": 1, "customer_group_id": WHOLESALE_GROUP}
    # webhooks.v3.yml has no component for this scope: its callback file is the whole contract
    callback = require_spec(f"bigcommerce/webhooks/callbacks/{ASSIGNMENT_SCOPE.replace('/', '_')}.yml")
    jsonschema.validate(payload, yaml.safe_load(callback.read_text(encoding="utf-8"))["properties"][ASSIGNMENT_SCOPE])


def test_assignments_are_created_listed_and_deleted_per_the_spec(sim: Sim) -> None:
    with sim.rest() as rest:
        gone = send(rest, "DELETE", f"/v3/pricelists/assignments?customer_group_id={WHOLESALE_GROUP}&channel_id=2")
        assert gone.status_code == 204, gone.text
        check(PRICE_LISTS_SPEC, gone)
        listed = send(rest, "GET", "/v3/pricelists/assignments?channel_id:in=2")
        check(PRICE_LISTS_SPEC, listed)
        assert WHOLESALE_GROUP not in [a.get("customer_group_id") for a in listed.json()["data"]]

        created = send(rest, "POST", "/v3/pricelists/assignments",
                       [{"price_list_id": 3, "customer_group_id": WHOLESALE_GROUP, "channel_id": 2},
                        {"price_list_id": 5, "channel_id": 2}])
        assert created.status_code == 200, created.text
        check(PRICE_LISTS_SPEC, created)
        assert wholesale_assignment(rest, 2)["price_list_id"] == 3
        channel_wide = send(rest, "GET", "/v3/pricelists/assignments?channel_id=2&price_list_id=5")
        assert [a for a in channel_wide.json()["data"] if "customer_group_id" not in a]


def test_bad_assignments_are_refused_and_change_nothing(sim: Sim) -> None:
    with sim.rest() as rest:
        before = send(rest, "GET", "/v3/pricelists/assignments?limit=250").json()["data"]
        for body in ([{"price_list_id": 999, "customer_group_id": 1, "channel_id": 1}],  # no such list
                     [{"price_list_id": 2, "customer_group_id": 3, "channel_id": 7}],  # no such channel
                     [{"price_list_id": 2, "customer_group_id": 1, "channel_id": 1}],  # group 1 already has one
                     [{"price_list_id": 2, "customer_group_id": 77, "channel_id": 2},  # the second is bad: none kept
                      {"price_list_id": "two", "customer_group_id": 4, "channel_id": 2}],
                     [{"price_list_id": 2, "channel_id": 1}] * 26):  # over the batch limit
            refused = send(rest, "POST", "/v3/pricelists/assignments", body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.json()["title"]
        wrong_group = send(rest, "PUT", "/v3/pricelists/2/assignments", {"customer_group_id": 404, "channel_id": 1})
        assert wrong_group.status_code == 404
        assert send(rest, "DELETE", "/v3/pricelists/assignments").status_code == 422  # no filter: never "all"
        assert send(rest, "GET", "/v3/pricelists/assignments?limit=250").json()["data"] == before
    assert not [scope for scope, _ in sim.admin.emitted if scope == ASSIGNMENT_SCOPE]


def test_the_second_channel_answers_at_its_own_host_in_its_own_currency(sim: Sim, dataset: Dataset) -> None:
    product = simple_product(dataset)
    sku = product.default_variant.sku
    channel, shown = price(sim, product.id, host=f"store-{STORE_HASH}-2.mybigcommerce.com")
    assert channel == 2
    assert shown == {"currencyCode": "EUR", "value": shown_price(dataset, 2, sku, "EUR")}
    assert price(sim, product.id, host=f"store-{STORE_HASH}.mybigcommerce.com")[0] == 1
    with sim.rest() as rest:  # channel 2's assignment moves; channel 1's stays
        assert send(rest, "PUT", "/v3/pricelists/3/assignments",
                    {"customer_group_id": WHOLESALE_GROUP, "channel_id": 2}).status_code == 200
    assert price(sim, product.id, host=f"store-{STORE_HASH}-2.mybigcommerce.com")[1]["value"] == \
        shown_price(dataset, 3, sku, "EUR")
    assert price(sim, product.id)[1]["value"] == shown_price(dataset, 2, sku, "USD")
    unknown = httpx.post(f"{sim.server.base_url}/graphql", headers={
        "Host": f"store-{STORE_HASH}-9.mybigcommerce.com", "Authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}",
        "Content-Type": "application/json"}, content=dumps({"query": "{ channel { entityId } }"}), timeout=30.0)
    assert unknown.status_code == 404


def test_an_order_created_over_rest_is_priced_by_its_channels_assignment(sim: Sim, dataset: Dataset) -> None:
    """As the storefront prices: the customer's group on the order's channel, not the group's list everywhere."""
    product = simple_product(dataset)
    sku = product.default_variant.sku
    with sim.rest() as rest:
        assert send(rest, "PUT", "/v3/pricelists/3/assignments",
                    {"customer_group_id": WHOLESALE_GROUP, "channel_id": 2}).status_code == 200
        priced = {}
        for channel, currency in ((1, "USD"), (2, "EUR")):
            created = send(rest, "POST", "/v2/orders", order_body(
                dataset, customer_id=WHOLESALE_CUSTOMER, channel_id=channel, default_currency_code=currency,
                products=[{"product_id": product.id, "quantity": 1}]))
            assert created.status_code == 200, created.text
            [line] = loads_exact(send(rest, "GET", f"/v2/orders/{created.json()['id']}/products").content)
            priced[channel] = Decimal(line["price_ex_tax"])
    assert priced == {1: shown_price(dataset, 2, sku, "USD"), 2: shown_price(dataset, 3, sku, "EUR")}
