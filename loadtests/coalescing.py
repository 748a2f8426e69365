""""N concurrent identical misses → one ERP read": a product nobody asked for, its records removed from
Redis (this run's own prefix), the ERP's read counters zeroed, then N identical requests at once
(autocannon: N connections, one request each; or asyncio + httpx) and the ERP's reads of its keys."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import redis

from loadtests.scenarios import Catalog, Request


def forget(redis_url: str, prefix: str, sku: str) -> int:
    """Drop every record of ``sku`` under the run's prefix (price in every list and currency, stock)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*:{sku}", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


async def httpx_burst(url: str, request: Request, count: int) -> dict[str, Any]:
    """``count`` identical requests at once over ``count`` connections; the answers checked."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        responses = await asyncio.gather(*(client.post(url, content=request.body, headers=request.headers)
                                           for _ in range(count)), return_exceptions=True)
    statuses: dict[str, int] = {}
    wrong = 0
    for response in responses:
        status = "error" if isinstance(response, BaseException) else str(response.status_code)
        statuses[status] = statuses.get(status, 0) + 1
        if not isinstance(response, BaseException) and response.status_code == 200 \
                and request.check(orjson.loads(response.content)):
            wrong += 1
    return {"statuses": statuses, "wrong_values": wrong, "completed": statuses.get("200", 0)}


async def run(catalog: Catalog, *, edge_url: str, erp_url: str, redis_url: str, prefix: str, count: int,
              burst: Callable[[Request, int], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    product = catalog.cold_candidates[0]
    buyer = catalog.buyer("1")
    sku = product.default_variant.sku
    request = catalog.probe(buyer, product)
    removed = await asyncio.to_thread(forget, redis_url, prefix, sku)
    async with httpx.AsyncClient(base_url=erp_url, timeout=30.0) as erp:
        await erp.get("/_sim/reads", params={"reset": "1"})
        fired = await burst(request, count)
        reads = (await erp.get("/_sim/reads")).json()["reads"]
    keys = {f"price:{buyer.price_list_id}:USD:{sku}": reads.get(f"price:{buyer.price_list_id}:USD:{sku}", 0),
            f"stock:{sku}": reads.get(f"stock:{sku}", 0)}
    return {"concurrent_requests": count, "product": product.id, "sku": sku, "buyer": buyer.key,
            "records_removed_from_redis": removed, "erp_reads_per_key": keys,
            "erp_reads_total": sum(reads.values()), "one_read_per_key": all(v == 1 for v in keys.values()),
            "answers": fired, "edge_url": edge_url}
