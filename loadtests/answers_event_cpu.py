"""``python -m loadtests.answers_event_cpu``: the CPU one edge process spends on the kept answers an ERP event
touches (issue 20) — the event received (``/events/erp``), applied to the store and fanned out, its invalidation
applied, and every plp page and product probe that shows its product asked once after it (what it touched
re-projected or computed anew) — less the same requests answered as hits, in microseconds of this process's CPU,
not wall time, so the figure holds on a busy machine. With how many answers each event had re-projected and computed
anew: the events scenario's per-event edge CPU (``python -m loadtests --scenario events``) is, per process,
this figure with the probes polled many times rather than once.

The simulators come from ``pricing-edge demo`` on free ports; the edge under test is built here (as ``hit_cpu``
builds it), with record TTLs long enough that nothing is refreshed while it is measured. The events change
prices and stock of the products on the category pages, alternately, as the events scenario does.

    python -m loadtests.answers_event_cpu [--events 200] [--profile profile.txt]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from starlette.types import ASGIApp

from loadtests.hit_cpu import call, post, tool_main, write_profile
from loadtests.scenarios import Catalog, Request, plp_product_ids
from pricing_edge.config import Settings
from pricing_edge.demo import demo_settings, edge_app
from pricing_edge.domain import events
from pricing_edge.intake import envelope
from pricing_edge.sim.fixtures import DemoLayout

LONG_TTL = "3600"  # seconds: no record is due while measured
APPLIED_WITHIN = 5.0  # seconds an event may take to reach this process's kept answers


async def ask_all(app: ASGIApp, requests: Sequence[Request]) -> None:
    for request in requests:
        status, body = await call(app, request)
        if status != 200:
            raise SystemExit(f"{status} {body[:200]!r}")


def counted(parts: Any) -> dict[str, float]:
    metrics = parts.metrics
    return {"computed": metrics.answers_computed._value.get(),
            "reprojected": sum(metrics.reprojections.labels(o)._value.get() for o in ("kept", "served")),
            "sites": metrics.reprojected_sites._value.get()}


async def one_event(app: ASGIApp, parts: Any, secret: str, catalog: Catalog, sku: str, index: int) -> None:
    """A price change (even ``index``) for one buyer's list, or a stock change, as the events scenario makes them;
    returns once this process has applied it to its kept answers."""
    generation = parts.responses.generation
    if index % 2 == 0:
        buyer = catalog.buyers[(index // 2) % len(catalog.buyers)]
        record: Any = (await parts.records.prices(buyer.price_list_id, "USD", [sku]))[sku]
        record = replace(record, price=record.price + 1, version=record.version + 1)
    else:
        levels = (await parts.records.stock([sku]))[sku]
        record = replace(levels[1], on_hand=levels[1].on_hand + 1, version=levels[1].version + 1)
    event = envelope.signed_event(events.event_type_of(record), events.to_data(record), source="urn:bench",
                                  secret=secret, subject=events.record_key(record))
    status, _ = await post(app, "/events/erp", event.body, event.headers)
    if status != 202:
        raise SystemExit(f"event answered {status}")
    deadline = time.monotonic() + APPLIED_WITHIN
    while parts.responses.generation == generation:
        if time.monotonic() > deadline:
            raise SystemExit("an event did not reach the kept answers")
        await asyncio.sleep(0.001)


async def measure(layout: DemoLayout, count: int, profile: cProfile.Profile | None = None) -> dict[str, float]:
    """Per event, over ``count`` events: CPU µs beyond the hits, answers re-projected and computed anew, sites
    projected; and the CPU µs of one request answered as a hit. After each event only the requests whose
    answers show its product are asked (the others would be hits: noise around the figure, not part of it)."""
    env = {"PRICING_EDGE_PRICE_TTL": LONG_TTL, "PRICING_EDGE_STOCK_TTL": LONG_TTL}
    settings = demo_settings(Settings.from_env(env, warm_at_start=False), layout)
    catalog = Catalog(settings, small=True)
    edge = edge_app(settings)
    secret = (settings.event_secret or "").split(",")[0]
    async with edge.router.lifespan_context(edge):
        showing: dict[int, list[Request]] = {}  # product -> the requests whose answers show it
        for request in catalog.plp_requests():
            _, body = await call(edge, request)
            for product_id in plp_product_ids(orjson.loads(body)):
                showing.setdefault(product_id, []).append(request)
        targets = [p for p in map(catalog.product, showing) if not p.has_variants]
        for product in targets:
            showing[product.id] += [catalog.probe(buyer, product) for buyer in catalog.buyers]
        requests = list({r.key(): r for asked in showing.values() for r in asked}.values())
        for _ in range(2):  # computed, then kept
            await ask_all(edge, requests)
        parts = edge.state.parts
        hits = []
        for _ in range(3):
            started = time.process_time()
            await ask_all(edge, requests)
            hits.append((time.process_time() - started) / len(requests))
        before, asked = counted(parts), 0
        started = time.process_time()
        for index in range(count):
            product = targets[(index // 2) % len(targets)]
            if profile is not None:
                profile.enable()
            await one_event(edge, parts, secret, catalog, product.default_variant.sku, index)
            await ask_all(edge, showing[product.id])
            if profile is not None:
                profile.disable()
            asked += len(showing[product.id])
        spent = time.process_time() - started - asked * min(hits)
        after = counted(parts)
    figures = {name: (after[name] - before[name]) / count for name in after}
    return {"cpu_us": spent / count * 1e6, **figures, "asked": asked / count, "hit_cpu_us": min(hits) * 1e6}


async def run(args: argparse.Namespace, layout: DemoLayout) -> None:
    profile = cProfile.Profile() if args.profile else None
    found = await measure(layout, args.events, profile)
    print(f"a hit: {found['hit_cpu_us']:.0f} µs CPU; {found['asked']:.1f} requests asked after each event (the plp "
          f"pages and probes that show its product)")
    print(f"per event: {found['cpu_us']:.0f} µs CPU beyond the hits; answers re-projected {found['reprojected']:.2f}, "
          f"computed anew {found['computed']:.2f}, sites projected {found['sites']:.1f}")
    if profile is not None:
        write_profile(profile, args.profile)
        print(f"  profile of the events and the requests after them: {args.profile}")


def main() -> None:
    tool_main("loadtests.answers_event_cpu", __doc__, run, ("events", 200, "events applied, one after the other"),
              "the events and the requests after them")


if __name__ == "__main__":
    main()
