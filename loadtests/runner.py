"""One benchmark run over a started ``System``: warm, set up, every scenario with its baselines, the
coalescing check, the maximum-rate search; the result is the report (``report.py`` writes it)."""
from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from loadtests import abuse, autocannon, coalescing, cpu, httpx_driver, instances, max_rate
from loadtests.events import EventRun
from loadtests.scenarios import (
    SCENARIOS,
    SORTED_CATEGORIES,
    SORTED_RATE,
    SORTED_SCENARIOS,
    Catalog,
    Request,
    Scenario,
    plp_product_ids,
)
from loadtests.system import System

Drive = Callable[..., Awaitable[dict[str, Any]]]
EDGE_LATENCY_S = 0.005
ERP_KIND_TTL = {"price": "price_ttl", "stock": "stock_ttl"}


@dataclass
class Options:
    scenarios: list[str] = field(default_factory=lambda: list(SCENARIOS))
    rate: float = 1000.0
    rates: dict[str, float] = field(default_factory=dict)  # per-scenario overrides
    cart_rate: float = 50.0
    event_rate: float = 50.0
    bigcommerce_rate: float = 50.0
    duration: float = 10.0
    warmup: float = 2.0  # seconds at the rate before each measured run (autocannon only)
    baseline_duration: float | None = None
    driver: str = "autocannon"
    misses: int = 500
    max_rate_search: bool = True
    search_duration: float = 11.0
    search_start: float = 1000.0
    small: bool = False  # fewer products per scenario: the smoke test's quick set-up

    def rate_of(self, scenario: str) -> float:
        default = self.cart_rate if scenario == "cart" else self.rate
        if scenario in SORTED_SCENARIOS:  # the figure: 200/s (less when the whole run is slower)
            default = min(SORTED_RATE, self.rate)
        return self.rates.get(scenario, default)


class Bench:
    def __init__(self, system: System, options: Options, log: Callable[[str], None] = print) -> None:
        self.system = system
        self.options = options
        self.log = log
        self.catalog = Catalog(system.settings, small=options.small)
        self.pinned: instances.Pinned | None = None
        self.carts: dict[str, str] = {}
        self.plp_products: list[int] = []
        self.warm_report: dict[str, Any] = {}
        self.generator: dict[str, Any] = {}

    # --- drivers --------------------------------------------------------------------------------

    async def drive(self, url: str, requests: Sequence[Request], rate: float, duration: float,
                    expected_latency_s: float = EDGE_LATENCY_S, check: bool = True) -> dict[str, Any]:
        if self.options.driver == "autocannon":
            result = await autocannon.run(url, requests, rate=rate, duration=duration,
                                          expected_latency_s=expected_latency_s, warmup=self.options.warmup)
        else:
            result = await httpx_driver.run(url, requests, rate=rate, duration=duration, check=check)
        self.generator = result["generator"]
        return result

    async def burst(self, request: Request, count: int) -> dict[str, Any]:
        if self.options.driver == "autocannon":
            result = await autocannon.run(self.system.edge_url + "/graphql", [request], rate=count, duration=60,
                                          connections=count, amount=count, mode="burst", timeout=60)
            return {"statuses": result["status_codes"], "completed": result["completed"], "errors": result["errors"],
                    "generator": "autocannon (burst)"}
        return await coalescing.httpx_burst(self.system.edge_url + "/graphql", request, count)

    # --- set-up ---------------------------------------------------------------------------------

    async def setup(self) -> None:
        self.log("warming the store (pricing-edge warm)")
        self.warm_report = await asyncio.to_thread(self.system.warm_store)
        self.pinned = await instances.pin(self.system.edge_url, self.system.workers, per_process=4)
        self.log(f"edge processes: {', '.join(self.pinned.instances)}")
        catalog = self.catalog
        views = catalog.views(catalog.cart_products)
        warm = catalog.plp_requests() + catalog.pdp_requests() + catalog.mixed_requests() + views
        if set(SORTED_SCENARIOS) & set(self.options.scenarios):
            warm += catalog.sorted_requests()
        self.log(f"warming every edge process with {len(warm)} distinct requests")
        for _ in range(2):  # first a miss (upstream, records), then the answer from L1
            await self.everywhere(warm)
        for buyer in catalog.buyers:
            answer = await self.edge_post(catalog.cart_create(buyer))
            self.carts[buyer.key] = answer["data"]["cart"]["createCart"]["cart"]["entityId"]
        await self.capture_limit_answers()

    async def everywhere(self, requests: Sequence[Request]) -> None:
        """Each request once at every edge process (pinned connections, a few at a time)."""
        assert self.pinned is not None
        pinned = self.pinned

        async def ask(instance: str, request: Request) -> None:
            (await pinned.ask(instance, request.body, request.headers)).raise_for_status()

        await asyncio.gather(*(ask(instance, request) for instance in pinned.instances for request in requests))

    async def edge_post(self, request: Request) -> Any:
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(self.system.edge_url + "/graphql", content=request.body,
                                         headers=request.headers)
        response.raise_for_status()
        return orjson.loads(response.content)

    async def capture_limit_answers(self) -> None:
        """The edge's own answer bytes to every request of the runs, for the limit app to return."""
        requests = self.scenario_requests()
        distinct = list({r.key(): r for rs in requests.values() for r in rs}.values())
        slots = asyncio.Semaphore(16)

        async def capture(client: httpx.AsyncClient, request: Request) -> bytes:
            async with slots:
                response = await client.post(self.system.edge_url + "/graphql", content=request.body,
                                             headers=request.headers)
            response.raise_for_status()
            return response.content

        async with httpx.AsyncClient(timeout=60.0, limits=httpx.Limits(max_connections=16)) as client:
            answers = await asyncio.gather(*(capture(client, r) for r in distinct))
        entries = [{"customer": r.key()[0], "body": r.key()[1].decode(), "answer": base64.b64encode(a).decode()}
                   for r, a in zip(distinct, answers, strict=True)]
        plp = {r.key() for r in requests["plp"]}
        for request, answer in zip(distinct, answers, strict=True):
            if request.key() in plp:
                self.plp_products += [p for p in plp_product_ids(orjson.loads(answer)) if p not in self.plp_products]
        path = self.system.workdir / "limit-answers.json"
        path.write_bytes(orjson.dumps(entries))
        await asyncio.to_thread(self.system.start_limit, path)
        self.log(f"limit baseline serving {len(entries)} pre-serialized answers")

    def scenario_requests(self) -> dict[str, list[Request]]:
        return {"plp": self.catalog.plp_requests(), "pdp": self.catalog.pdp_requests(),
                "mixed": self.catalog.mixed_requests(), "cart": self.catalog.cart_requests(self.carts),
                "sorted": self.catalog.sorted_requests()}

    def scenarios(self) -> list[Scenario]:
        o = self.options
        requests = self.scenario_requests()
        described = {
            "plp": "category page, 24 products: prices (price, priceRange, bulkPricing...) and inventory, 4 categories",
            "pdp": f"product page: {len(self.catalog.pdp_products)} products with 12 variants, variant prices and "
                   "inventory byLocation",
            "mixed": f"catalog fields + prices + inventory of {len(self.catalog.mixed_products)} products "
                     "(the catalog part from the upstream or its cache)",
            "cart": f"addCartLineItems (1 unit, soft reservation) cycling {len(self.catalog.cart_products)} products "
                    "into each buyer's cart",
            "events": f"plp traffic while ERP price and stock events arrive at {o.event_rate:g}/s",
            "sorted": f"searchProducts of {len(SORTED_CATEGORIES)} categories sorted LOWEST_PRICE by the buyer's own "
                      "price, 24 products, two buyers of two price lists (the edge orders by its ERP records)",
            "sorted_events": f"sorted traffic while ERP price and stock events for the listed products arrive at "
                             f"{o.event_rate:g}/s (each price event for a listed price list invalidates that listing)",
            "abuse": f"plp traffic beside {abuse.HOSTILE_CLIENTS} hostile clients (documents of {abuse.ALIASES} "
                     "conflicting aliases, random tokens), against the same plp load without them",
        }
        chosen = []
        for name in o.scenarios:
            rate = o.rate_of(name)
            source = {"events": "plp", "abuse": "plp", "sorted_events": "sorted"}.get(name, name)
            chosen.append(Scenario(name, described[name], requests[source], rate, min(rate, o.bigcommerce_rate),
                                   edge_only=name in ("events", "abuse", "sorted_events")))
        return chosen

    # --- measuring ------------------------------------------------------------------------------

    async def measure(self, scenario: Scenario) -> dict[str, Any]:
        if scenario.name == "abuse":
            return await self.measure_abuse(scenario)
        o = self.options
        system = self.system
        async with httpx.AsyncClient(base_url=system.erp_url, timeout=30.0) as erp:
            await erp.get("/_sim/reads", params={"reset": "1"})
            before = instances.total(await instances.scrape_metrics(system.edge_url, system.workers))
            cpu_before = cpu.tree_cpu_seconds(system.pids("edge"))
            watch = CpuWatch(self.cpu_groups())
            load = self.drive(system.edge_url + "/graphql", scenario.requests, scenario.rate, o.duration,
                              expected_latency_s=0.2 if scenario.name == "cart" else EDGE_LATENCY_S)
            events: dict[str, Any] | None = None
            if scenario.name in ("events", "sorted_events"):
                assert self.pinned is not None
                targets = ([self.catalog.product(p) for p in self.plp_products] if scenario.name == "events"
                           else self.catalog.sorted_event_targets())
                run = EventRun(self.catalog, system.erp_url, self.pinned, targets)
                await run.prime()
                plp_load = asyncio.ensure_future(load)
                if o.driver == "autocannon":  # events start with the measured part of the plp load
                    await asyncio.sleep(o.warmup)
                result, events = await asyncio.gather(plp_load, run.run(o.event_rate, o.duration))
            else:
                result = await load
            cpu_after = cpu.tree_cpu_seconds(system.pids("edge"))
            spent = watch.stop()
            after = instances.total(await instances.scrape_metrics(system.edge_url, system.workers))
            reads = (await erp.get("/_sim/reads")).json()
        delta = instances.diff(after, before)
        measured = self.summarize(scenario.rate, result, cpu.delta(cpu_before, cpu_after))
        per = {"request": result["sent"], **({"event": events["events"]} if events else {})}
        measured["cpu_by_process"] = spent.report(per, result, "this process: the event changes and their probes, "
                                                           "the metrics scrapes")
        cache = instances.cache_ratios(delta)
        hits = cache.get("response", {}).get("hits", 0)
        lookups = hits + cache.get("response", {}).get("misses", 0)
        measured.update({
            "description": scenario.description,
            "upstream_calls": int(instances.pick(delta, "pricing_edge_upstream_calls_total")),
            "erp_reads": int(reads["total"]),
            "erp_reads_detail": self.erp_reads(reads, o.duration + (o.warmup if o.driver == "autocannon" else 0),
                                               int(instances.pick(delta, "pricing_edge_erp_reads_total"))),
            "cache": cache,
            "answered_from_response_cache": round(hits / lookups, 4) if lookups else None,
            "answers_reprojected": int(instances.pick(delta, "pricing_edge_answer_reprojections_total")),
            "edge_requests": int(instances.pick(delta, "pricing_edge_request_seconds_count", route="/graphql")),
        })
        if events is not None:
            measured["event_to_visible"] = events
        return measured

    async def measure_abuse(self, scenario: Scenario) -> dict[str, Any]:
        """The plp load twice: quiet, then beside the hostile clients (which start with the measured part)."""
        o, system = self.options, self.system
        url = system.edge_url + "/graphql"
        quiet = self.summarize(scenario.rate, await self.drive(url, scenario.requests, scenario.rate, o.duration), 0.0)
        async with httpx.AsyncClient(base_url=system.erp_url, timeout=30.0) as erp:
            await erp.get("/_sim/reads", params={"reset": "1"})
            before = instances.total(await instances.scrape_metrics(system.edge_url, system.workers))
            cpu_before = cpu.tree_cpu_seconds(system.pids("edge"))
            load = asyncio.ensure_future(self.drive(url, scenario.requests, scenario.rate, o.duration))
            if o.driver == "autocannon":
                await asyncio.sleep(o.warmup)
            result, hostile = await asyncio.gather(load, abuse.run(url, system.settings.storefront_token, o.duration))
            cpu_after = cpu.tree_cpu_seconds(system.pids("edge"))
            after = instances.total(await instances.scrape_metrics(system.edge_url, system.workers))
            reads = (await erp.get("/_sim/reads")).json()
        delta = instances.diff(after, before)
        measured = self.summarize(scenario.rate, result, cpu.delta(cpu_before, cpu_after))
        ratio = round(measured["p99_ms"] / quiet["p99_ms"], 3) if measured["p99_ms"] and quiet["p99_ms"] else None
        measured.update({"description": scenario.description, "hostile": hostile,
                         "upstream_calls": int(instances.pick(delta, "pricing_edge_upstream_calls_total")),
                         "erp_reads": int(reads["total"]),
                         "limited": int(instances.pick(delta, "pricing_edge_client_limited_total")),
                         "quiet": {k: quiet[k] for k in ("p50_ms", "p99_ms", "achieved_rate", "errors")},
                         "p99_vs_quiet": ratio})
        return measured

    async def baseline(self, kind: str, scenario: Scenario) -> dict[str, Any]:
        system = self.system
        duration = self.options.baseline_duration or self.options.duration
        if kind == "bigcommerce":
            url, rate, pids, latency = system.bigcommerce_url, scenario.bigcommerce_rate, system.pids("bigcommerce"), \
                system.settings.bc_latency_ms / 1000 + 0.1
        else:
            url, rate, pids, latency = system.limit_url, scenario.rate, system.pids("limit"), EDGE_LATENCY_S
        cpu_before = cpu.tree_cpu_seconds(pids)
        # BigCommerce answers from its own, lagging copy: its values are not the ERP's (that is the point)
        result = await self.drive(url + "/graphql", scenario.requests, rate, duration, expected_latency_s=latency,
                                  check=kind != "bigcommerce")
        measured = self.summarize(rate, result, cpu.delta(cpu_before, cpu.tree_cpu_seconds(pids)))
        measured["server_cpu_note"] = "BigCommerce simulator process" if kind == "bigcommerce" else "limit app processes"
        return measured

    def cpu_groups(self) -> dict[str, list[int]]:
        """The system's processes by part (Redis only when it runs on this machine; a shared one carries
        its other tenants' CPU too)."""
        system = self.system
        groups = {name: system.pids(name) for name in ("edge", "erp", "bigcommerce", "worker") if system.pids(name)}
        redis = system.pids("redis") or [pid for pid in [cpu.redis_pid(system.redis_url)] if pid]
        if redis:
            groups["redis"] = redis
        return groups

    def summarize(self, rate: float, result: dict[str, Any], server_cpu_s: float) -> dict[str, Any]:
        """The driver's result as the report has it. CPU covers the whole run, warm-up included, so it is
        divided by every request sent; latencies and the achieved rate cover the measured part only."""
        latency = result["latency"]
        sent = max(1, result["sent"])
        wall = max(result["duration_s"] + (self.options.warmup if self.options.driver == "autocannon" else 0), 0.001)
        errors = {k: int(v or 0) for k, v in result["errors"].items()}
        errors["unfinished"] = int(result.get("unfinished") or 0)
        generator_cpu = result["generator"]["cpu_s"]
        return {
            "rate": rate, "achieved_rate": round(result["achieved_rate"] or 0, 1),
            "duration_s": round(result["duration_s"], 2), "requests": result["completed"],
            "connections": result.get("connections"),
            "p50_ms": latency["p50_ms"], "p90_ms": latency["p90_ms"], "p99_ms": latency["p99_ms"],
            "p999_ms": latency["p999_ms"], "max_ms": latency["max_ms"], "curve": latency["curve"],
            "errors": sum(errors.values()), "errors_detail": errors, "error_samples": result.get("error_samples", []),
            "corrected_sends": result.get("corrected_sends"),
            # 100 ms windows (by intended send time, from the start of the measured part) whose slowest answer
            # took over 25 ms: where a p99 comes from
            "slow_windows": [w for w in result.get("timeline", []) if w[2] > 25][:30],
            "cpu": {"server_cpu_s": server_cpu_s, "server_cpu_ms_per_request": round(server_cpu_s * 1000 / sent, 4),
                    "server_cores": round(server_cpu_s / wall, 2), "generator_cpu_s": round(generator_cpu, 3),
                    "generator_cpu_ms_per_request": round(generator_cpu * 1000 / sent, 4),
                    "generator_cores": round(generator_cpu / wall, 2)},
            "generator": result["generator"],
        }

    def erp_reads(self, reads: dict[str, Any], duration: float, edge_read_calls: int) -> dict[str, Any]:
        """Live ERP reads per record key, and per key per freshness window (the key kind's TTL)."""
        per_kind: dict[str, Any] = {}
        for kind, setting in ERP_KIND_TTL.items():
            ttl = float(getattr(self.system.settings, setting))
            counts = [n for key, n in reads["reads"].items() if key.startswith(kind + ":")]
            windows = max(1, math.ceil(duration / ttl))
            per_kind[kind] = {"keys": len(counts), "reads": sum(counts), "ttl_s": ttl, "windows": windows,
                              "max_per_key": max(counts, default=0),
                              "max_per_key_per_window": round(max(counts, default=0) / windows, 2),
                              "mean_per_key_per_window": round(sum(counts) / len(counts) / windows, 2) if counts else 0}
        return {"total": reads["total"], "keys": reads["keys"], "edge_read_calls": edge_read_calls, **per_kind}

    # --- the whole run --------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        started = time.time()
        await self.setup()
        results: dict[str, Any] = {"scenarios": {}, "baselines": {"bigcommerce": {}, "limit": {}}}
        for scenario in self.scenarios():
            self.log(f"{scenario.name}: {scenario.rate:g}/s for {self.options.duration:g} s — {scenario.description}")
            measured = await self.measure(scenario)
            results["scenarios"][scenario.name] = measured
            self.log(f"  edge        p50 {measured['p50_ms']} ms  p99 {measured['p99_ms']} ms  "
                     f"{measured['achieved_rate']}/s  errors {measured['errors']}")
            for sample in measured["error_samples"][:2]:
                self.log(f"    e.g. {sample}")
            if scenario.edge_only:
                continue
            for kind in ("bigcommerce", "limit"):
                base = await self.baseline(kind, scenario)
                results["baselines"][kind][scenario.name] = base
                self.log(f"  {kind:<11} p50 {base['p50_ms']} ms  p99 {base['p99_ms']} ms  "
                         f"{base['achieved_rate']}/s  errors {base['errors']}")
                for sample in base["error_samples"][:2]:
                    self.log(f"    e.g. {sample}")
            measured["vs"] = {kind: ratios(measured, results["baselines"][kind][scenario.name])
                              for kind in ("bigcommerce", "limit")}
        if "events" in results["scenarios"]:
            results["event_to_visible"] = results["scenarios"]["events"].pop("event_to_visible")
        self.log(f"coalescing: {self.options.misses} concurrent identical misses")
        results["coalescing"] = await coalescing.run(
            self.catalog, edge_url=self.system.edge_url, erp_url=self.system.erp_url,
            redis_url=self.system.redis_url, prefix=self.system.prefix, count=self.options.misses, burst=self.burst)
        self.log(f"  ERP reads per key: {results['coalescing']['erp_reads_per_key']}")
        if self.options.max_rate_search:
            results["max_rate"] = await self.max_rates()
        results["setup"] = {"warm": self.warm_report, "edge_processes": self.pinned.instances if self.pinned else [],
                            "wall_s": round(time.time() - started, 1)}
        if self.pinned:
            await self.pinned.aclose()
        return results

    async def max_rates(self) -> dict[str, Any]:
        o = self.options
        plp = self.catalog.plp_requests()
        found = {}
        for name, url in (("edge", self.system.edge_url), ("limit", self.system.limit_url)):
            self.log(f"maximum sustainable plp rate with p99 <= {max_rate.P99_LIMIT_MS} ms: {name}")

            groups = self.cpu_groups() if name == "edge" else {"limit": self.system.pids("limit")}

            async def step(rate: float, url: str = url, groups: dict[str, list[int]] = groups) -> dict[str, Any]:
                watch = CpuWatch(groups)
                result = await self.drive(url + "/graphql", plp, rate, o.search_duration)
                spent = watch.stop()
                measured = self.summarize(rate, result, spent.server_cpu_s(next(iter(groups))))
                measured["cpu_by_process"] = spent.report({"request": result["sent"]}, result, "this process")
                return measured

            found[name] = await max_rate.search(step, start=o.search_start, log=self.log)
        edge, limit = found["edge"]["max_rate"], found["limit"]["max_rate"]
        return {"p99_limit_ms": max_rate.P99_LIMIT_MS, "step_duration_s": o.search_duration, **found,
                "edge_share_of_limit": round(edge / limit, 3) if edge and limit else None}


class CpuWatch:
    """CPU-seconds of the system's process groups, and of this harness, from now until ``stop``."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.before, self.harness, self.wall = cpu.sample(groups), cpu.self_cpu_seconds(), time.monotonic()

    def stop(self) -> CpuSpent:
        return CpuSpent(self.before, cpu.sample(self.groups), cpu.self_cpu_seconds() - self.harness,
                        time.monotonic() - self.wall)


@dataclass
class CpuSpent:
    before: dict[str, dict[int, float]]
    after: dict[str, dict[int, float]]
    harness_s: float
    wall_s: float

    def server_cpu_s(self, group: str) -> float:
        return cpu.delta(self.before[group], self.after[group])

    def report(self, per: dict[str, float], result: dict[str, Any], harness_note: str) -> dict[str, Any]:
        """Where a run's CPU went (``cpu.by_process``), the generator's and this harness's beside it."""
        return {**cpu.by_process(self.before, self.after, self.wall_s, per),
                "generator": {"cpu_s": round(result["generator"]["cpu_s"], 3)},
                "harness": {"cpu_s": round(self.harness_s, 3), "note": harness_note}, "wall_s": round(self.wall_s, 2)}


def ratios(edge: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """edge / baseline per percentile (below 1: the edge is faster)."""
    def ratio(key: str) -> float | None:
        return round(edge[key] / base[key], 4) if edge.get(key) and base.get(key) else None

    return {"p50": ratio("p50_ms"), "p99": ratio("p99_ms"), "baseline_rate": base["rate"]}

