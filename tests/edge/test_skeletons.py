"""Catalog skeletons: kept in process as BigCommerce's bytes under a byte bound; past it the least recently
used are evicted (counted, and shown by the gauge), and an evicted one is read back from the store, so every
answer stays right."""
from __future__ import annotations

from typing import Any

import orjson

from pricing_edge.edge.skeletons import ENTRY_OVERHEAD, SkeletonCache
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store


def page(i: int) -> dict[str, Any]:
    return loads_exact(orjson.dumps({"data": {"site": {"category": {"entityId": i, "products": {"edges": [
        {"node": {"entityId": i * 100 + n, "sku": f"SKU-{i}-{n}", "name": "x" * 200,
                  "prices": {"price": {"value": 12.5, "currencyCode": "USD"}}}} for n in range(5)]}}}}}))


async def test_past_its_byte_bound_it_evicts_and_reads_the_evicted_back_from_the_store(store: Store) -> None:
    metrics = EdgeMetrics()
    raw = [dumps(page(i)) for i in range(20)]
    bound = 5 * (len(raw[0]) + ENTRY_OVERHEAD)
    cache = SkeletonCache(store, metrics, ttl=300, max_bytes=bound)
    for i in range(20):
        await cache.put(f"sk:{i}", page(i), raw[i])
        assert cache.bytes <= bound
    assert len(cache) < 20
    evicted = metrics.value("pricing_edge_cache_evictions_total", {"cache": "skeleton"})
    assert evicted == 20 - len(cache) > 0
    assert metrics.value("pricing_edge_cache_bytes", {"cache": "skeleton"}) == cache.bytes
    for i in range(20):  # every one right: the kept from memory, the evicted from the store
        found = await cache.get(f"sk:{i}")
        assert found is not None and found.body == page(i) and cache.fresh(found)
    assert metrics.value("pricing_edge_cache_lookups_total", {"tier": "l2", "kind": "skeleton", "result": "hit"}) > 0
    assert cache.bytes <= bound


async def test_each_reader_gets_its_own_copy_of_the_body(store: Store) -> None:
    cache = SkeletonCache(store, EdgeMetrics(), ttl=300)
    await cache.put("sk:one", page(1), dumps(page(1)))
    first = await cache.get("sk:one")
    assert first is not None
    first.body["data"]["site"] = None  # a reader that changes what it was given changes no one else's
    second = await cache.get("sk:one")
    assert second is not None and second.body == page(1)


async def test_a_skeleton_never_kept_is_none(store: Store) -> None:
    metrics = EdgeMetrics()
    cache = SkeletonCache(store, metrics, ttl=300)
    assert await cache.get("sk:never") is None
    assert metrics.value("pricing_edge_cache_lookups_total", {"tier": "l2", "kind": "skeleton", "result": "miss"}) == 1


class Wall:
    """The time skeletons are stamped and judged in, moved only by the test."""

    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


async def test_past_its_ttl_a_skeleton_is_renewable_for_one_more_ttl_then_not(store: Store) -> None:
    wall = Wall()
    cache = SkeletonCache(store, EdgeMetrics(), ttl=300, wall_ms=wall)
    await cache.put("sk:one", page(1), dumps(page(1)))
    kept = await cache.get("sk:one")
    assert kept is not None and cache.fresh(kept) and not cache.renewable(kept)
    wall.ms += 300_000
    kept = await cache.get("sk:one")  # still given: the caller decides what a stale one is good for
    assert kept is not None and not cache.fresh(kept) and cache.renewable(kept)
    wall.ms += 300_000
    assert not cache.renewable(kept)  # past one more TTL: BigCommerce is asked on the request


async def test_a_renewal_runs_once_per_key_at_a_time_and_says_whether_it_renewed(store: Store) -> None:
    import asyncio

    wall = Wall()
    cache = SkeletonCache(store, EdgeMetrics(), ttl=300, wall_ms=wall)
    await cache.put("sk:one", page(1), dumps(page(1)))
    wall.ms += 301_000
    release = asyncio.Event()
    calls = 0

    async def refresh() -> None:  # what the compute path does: asks BigCommerce and keeps its answer
        nonlocal calls
        calls += 1
        await release.wait()
        await cache.put("sk:one", page(2), dumps(page(2)))

    assert cache.renew("sk:one", refresh)
    assert not cache.renew("sk:one", refresh)  # one is running: not a second
    release.set()
    await asyncio.gather(*cache.renewals.background)
    assert calls == 1 and not cache.renewals.failing("sk:one")
    renewed = await cache.get("sk:one")
    assert renewed is not None and cache.fresh(renewed) and renewed.body == page(2)

    wall.ms += 301_000

    async def fails() -> None:  # BigCommerce down: nothing kept
        return None

    assert cache.renew("sk:one", fails)
    await asyncio.gather(*cache.renewals.background)
    assert cache.renewals.failing("sk:one")  # what is built on it says upstream degraded
    assert not cache.renew("sk:one", fails)  # spaced: not asked again at once
