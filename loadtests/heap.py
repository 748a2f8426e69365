"""What an edge process's memory holds at a catalog's size: the heap profile behind the ``scale`` scenario's
RSS figure (issue 20). A development tool, not part of ``make bench``.

    python -m loadtests.heap --skus 100000 [--requests 10000] [--warm] [--top 25]

Starts Redis (as the harness does) and both simulators at that size, builds **one edge in this process**
(``create_edge_app``, the same code ``pricing-edge serve`` runs in each worker) and asks it every distinct
request of the scale scenario's Zipf cycle (category pages × the demo buyers) through ASGI, a few at a time.
Then it reports, after a full collection: this process's RSS, what each of the edge's caches holds (entries and
estimated bytes, ``edge/caching/l1.py``'s estimator) and, with ``--tracemalloc``, the lines whose allocations
are still alive, largest first. RSS here includes the harness's own share (the Zipf cycle, the dataset).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import tracemalloc
from typing import Any

import httpx
import orjson

from loadtests.scale import CYCLE, ScaleCatalog, distinct, rss_mb
from loadtests.system import System
from pricing_edge.config import Settings

CONCURRENCY = 8


class SimulatorsOnly(System):
    """Redis and the two simulators as processes; the edge is built in this process instead."""

    def start(self) -> None:
        self.start_simulators()


def _walked(mapping: Any) -> int:
    """A cache's entries, estimated one by one (keys and values walked; the cache's own bookkeeping aside)."""
    from pricing_edge.edge.caching.l1 import estimate

    return sum(estimate(key) + estimate(value) for key, value in list(mapping.items()))


def holders(parts: Any) -> dict[str, dict[str, Any]]:
    """Each cache of the edge: entries and estimated bytes (what its own bound counts, where it has one)."""
    from pricing_edge.edge.caching.l1 import estimate

    graphql = parts.graphql
    found: dict[str, dict[str, Any]] = {}
    for kind in parts.records.l1.kinds():
        found[f"records L1 ({kind})"] = {"entries": parts.records.l1.count(kind), "bytes": parts.records.l1.bytes(kind)}
    responses = parts.responses._entries
    found["answers"] = {"entries": len(responses), "bytes": int(responses.currsize)}
    for name, cache in (("skeletons", graphql.skeletons._l1), ("catalog index", graphql.index._products),
                        ("listing membership", parts.memberships._l1 if parts.memberships else {})):
        found[name] = {"entries": len(cache), "bytes": getattr(cache, "bytes", None), "walked": _walked(cache)}
    index = graphql.index
    found["catalog index"]["walked"] = sum(_walked(getattr(index, name)) for name in
                                           ("_products", "_by_sku", "_by_variant", "_visible") if hasattr(index, name))
    found["documents"] = {"entries": len(graphql.documents._cache), "bytes": None}
    found["complexity scores"] = {"entries": len(graphql._complexity),
                                  "bytes": sum(estimate(k) + estimate(v) for k, v in graphql._complexity.items())}
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from pricing_edge.edge.main import open_erp
    from pricing_edge.edge.app import create_edge_app
    from pricing_edge.store import open_store

    system = SimulatorsOnly(redis_url=args.redis_url, workers=1, bc_latency_ms=args.bc_latency_ms,
                            sim_skus=args.skus)
    with system:
        report: dict[str, Any] = {"skus": args.skus}
        if args.warm:
            started = time.monotonic()
            report["warm"] = await asyncio.to_thread(system.warm_store, 1800)
            report["warm_s"] = round(time.monotonic() - started, 1)
        env = system.env()
        os.environ.update({k: v for k, v in env.items() if k.startswith("PRICING_EDGE_")})
        settings = Settings.from_env()
        catalog = ScaleCatalog(system.settings, args.skus)
        requests = distinct(catalog.zipf_requests(args.requests, seed=system.settings.seed))
        del catalog.dataset  # the harness's share of this process: not the edge's
        gc.collect()
        report["rss_before_mb"] = rss_mb(os.getpid())
        if args.tracemalloc:
            tracemalloc.start(args.frames)
        app = create_edge_app(settings, open_store(settings), open_erp(settings))
        problems = 0
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://edge", timeout=60) as client:
                gate = asyncio.Semaphore(CONCURRENCY)

                async def ask(request: Any) -> None:
                    nonlocal problems
                    async with gate:
                        for attempt in range(5):
                            answer = await client.post("/graphql", content=request.body, headers=request.headers)
                            if answer.status_code != 503:
                                break
                            await asyncio.sleep(0.5 * (attempt + 1))
                        if answer.status_code != 200 or "errors" in orjson.loads(answer.content):
                            problems += 1

                started = time.monotonic()
                await asyncio.gather(*(ask(r) for r in requests))
                report["primed"] = {"requests": len(requests), "seconds": round(time.monotonic() - started, 1),
                                    "problems": problems}
                parts = app.state.parts
                gc.collect()
                report["rss_after_mb"] = rss_mb(os.getpid())
                report["holders"] = holders(parts)
                metrics = parts.metrics
                report["hits"] = {name: metrics.value("pricing_edge_cache_lookups_total",
                                                      {"tier": t, "kind": k, "result": r})
                                  for name, (t, k, r) in {
                                      "response hit": ("response", "graphql", "hit"),
                                      "response miss": ("response", "graphql", "miss"),
                                      "skeleton l1 hit": ("l1", "skeleton", "hit"),
                                      "skeleton l2 hit": ("l2", "skeleton", "hit"),
                                      "skeleton miss": ("l2", "skeleton", "miss")}.items()}
                if args.tracemalloc:
                    snapshot = tracemalloc.take_snapshot()
                    tracemalloc.stop()
                    stats = snapshot.statistics("traceback" if args.frames > 1 else "lineno")
                    report["traced_mb"] = round(sum(s.size for s in stats) / 2**20, 1)
                    report["top"] = [{"mb": round(s.size / 2**20, 2), "count": s.count,
                                      "where": " <- ".join(f"{f.filename.split('site-packages/')[-1].split('wt-33/')[-1]}"
                                                           f":{f.lineno}" for f in s.traceback)}
                                     for s in stats[:args.top]]
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=CYCLE, help="the Zipf cycle whose distinct requests are asked")
    parser.add_argument("--warm", action="store_true", help="run pricing-edge warm first (records from Redis)")
    parser.add_argument("--tracemalloc", action="store_true", help="trace allocations (slower): the top lines")
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--bc-latency-ms", type=float, default=0.0)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
