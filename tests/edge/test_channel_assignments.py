"""The edge's price-list and currency assignments come from BigCommerce (the simulator's REST Admin over real
HTTP) and are kept in a real Redis: a reassignment is read, an unreachable BigCommerce or unusable data keeps the
last good setup (and a restarted process finds it in Redis), and a request's channel is its host's."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.storefront import StorefrontClient, channel_host, forwarded
from pricing_edge.config import DEMO_ADMIN_TOKEN
from pricing_edge.domain.scope import PriceListAssignments
from pricing_edge.edge.assignments import KEPT_KEY, ChannelAssignments, store_currencies
from pricing_edge.jsonio import dumps
from pricing_edge.runtime import free_port
from pricing_edge.sim.admin.channels import Assignment
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.sim.admin.support import STORE_HASH, make_app
from tests.support.servers import serve

CONFIGURED = PriceListAssignments({0: 1, 1: 2}, 1)
WHOLESALE = 1


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStore]:
    redis = RedisStore(redis_url, Keys(redis_prefix), socket_timeout=10.0)
    yield redis
    await redis.aclose()


def admin_for(base_url: str) -> BigCommerceAdmin:
    return BigCommerceAdmin(base_url, store_hash=STORE_HASH, access_token=DEMO_ADMIN_TOKEN, timeout=5.0,
                            max_rate_limit_wait=5.0)


def edge_assignments(store: RedisStore, admin: BigCommerceAdmin) -> ChannelAssignments:
    return ChannelAssignments(store, admin, store_hash=STORE_HASH, channel_ids=[2], default_channel=1,
                              fallback=CONFIGURED, fallback_currency="USD", every=3600)


def reassign(base_url: str, price_list_id: int, group: int, channel: int = 1) -> None:
    response = httpx.put(f"{base_url}/stores/{STORE_HASH}/v3/pricelists/{price_list_id}/assignments",
                         content=dumps({"customer_group_id": group, "channel_id": channel}), timeout=30.0,
                         headers={"X-Auth-Token": DEMO_ADMIN_TOKEN, "Content-Type": "application/json",
                                  "Accept": "application/json"})
    assert response.status_code == 200, response.text


async def test_bigcommerce_is_the_source_and_its_last_good_answer_outlives_an_outage(store: RedisStore) -> None:
    app = make_app(build_dataset())
    with serve(app) as sim:
        admin = admin_for(sim.base_url)
        channels = edge_assignments(store, admin)
        assert channels.scope(1, WHOLESALE).price_list_id == 2  # the configured fallback until BigCommerce answers
        assert await channels.refresh()
        assert channels.source == "bigcommerce"
        assert channels.scope(1, WHOLESALE).currency == "USD" and channels.scope(2, WHOLESALE).currency == "EUR"

        reassign(sim.base_url, 4, WHOLESALE)
        assert await channels.refresh()
        assert channels.scope(1, WHOLESALE).price_list_id == 4
        assert channels.scope(2, WHOLESALE).price_list_id == 2  # another channel, its own assignment
        assert channels.scope(1, 99).price_list_id == 1  # a group without an assignment: the default list
        await admin.aclose()

    admin = admin_for(f"http://127.0.0.1:{free_port()}")  # BigCommerce unreachable from now on
    channels.admin = admin
    try:
        assert not await channels.refresh()
        assert channels.last_error and channels.scope(1, WHOLESALE).price_list_id == 4  # kept, not failed closed
        restarted = edge_assignments(store, admin)
        assert not await restarted.refresh()
        assert restarted.source == "kept" and restarted.scope(1, WHOLESALE).price_list_id == 4
        assert restarted.scope(2, None).currency == "EUR"
    finally:
        await admin.aclose()


async def test_unusable_assignment_data_is_a_clear_error_and_changes_nothing(store: RedisStore) -> None:
    app = make_app(build_dataset())
    with serve(app) as sim:
        admin = admin_for(sim.base_url)
        try:
            channels = edge_assignments(store, admin)
            assert await channels.refresh()
            before = dict(channels.current)
            book = app.state.admin.channels  # BigCommerce answering two lists for one group on one channel
            book.assignments[999] = Assignment(999, 5, WHOLESALE, 1)
            assert not await channels.refresh()
            assert "two price lists" in (channels.last_error or "") and "customer group 1" in (channels.last_error or "")
            assert channels.current == before
            del book.assignments[999]
            assert await channels.refresh() and channels.last_error is None
        finally:
            await admin.aclose()


async def test_a_request_is_for_the_channel_its_host_names(store: RedisStore) -> None:
    channels = edge_assignments(store, None)  # type: ignore[arg-type]
    assert channels.channel_for({"host": f"store-{STORE_HASH}-2.mybigcommerce.com"}) == 2
    assert channels.channel_for({"host": f"store-{STORE_HASH}.mybigcommerce.com"}) == 1
    assert channels.channel_for({"host": f"store-{STORE_HASH}-7.example.com"}) == 1  # not served: the default
    assert channels.channel_for({"host": "store-otherstore-2.mybigcommerce.com"}) == 1
    assert channels.channel_for({}) == 1


def test_the_upstream_is_asked_at_the_channels_own_endpoint() -> None:
    assert channel_host("store-pe-demo-2.mybigcommerce.com") == "store-pe-demo-2"  # a store hash with a hyphen
    assert channel_host("store-abc123.mybigcommerce.com") is None  # the default channel's endpoint
    assert forwarded({"host": "store-abc123-2.example.com"}, None, None) == {"host": "store-abc123-2.example.com"}
    assert forwarded({"host": "edge.example.com"}, None, None) == {}


async def test_bigcommerce_itself_is_asked_at_the_channels_host_name() -> None:
    client = StorefrontClient("https://store-abc123.mybigcommerce.com/graphql")
    try:
        sent = {b"host": b"store-abc123-2.edge.example.com"}
        assert client._url_for("store-abc123-2.edge.example.com", sent) == \
            "https://store-abc123-2.mybigcommerce.com/graphql"
        assert sent == {}  # httpx names the host from the URL
        simulator = StorefrontClient("http://127.0.0.1:8081/graphql")
        sent = {b"host": b"store-abc123-2.mybigcommerce.com"}
        assert simulator._url_for("store-abc123-2.mybigcommerce.com", sent) == "http://127.0.0.1:8081/graphql"
        assert sent == {b"host": b"store-abc123-2.mybigcommerce.com"}  # addressed otherwise: the Host says it
        await simulator.aclose()
    finally:
        await client.aclose()


async def test_the_store_sells_in_bigcommerces_channel_currencies_else_the_kept_else_the_configured(
        store: RedisStore) -> None:
    """One answer for the push and for warming: a currency enabled only on channel 2 is one the store sells in."""
    app = make_app(build_dataset())
    app.state.admin.channels.channels[1].currencies = ("USD",)  # EUR only on channel 2
    with serve(app) as sim:
        admin = admin_for(sim.base_url)
        try:
            assert await store_currencies(store, admin, ["GBP"]) == ["EUR", "USD"]
            assert await edge_assignments(store, admin).refresh()  # an edge process keeps its setups in Redis
        finally:
            await admin.aclose()
    admin = admin_for(f"http://127.0.0.1:{free_port()}")  # BigCommerce unreachable from now on
    try:
        assert await store_currencies(store, admin, ["GBP"]) == ["EUR", "USD"]  # the edge's kept copy
        await store.delete_value(KEPT_KEY)
        assert await store_currencies(store, admin, ["GBP"]) == ["GBP"]  # only then the configuration
        assert await store_currencies(store, None, ["GBP"]) == ["GBP"]
    finally:
        await admin.aclose()
