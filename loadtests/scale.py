"""The ``scale`` scenario: a real catalog's size. For each size (default 10k, 30k and 100k SKUs, always
× 10 price lists × 2 currencies over 5,000 category pages) a whole system of its own is started with the
simulators at that size (``PRICING_EDGE_SIM_SKUS``), and measured:

- the simulators' start-up time and RSS (they compute prices and stock on demand: ``sim.scale``);
- ``pricing-edge warm``'s wall time (bulk writes) and what it costs Redis (``INFO memory`` used_memory
  before and after, and the keys under the run's prefix);
- plp traffic at the rate (1,000/s) with Zipf-distributed category pages (s = 1: the most popular page
  gets ~11% of the traffic, the 5,000th 0.002%) and the demo buyers (four price lists), once warm: every
  page of the traffic's cycle asked once through the edge, then a warm-up at the rate, then measured —
  latency, the answer/L1/L2 hit ratios from the edge's ``/metrics``, and each edge process's RSS.
"""
from __future__ import annotations

import asyncio
import itertools
import random
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from loadtests import cpu, instances
from loadtests.harness_http import HttpError
from loadtests.scenarios import PLP, Catalog, Request, Truth, body, demo_buyers
from loadtests.system import System
from pricing_edge.config import Settings
from pricing_edge.edge.response_cache import MISS_REASONS
from pricing_edge.sim.scale import CATEGORY_PAGES, FIRST_PAGE_ID, PRICE_LISTS, build_scale_dataset

DEFAULT_SIZES = (10_000, 30_000, 100_000)
ZIPF_S = 1.0
CYCLE = 10_000  # requests in the traffic's cycle (sampled once; the load repeats it)
PRIME_PER_PROCESS = 6  # priming requests in flight per edge process
PRIME_ATTEMPTS = 5
WARM_TIMEOUT_S = 1800.0  # reported against its 2-minute target, but let a slow machine finish
CURRENCIES = 2


@dataclass
class ScaleOptions:
    sizes: list[int] = field(default_factory=lambda: list(DEFAULT_SIZES))
    rate: float = 1000.0
    duration: float = 10.0
    cycle: int = CYCLE
    workers: int | None = None
    redis_url: str | None = None
    workdir: Path | None = None


def zipf_cum_weights(n: int, s: float = ZIPF_S) -> list[float]:
    """Cumulative weights of ranks 1..n under Zipf's law (weight 1/rank^s)."""
    if n < 1 or s <= 0:
        raise ValueError(f"Zipf needs n ≥ 1 and s > 0, got n={n}, s={s}")
    return list(itertools.accumulate(1 / (rank ** s) for rank in range(1, n + 1)))


def zipf_sample(n: int, count: int, *, s: float = ZIPF_S, seed: int = 0) -> list[int]:
    """``count`` ranks in 0..n-1 (0 the most popular), Zipf-distributed, the same for the same seed."""
    return random.Random(seed).choices(range(n), cum_weights=zipf_cum_weights(n, s), k=count)


class ScaleCatalog(Catalog):
    """The scale store seen from the harness: its buyers, its category pages, the ERP's truth for checks."""

    def __init__(self, settings: Settings, skus: int) -> None:  # no demo product sets: Catalog's init is not run
        self.settings = settings
        self.dataset = build_scale_dataset(settings.seed, skus)
        self.truth = Truth(self.dataset)
        self.buyers = demo_buyers(self.dataset, settings)
        # pages by popularity: a seeded shuffle, so the popular pages are not simply the first ids
        self.pages = list(range(FIRST_PAGE_ID, FIRST_PAGE_ID + CATEGORY_PAGES))
        random.Random(settings.seed).shuffle(self.pages)

    def plp(self, buyer_index: int, page: int) -> Request:
        buyer = self.buyers[buyer_index]
        return Request(buyer, body(PLP, {"categoryId": page}), lambda answer: self.check_plp(answer, buyer, page))

    def zipf_requests(self, count: int, seed: int = 0) -> list[Request]:
        """``count`` category-page requests: pages by Zipf's law, buyers uniformly."""
        ranks = zipf_sample(len(self.pages), count, seed=seed)
        who = random.Random(f"{seed}:buyers")
        return [self.plp(who.randrange(len(self.buyers)), self.pages[rank]) for rank in ranks]


def distinct(requests: Sequence[Request]) -> list[Request]:
    return list({r.key(): r for r in requests}.values())


def rss_mb(pid: int) -> float | None:
    """A process's resident set size (``/proc/<pid>/status`` VmRSS), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _children_cpu_s() -> float:
    """CPU of this process's finished children (the ``pricing-edge warm`` subprocess, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_rss(root: int) -> dict[int, float | None]:
    return {pid: rss_mb(pid) for pid in cpu.tree(root)}


def redis_memory(url: str, prefix: str) -> dict[str, Any]:
    """``used_memory`` and CPU seconds of the whole server, and the keys under ``prefix``."""
    client = redis.Redis.from_url(url)
    try:
        used = int(client.info("memory")["used_memory"])
        server = client.info("cpu")
        cpu_s = float(server["used_cpu_sys"]) + float(server["used_cpu_user"])
        keys = sum(1 for _ in client.scan_iter(match=prefix + "*", count=10_000))
    finally:
        client.close()
    return {"used_memory_bytes": used, "keys": keys, "cpu_s": cpu_s}


async def prime(pinned: instances.Pinned, requests: Sequence[Request]) -> dict[str, Any]:
    """Each request through every edge process — "once warm" is every process warm: the measured traffic reaches
    every process (one listening socket each). First once, the processes in turn (a cold page goes upstream once:
    the others then build it from the catalog part in Redis), a few at a time per process; the answers checked. A 503 (the upstream's
    breaker or budget while cold pages arrive in bulk) is asked again a little later; a lost connection (an edge
    process restarted by its supervisor on an overloaded machine) is a problem told in the result."""
    problems: list[str] = []
    retried = 0
    processes = pinned.instances

    async def ask(instance: str, request: Request) -> None:
        nonlocal retried
        for attempt in range(PRIME_ATTEMPTS):
            try:
                response = await pinned.ask(instance, request.body, request.headers)
            except HttpError as exc:  # the process went away (restarted): told, not fatal to the run
                problems.append(f"{instance}: {exc!r}")
                return
            if response.status_code != 503 or attempt == PRIME_ATTEMPTS - 1:
                break
            retried += 1
            await asyncio.sleep(0.5 * (attempt + 1))
        if response.status_code != 200:
            problems.append(f"HTTP {response.status_code}: {response.text[:200]}")
        else:
            problems.extend(request.check(response.json())[:1])

    started = time.monotonic()
    count = len(processes)
    await asyncio.gather(*(ask(processes[index % count], r) for index, r in enumerate(requests)))
    await asyncio.gather(*(ask(processes[(index + other) % count], r) for index, r in enumerate(requests)
                           for other in range(1, count)))
    return {"requests": len(requests) * count, "seconds": round(time.monotonic() - started, 2), "retried_503": retried,
            "problems": len(problems), "problem_samples": problems[:3]}


async def measure_traffic(bench: Any, system: System, requests: list[Request], rate: float,
                          duration: float) -> dict[str, Any]:
    """The Zipf plp load at ``rate`` (the driver's warm-up first), with the edge's cache counters around it."""
    before = instances.total(await instances.scrape_metrics(system.edge_url, system.workers))
    cpu_before = cpu.tree_cpu_seconds(system.pids("edge"))
    result = await bench.drive(system.edge_url + "/graphql", requests, rate, duration)
    cpu_after = cpu.tree_cpu_seconds(system.pids("edge"))
    after = instances.total(await instances.scrape_metrics(system.edge_url, system.workers))
    delta = instances.diff(after, before)
    measured: dict[str, Any] = bench.summarize(rate, result, cpu.delta(cpu_before, cpu_after))
    measured.pop("curve", None)
    cache = instances.cache_ratios(delta)
    measured["cache"] = cache
    measured["hit_ratios"] = {tier: cache.get(tier, {}).get("ratio") for tier in ("response", "l1", "l2")}
    measured["upstream_calls"] = int(instances.pick(delta, "pricing_edge_upstream_calls_total"))
    # of which renewals of catalog parts past their TTL, in the background (no request waits on them)
    measured["upstream_renewals"] = int(instances.pick(delta, "pricing_edge_upstream_calls_total", purpose="renewal"))
    measured["answers"] = answer_counts(delta)
    measured["l1_bytes"] = int(instances.pick(after, "pricing_edge_l1_bytes")) or None  # where the edge has it
    # what each memory-bounded cache holds (all processes) and evicted during the run (issue 20's heap profile)
    measured["cache_bytes"] = {cache: int(instances.pick(after, "pricing_edge_cache_bytes", cache=cache))
                               for cache in ("answer", "skeleton", "catalog_index", "listing_membership")}
    measured["cache_evictions"] = {cache: int(instances.pick(delta, "pricing_edge_cache_evictions_total", cache=cache))
                                   for cache in ("skeleton", "catalog_index", "listing_membership")}
    return measured


def answer_counts(delta: instances.Samples) -> dict[str, Any]:
    """How the answers were given: served kept (hits), re-projected from kept holes (on the request or in the
    background; kept again, or served only: its records were not fresh), or computed anew (skeleton, overlay,
    render: the expensive path) — and why the answer cache had none to serve (``missed``)."""
    def count(name: str, **labels: str) -> int:
        return int(instances.pick(delta, name, **labels))

    return {"hits": count("pricing_edge_cache_lookups_total", tier="response", result="hit"),
            "misses": count("pricing_edge_cache_lookups_total", tier="response", result="miss"),
            # why: first sight, evicted for room, changed, records expired, catalog part ended
            "missed": {reason: count("pricing_edge_answer_misses_total", reason=reason) for reason in MISS_REASONS},
            "reprojected": count("pricing_edge_answer_reprojections_total"),
            "reprojected_kept": count("pricing_edge_answer_reprojections_total", outcome="kept"),
            "computed": count("pricing_edge_answers_computed_total")}


async def measure_size(system: System, bench: Any, skus: int, options: ScaleOptions,
                       log: Callable[[str], None]) -> dict[str, Any]:
    catalog = ScaleCatalog(system.settings, skus)
    skus_built = sum(len(p.variants) for p in catalog.dataset.products)
    sims = {name: tree_rss(pid) for name in ("bigcommerce", "erp") for pid in system.pids(name)}
    memory_before = await asyncio.to_thread(redis_memory, system.redis_url, system.prefix)
    log(f"  warming the store: {skus_built:,} SKUs × {PRICE_LISTS} price lists × {CURRENCIES} currencies")
    erp_cpu, children_cpu = cpu.tree_cpu_seconds(system.pids("erp")), _children_cpu_s()
    started = time.monotonic()
    warm = await asyncio.to_thread(system.warm_store, WARM_TIMEOUT_S)
    warm_s = round(time.monotonic() - started, 1)
    memory_after = await asyncio.to_thread(redis_memory, system.redis_url, system.prefix)
    # where the warm's time goes: CPU of the ERP simulator (exports), of `pricing-edge warm` (parse, encode,
    # pipelines) and of the Redis server (the versioned writes; the whole server's, if shared)
    warm_cpu = {"erp_simulator_s": round(cpu.delta(erp_cpu, cpu.tree_cpu_seconds(system.pids("erp"))), 1),
                "warm_command_s": round(_children_cpu_s() - children_cpu, 1),
                "redis_server_s": round(memory_after["cpu_s"] - memory_before["cpu_s"], 1)}
    used = memory_after["used_memory_bytes"] - memory_before["used_memory_bytes"]
    log(f"  warm {warm_s} s ({warm}; CPU {warm_cpu}); Redis +{used / 2**20:,.0f} MB, {memory_after['keys']:,} keys")
    requests = catalog.zipf_requests(options.cycle, seed=system.settings.seed)
    pages = distinct(requests)
    log(f"  priming the edge: {len(pages):,} distinct pages × buyers of {len(requests):,} Zipf requests")
    pinned = await instances.pin(system.edge_url, system.workers, per_process=PRIME_PER_PROCESS)
    try:
        primed = await prime(pinned, pages)
    finally:
        await pinned.aclose()
    log(f"  primed in {primed['seconds']} s, problems {primed['problems']} {primed['problem_samples'][:1]}")
    traffic = await measure_traffic(bench, system, requests, options.rate, options.duration)
    edge_rss = {pid: mb for root in system.pids("edge") for pid, mb in tree_rss(root).items()}
    workers = {pid: mb for pid, mb in edge_rss.items() if pid not in system.pids("edge")} or edge_rss
    log(f"  plp p50 {traffic['p50_ms']} ms p99 {traffic['p99_ms']} ms {traffic['achieved_rate']}/s errors "
        f"{traffic['errors']}; hits {traffic['hit_ratios']}; answers {traffic['answers']}; CPU "
        f"{traffic['cpu']['server_cpu_ms_per_request']} ms/request; edge RSS {sorted(edge_rss.values(), key=str)} MB")
    return {
        "skus": skus_built, "products": len(catalog.dataset.products), "category_pages": CATEGORY_PAGES,
        "price_lists": PRICE_LISTS, "currencies": CURRENCIES, "price_records": skus_built * PRICE_LISTS * CURRENCIES,
        "simulators": {name: {"startup_s": system.startup_s.get(name),
                              "rss_mb": round(sum(v or 0 for v in sims.get(name, {}).values()), 1)}
                       for name in ("bigcommerce", "erp")},
        "warm": {"seconds": warm_s, **warm, "cpu": warm_cpu},
        "redis": {"used_memory_delta_mb": round(used / 2**20, 1),
                  "used_memory_mb": round(memory_after["used_memory_bytes"] / 2**20, 1), "keys": memory_after["keys"],
                  "bytes_per_key": round(used / memory_after["keys"]) if memory_after["keys"] else None},
        "edge_rss_mb": {"per_process": {str(pid): mb for pid, mb in edge_rss.items()},
                        "max_worker": max((mb or 0 for mb in workers.values()), default=None)},
        "zipf": {"s": ZIPF_S, "cycle": len(requests), "distinct_requests": len(pages)},
        "primed": primed, "plp": traffic,
    }


async def run(options: ScaleOptions, make_bench: Callable[[System], Any],
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every size, each on a system of its own (started and stopped here)."""
    sizes: list[dict[str, Any]] = []
    for skus in options.sizes:
        log(f"scale: {skus:,} SKUs × {PRICE_LISTS} price lists × {CURRENCIES} currencies, {CATEGORY_PAGES:,} "
            f"category pages, Zipf plp at {options.rate:g}/s for {options.duration:g} s")
        workdir = options.workdir / f"scale-{skus}" if options.workdir else None
        system = System(workdir=workdir, redis_url=options.redis_url, workers=options.workers, sim_skus=skus)
        with system:
            log(f"  simulators up in {system.startup_s.get('bigcommerce')} s (BigCommerce), "
                f"{system.startup_s.get('erp')} s (ERP)")
            sizes.append(await measure_size(system, make_bench(system), skus, options, log))
    return {"rate": options.rate, "duration_s": options.duration, "sizes": sizes}
