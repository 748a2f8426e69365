"""Through HTTP with both simulators on a real Redis: a customer group reassigned in BigCommerce (the simulator's
REST Admin) is served its new price list at the edge, and a second channel, reached at its channel-specific
host, is served in its own currency."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pricing_edge.config import Settings
from pricing_edge.demo import edge_app, pristine_dataset
from pricing_edge.jsonio import dumps
from tests.e2e.conftest import System, start_system
from tests.support.polling import wait_until
from tests.support.servers import serve

PRICE = ("query Price($id: Int!) { channel { entityId } "
         "site { product(entityId: $id) { prices { price { value currencyCode } } } } }")


@pytest.fixture
def two_channels(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, channels=(2,),
                       assignments_refresh=1.0, upstream_timeout=30.0)
    yield from start_system(settings, tmp_path)


def priced(system: System, product_id: int, buyer: str, host: str | None = None) -> tuple[int, str, Decimal]:
    headers = dict(system.buyer(buyer)["headers"])
    if host:
        headers["Host"] = host
    response = httpx.post(system.edge_url, json={"query": PRICE, "variables": {"id": product_id}}, headers=headers,
                          timeout=30)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    price = data["site"]["product"]["prices"]["price"]
    return data["channel"]["entityId"], price["currencyCode"], Decimal(str(price["value"]))


def reassign(system: System, price_list_id: int, group: int, channel: int) -> None:
    response = httpx.put(f"{system.settings.admin_url}/stores/{system.settings.store_hash}/v3/pricelists/"
                         f"{price_list_id}/assignments", content=dumps({"customer_group_id": group, "channel_id": channel}),
                         headers={"X-Auth-Token": system.settings.admin_token, "Accept": "application/json",
                                  "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 200, response.text


def test_a_group_reassigned_in_bigcommerce_is_served_its_new_list(two_channels: System) -> None:
    system = two_channels
    product = system.fixtures["products"][0]
    wholesale, distributor = system.buyer("1"), system.buyer("2")
    assert priced(system, product["entity_id"], "1")[2] == Decimal(product["expected_price"]["1"])

    reassign(system, distributor["price_list_id"], wholesale["customer_group_id"], 1)
    wait_until(lambda: priced(system, product["entity_id"], "1")[2] == Decimal(product["expected_price"]["2"]),
               timeout=60, what="the wholesale buyer to be served the distributor's list")
    assert priced(system, product["entity_id"], "2")[2] == Decimal(product["expected_price"]["2"])


def test_a_second_channel_is_served_in_its_own_currency(two_channels: System) -> None:
    system = two_channels
    product = system.fixtures["products"][1]
    wholesale = system.buyer("1")
    record = pristine_dataset(system.settings.seed).prices.get(wholesale["price_list_id"], product["variants"][0]["sku"],
                                                               "EUR")
    assert record is not None
    host = f"store-{system.settings.store_hash}-2.mybigcommerce.com"
    wait_until(lambda: priced(system, product["entity_id"], "1", host) == (2, "EUR", record.effective_price),
               timeout=60, what="channel 2's buyer priced in EUR")
    assert priced(system, product["entity_id"], "1")[:2] == (1, "USD")  # the default channel is unchanged

    # Channel 2's assignment moves; channel 1's buyers keep theirs.
    reassign(system, 4, wholesale["customer_group_id"], 2)
    moved = pristine_dataset(system.settings.seed).prices.get(4, product["variants"][0]["sku"], "EUR")
    assert moved is not None
    wait_until(lambda: priced(system, product["entity_id"], "1", host)[2] == moved.effective_price, timeout=60,
               what="channel 2's reassignment to be served")
    assert priced(system, product["entity_id"], "1")[2] == Decimal(product["expected_price"]["1"])


@pytest.fixture
def webhooks_only(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    """No scheduled reads to speak of: only the assignment webhook can make the edge read them again."""
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix,
                       assignments_refresh=3600.0, upstream_timeout=30.0)
    yield from start_system(settings, tmp_path)


def test_the_assignment_webhook_makes_the_edge_read_them_again(webhooks_only: System) -> None:
    system = webhooks_only
    product = system.fixtures["products"][2]
    wholesale, distributor = system.buyer("1"), system.buyer("2")
    hook = httpx.post(f"{system.settings.admin_url}/stores/{system.settings.store_hash}/v3/hooks",
                      content=dumps({"scope": "store/priceList/assignment/updated", "is_active": True,
                                     "destination": system.edge.base_url + "/webhooks/bigcommerce"}),
                      headers={"X-Auth-Token": system.settings.admin_token, "Accept": "application/json",
                               "Content-Type": "application/json"}, timeout=30)
    assert hook.status_code == 200, hook.text
    assert priced(system, product["entity_id"], "1")[2] == Decimal(product["expected_price"]["1"])
    reassign(system, distributor["price_list_id"], wholesale["customer_group_id"], 1)
    wait_until(lambda: priced(system, product["entity_id"], "1")[2] == Decimal(product["expected_price"]["2"]),
               timeout=60, what="the webhook to bring the new assignment to the edge")


def test_bigcommerce_unreachable_at_refresh_keeps_the_last_good_assignments(two_channels: System) -> None:
    """BigCommerce's REST API refuses every call (its quota spent for a minute): the edge keeps serving the last
    good assignments, not the configured ones, and a second edge process starting meanwhile finds them in Redis."""
    system = two_channels
    product = system.fixtures["products"][3]
    wholesale, distributor = system.buyer("1"), system.buyer("2")
    moved = Decimal(product["expected_price"]["2"])
    reassign(system, distributor["price_list_id"], wholesale["customer_group_id"], 1)
    wait_until(lambda: priced(system, product["entity_id"], "1")[2] == moved, timeout=60,
               what="the reassignment to be served")

    channels = system.edge.server.config.app.state.parts.channels
    limit = httpx.post(system.bigcommerce.base_url + "/_sim/rate-limit", json={"quota": 1, "window_seconds": 60},
                       timeout=30)
    assert limit.status_code == 200, limit.text
    httpx.get(f"{system.settings.admin_url}/stores/{system.settings.store_hash}/v2/order_statuses",
              headers={"X-Auth-Token": system.settings.admin_token}, timeout=30)  # spends the window
    wait_until(lambda: channels.last_error, timeout=60, what="a refresh to fail")
    assert priced(system, product["entity_id"], "1")[2] == moved  # the last good list, not PRICING_EDGE_PRICE_LISTS

    with serve(edge_app(replace(system.settings, schema_cache=system.settings.schema_cache + ".2"))) as second:
        response = httpx.post(second.base_url + "/graphql", json={"query": PRICE, "variables": {"id": product["entity_id"]}},
                              headers=wholesale["headers"], timeout=30)
        assert response.status_code == 200, response.text
        assert Decimal(str(response.json()["data"]["site"]["product"]["prices"]["price"]["value"])) == moved
        assert second.server.config.app.state.parts.channels.source == "kept"
