"""One edge replica's records (a RecordService on Redis and the ERP simulator) as a process of its own, for
tests that count ERP reads across processes: ``python -m tests.support.records_replica REDIS_URL PREFIX
ERP_URL PRICE_TTL SKU,SKU,...``. Each ``lookup`` line on stdin runs ``ROUNDS`` price lookups at once, waits
for the refreshes they started, and answers one JSON line: ``{"found", "oldest_ms", "newest_ms"}`` (when its records were learned).
It listens to the invalidation channel as an edge process does (the renewals other replicas announce)."""
from __future__ import annotations

import asyncio
import sys
import time

import orjson

from pricing_edge.edge.cache_updater import listen_for_invalidations
from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore

ROUNDS = 25
PRICE_LIST, CURRENCY = 2, "USD"


async def serve(redis_url: str, prefix: str, erp_url: str, ttl: float, skus: list[str]) -> None:
    store = RedisStore(redis_url, Keys(prefix), socket_timeout=10.0)
    adapter = SimulatedErpAdapter(erp_url, timeout=10)
    records = RecordService(store, adapter, EdgeMetrics(), price_ttl=ttl, erp_budget=10.0)
    # As an edge process: the keys another replica renews wake the reads here that wait for them.
    listening = asyncio.create_task(listen_for_invalidations(
        store, lambda change: records.renewed(change.renewed_prices, change.renewed_stock)))
    loop = asyncio.get_running_loop()
    try:
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "lookup":
            found = await asyncio.gather(*(records.price_lookup(PRICE_LIST, CURRENCY, skus) for _ in range(ROUNDS)))
            deadline = time.monotonic() + 60
            while records.background() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            answer = {"found": min(len(f.found) for f in found), "oldest_ms": min(f.oldest_ms or 0 for f in found),
                      "newest_ms": max(used.as_of_ms for f in found for used in f.used)}
            sys.stdout.write(orjson.dumps(answer).decode() + "\n")
            sys.stdout.flush()
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await adapter.aclose()
        await store.aclose()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5].split(",")))
