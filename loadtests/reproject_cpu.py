"""``python -m loadtests.reproject_cpu``: the CPU an edge process spends renewing a kept plp answer (issue 20) — a
re-projection ahead of the answer's end, its records looked up again (all in L1) — in microseconds of this
process's CPU, not wall time, so the figure holds on a busy machine. Two figures per answer: the renewal as the
edge makes it (only the owned fields whose records show another value are projected again: with nothing changed,
none), and a re-projection of every owned field (what a renewal cost when each one projected every site; the
per-site projection a profile looks into). The simulators come from ``pricing-edge demo`` on free ports; the edge
under test is built here, as ``hit_cpu`` builds it, with record TTLs long enough that nothing is refreshed while
it is measured.

    python -m loadtests.reproject_cpu [--rounds 200] [--profile profile.txt]
"""
from __future__ import annotations

import argparse
import cProfile
import statistics
import time
from typing import Any

from loadtests.hit_cpu import call, tool_main, write_profile
from loadtests.scenarios import Catalog
from pricing_edge.config import Settings
from pricing_edge.demo import demo_settings, edge_app
from pricing_edge.edge.holes import Holes
from pricing_edge.edge.reprojection import Looked, look_up, reproject
from pricing_edge.sim.fixtures import DemoLayout

LONG_TTL = "3600"  # seconds: no record is due while measured


async def renew(parts: Any, holes: Holes, dirty: frozenset[int]) -> int:
    """One re-projection of ``holes`` (``dirty``: the sites marked; none: a renewal), as ``ComputePath._reproject``
    makes it; how many sites it projected."""
    graphql, records = parts.graphql, parts.records

    async def look(prices: Any, stock: set[str]) -> Looked | None:
        return await look_up(records, graphql._shown_stock, holes.price_list_id, prices, stock, records.deadline())

    done = await reproject(holes, dirty, look, set(), records.clock.wall_ms, parts.responses.ttl)
    assert done is not None, "a re-projection fell back to a compute"
    return int(getattr(done, "sites", len(holes.sites) if not dirty else len(dirty)))


async def cpu_us(parts: Any, kept: list[Holes], every_site: bool, rounds: int,
                 profile: cProfile.Profile | None = None) -> tuple[float, float]:
    """Mean CPU µs per re-projection over ``rounds`` × every kept answer, and the mean sites projected."""
    sites: list[int] = []
    started = time.process_time()
    if profile is not None:
        profile.enable()
    for _ in range(rounds):
        for holes in kept:
            sites.append(await renew(parts, holes, frozenset(range(len(holes.sites))) if every_site else frozenset()))
    if profile is not None:
        profile.disable()
    return (time.process_time() - started) * 1e6 / len(sites), statistics.mean(sites)


async def run(args: argparse.Namespace, layout: DemoLayout) -> None:
    env = {"PRICING_EDGE_PRICE_TTL": LONG_TTL, "PRICING_EDGE_STOCK_TTL": LONG_TTL}
    settings = demo_settings(Settings.from_env(env, warm_at_start=False), layout)
    requests = Catalog(settings, small=True).plp_requests()
    edge = edge_app(settings)
    async with edge.router.lifespan_context(edge):
        for _ in range(2):  # computed, then kept
            for request in requests:
                status, body = await call(edge, request)
                if status != 200:
                    raise SystemExit(f"warming: {status} {body[:200]!r}")
        parts = edge.state.parts
        kept = []
        for key in parts.responses.kept_keys():
            began = parts.responses.reprojectable(key)
            if began is not None:
                parts.responses.abandon(key, began)
                kept.append(began.holes)
        if not kept:
            raise SystemExit("no kept answer with holes")
        print(f"{len(kept)} kept plp answers, {statistics.mean(len(h.sites) for h in kept):.0f} owned fields each")
        await cpu_us(parts, kept, False, 5)  # warm
        for every_site in (False, True):
            figures = [await cpu_us(parts, kept, every_site, args.rounds) for _ in range(3)]
            best, sites = min(figures)
            what = "every owned field projected" if every_site else "renewal, nothing changed "
            print(f"  {what}: {best:.0f} µs CPU (best of 3 × {args.rounds} rounds), {sites:.0f} fields projected")
        if args.profile:
            profile = cProfile.Profile()
            await cpu_us(parts, kept, True, args.rounds, profile)
            write_profile(profile, args.profile)
            print(f"  profile of the every-field re-projections: {args.profile}")


def main() -> None:
    tool_main("loadtests.reproject_cpu", __doc__, run,
              ("rounds", 200, "re-projections of each kept answer per round"), "every-field re-projections")


if __name__ == "__main__":
    main()
