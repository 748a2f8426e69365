"""``pricing-edge sync prices|inventory [--full]``: queue a sync run for the worker and follow it.

The run is queued on the store's own price (or inventory) entity, behind any ERP events already waiting,
so it never writes beside them; a worker process does the work and reports its progress in Redis, shown
here as a progress bar with an ETA (tqdm). Exit 0 when the run is done, 1 when it failed for good or the
wait ran out (the run goes on in the worker), 2 without Redis or with the push off (``PRICING_EDGE_BC_SYNC``).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import orjson
from tqdm import tqdm

from pricing_edge.config import Settings
from pricing_edge.store import open_store
from pricing_edge.worker.flows.bc_sync import FLOW, progress_key, sync_message

POLL_SECONDS = 0.5


def add_parser(sub: argparse._SubParsersAction) -> None:
    sync = sub.add_parser("sync", help="push the ERP's prices or stock into BigCommerce now (through the worker)",
                          description="queue a sync run for the worker and show its progress")
    kinds = sync.add_subparsers(dest="sync_kind", required=True, metavar="WHAT")
    for kind, what in (("prices", "price-list records (PUT /v3/pricelists/{id}/records)"),
                       ("inventory", "stock by location (PUT /v3/inventory/adjustments/absolute)")):
        summary = f"write the ERP's {what} that differ from BigCommerce's"
        parser = kinds.add_parser(kind, help=summary, description=summary)
        parser.add_argument("--full", action="store_true",
                            help="forget what BigCommerce is known to hold and re-read it whole first")
        parser.add_argument("--timeout", type=float, default=3600.0,
                            help="seconds to follow the run (default 3600); it goes on in the worker after")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar, only the final report")
        parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.bc_sync:
        print("pricing-edge sync: the ERP → BigCommerce push is off (PRICING_EDGE_BC_SYNC=0): the worker does not "
              "run it, so nothing was queued", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("pricing-edge sync needs PRICING_EDGE_REDIS_URL: the run is queued for a worker process",
              file=sys.stderr)
        return 2
    return asyncio.run(_follow(args, settings))


async def _follow(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    try:
        message = sync_message(args.sync_kind, settings.store_hash, full=args.full)
        await store.work_queue().enqueue(FLOW, message.entity, message.encode())
        bar = tqdm(desc=f"sync {args.sync_kind}", unit="record", disable=args.no_progress, file=sys.stderr)
        deadline = time.monotonic() + args.timeout
        state: dict[str, Any] = {}
        try:
            while time.monotonic() < deadline:
                raw = await store.get_value(progress_key(message.id))
                state = orjson.loads(raw) if raw else {"phase": "queued: waiting for a worker"}
                bar.set_postfix_str(state["phase"], refresh=False)
                if state.get("total") and bar.total != state["total"]:
                    bar.reset(total=state["total"])
                bar.n = int(state.get("done") or 0)
                bar.refresh()
                if state["phase"] in ("done", "failed"):
                    break
                await asyncio.sleep(POLL_SECONDS)
        finally:
            bar.close()
    finally:
        await store.aclose()
    print(orjson.dumps({"run": message.id, **state}, option=orjson.OPT_INDENT_2).decode())
    if state.get("phase") == "done":
        return 0
    if state.get("phase") != "failed":
        print(f"still running after {args.timeout:g}s: it goes on in the worker (run {message.id})", file=sys.stderr)
    return 1
