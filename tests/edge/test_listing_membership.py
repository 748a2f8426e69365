"""A listing's membership, from the BigCommerce simulator over HTTP into a real store: every page of a listing
of more than 10,000 products is read once and then reused (by another edge process too, through the store),
and a catalog change makes every process ask again."""
from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pricing_edge.bigcommerce.storefront import StorefrontClient
from pricing_edge.edge.listing import membership as membership_module
from pricing_edge.edge.caching.l1 import estimate
from pricing_edge.edge.listing.membership import MembershipCache
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.storefront import create_app
from pricing_edge.store.base import Store
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until
from tests.support.servers import serve

TOKEN = "listing-test-token"
GUEST = {"authorization": f"Bearer {TOKEN}"}
TOTAL = "query T($filters: SearchProductsFiltersInput!) { site { search { searchProducts(filters: $filters) { " \
        "products(first: 1) { collectionInfo { totalItems } } } } } }"


@pytest.fixture(scope="module")
def storefront() -> Iterator[str]:
    """A store of 11,000 products, answering at once (no simulated latency)."""
    app = create_app(build_dataset(7, product_count=11_000), storefront_token=TOKEN, impersonation_token="imp-token",
                     latency_ms=0.0)
    with serve(app) as server:
        yield server.base_url + "/graphql"


def total(url: str, filters: dict[str, object]) -> int:
    answer = httpx.post(url, json={"query": TOTAL, "variables": {"filters": filters}}, headers=GUEST, timeout=60).json()
    return int(answer["data"]["site"]["search"]["searchProducts"]["products"]["collectionInfo"]["totalItems"])


@pytest.fixture
async def redis_store(redis_url: str, redis_prefix: str) -> AsyncIterator[Store]:
    store = RedisStore(redis_url, Keys(redis_prefix), socket_timeout=10.0)
    yield store
    await store.aclose()


async def test_a_listing_of_more_than_ten_thousand_products_is_read_once_then_shared(
        redis_store: Store, storefront: str) -> None:
    """On Redis only: 220 pages of the simulator are the slow part, not the store."""
    store = redis_store
    expected = total(storefront, {})
    assert expected > 10_000
    first, second = StorefrontClient(storefront, timeout=60), StorefrontClient(storefront, timeout=60)
    try:
        cache = MembershipCache(store, first, ttl=300)
        found = await cache.get("c1:g0", {}, None, GUEST)
        assert len(found.products) == len({pid for pid, _ in found.products}) == expected
        assert cache.fetches == math.ceil(expected / 50)
        assert (await cache.get("c1:g0", {}, None, GUEST)) == found
        assert cache.fetches == math.ceil(expected / 50)  # reused, not asked again
        other_process = MembershipCache(store, second, ttl=300)
        assert (await other_process.get("c1:g0", {}, None, GUEST)).products == found.products
        assert other_process.fetches == 0  # from the store
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_catalog_change_makes_every_process_ask_again(store: Store, storefront: str) -> None:
    """The old membership is served meanwhile: only a listing never seen waits for BigCommerce."""
    filters = {"categoryEntityId": 3, "searchSubCategories": True}
    client = StorefrontClient(storefront, timeout=60)
    try:
        here, there = MembershipCache(store, client, ttl=300), MembershipCache(store, client, ttl=300)
        first = await here.get("c1:g0", filters, None, GUEST)
        await there.get("c1:g0", filters, None, GUEST)
        asked = here.fetches + there.fetches
        changed_ms = int(time.time() * 1000)
        await here.catalog_changed()  # a product webhook reached this process; the other hears it through the store
        assert (await here.get("c1:g0", filters, None, GUEST)).fetched_ms == first.fetched_ms  # served meanwhile

        async def refreshed(process: MembershipCache) -> bool:
            return (await process.get("c1:g0", filters, None, GUEST)).fetched_ms >= changed_ms

        for process in (here, there):  # asked again, or took the other's newer answer from the store
            await async_wait_until(lambda p=process: refreshed(p), timeout=15, what="a membership from after the change")
        assert here.fetches + there.fetches > asked  # BigCommerce was asked again
    finally:
        await client.aclose()


async def test_a_listing_larger_than_the_bound_is_refused(store: Store, storefront: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(membership_module, "MAX_MEMBERS", 120)
    filters: dict[str, object] = {"categoryEntityId": 3, "searchSubCategories": True}
    assert total(storefront, filters) > 120
    client = StorefrontClient(storefront, timeout=60)
    try:
        cache = MembershipCache(store, client, ttl=300)
        with pytest.raises(membership_module.ListingTooLarge):
            await cache.get("c1:g0", filters, None, GUEST)
        asked = cache.fetches
        with pytest.raises(membership_module.ListingTooLarge):  # remembered: not asked again each request
            await cache.get("c1:g0", filters, None, GUEST)
        assert cache.fetches == asked
    finally:
        await client.aclose()


async def test_past_its_byte_bound_a_membership_is_evicted_and_read_back_from_the_store(
        store: Store, storefront: str) -> None:
    """Bounded by bytes in process: the least recently used listing goes (counted, shown by the gauge), and
    asking for it again reads the store, not BigCommerce — the same products."""
    metrics = EdgeMetrics()
    client = StorefrontClient(storefront, timeout=60)
    try:
        probe = MembershipCache(store, client, ttl=300)
        first_filters, second_filters = {"categoryEntityId": 3}, {"categoryEntityId": 4}
        first = await probe.get("c1:g0", first_filters, None, GUEST)
        second = await probe.get("c1:g0", second_filters, None, GUEST)
        sizes = [membership_module.ENTRY_OVERHEAD + estimate(m.products) for m in (first, second)]
        bound = max(sizes) + min(sizes) // 2  # room for either, not both
        cache = MembershipCache(store, client, ttl=300, metrics=metrics, max_bytes=bound)
        assert (await cache.get("c1:g0", first_filters, None, GUEST)) == first  # from the store
        assert (await cache.get("c1:g0", second_filters, None, GUEST)) == second
        assert cache.bytes <= bound
        assert metrics.value("pricing_edge_cache_evictions_total", {"cache": "listing_membership"}) == 1
        assert metrics.value("pricing_edge_cache_bytes", {"cache": "listing_membership"}) == cache.bytes
        asked = cache.fetches
        assert (await cache.get("c1:g0", first_filters, None, GUEST)).products == first.products
        assert cache.fetches == asked  # read back from the store
    finally:
        await client.aclose()
