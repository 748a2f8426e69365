"""``python -m loadtests``: start the system, warm it, run the scenarios and baselines, write the report.

    python -m loadtests                                # every scenario, 1,000 requests/s, 10 s each
    python -m loadtests --scenario plp --rate 2000 --duration 30
    python -m loadtests --scenario all --no-max-rate-search --no-write
    python -m loadtests --scenario scale --scale-skus 10000,100000   # a system per catalog size (loadtests/scale.py)
    make bench BENCH_ARGS="--duration 20"
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from loadtests import report, scale
from loadtests.runner import Bench, Options
from loadtests.scenarios import SCENARIOS
from loadtests.system import System

ROOT = Path(__file__).resolve().parents[1]


def parse_rates(values: Sequence[str]) -> tuple[float | None, dict[str, float]]:
    default: float | None = None
    per: dict[str, float] = {}
    for value in values:
        name, sep, number = value.partition("=")
        if sep:
            if name not in SCENARIOS:
                raise argparse.ArgumentTypeError(f"--rate {value}: no scenario {name!r}")
            per[name] = float(number)
        else:
            default = float(value)
    return default, per


def parse_sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale-skus {value!r}: SKU counts, comma-separated") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--scale-skus {value!r}: at least one size, each at least 1")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", choices=[*SCENARIOS, "scale", "all"],
                        help="a scenario to run (repeatable; default: all)")
    parser.add_argument("--rate", action="append", default=[],
                        help="requests/s of plp, pdp, mixed and events' plp load (default 1000); NAME=N for one scenario")
    parser.add_argument("--cart-rate", type=float, default=50.0, help="add-to-cart requests/s (default 50)")
    parser.add_argument("--event-rate", type=float, default=50.0, help="ERP events/s during events (default 50)")
    parser.add_argument("--bigcommerce-rate", type=float, default=50.0,
                        help="the most requests/s the BigCommerce baseline is driven at (default 50: what one "
                             "simulator process sustains at 150 ms)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds at the rate before each measured run, not measured (default 2)")
    parser.add_argument("--baseline-duration", type=float, default=None, help="seconds per baseline run (default --duration)")
    parser.add_argument("--driver", choices=["autocannon", "httpx"], default="autocannon",
                        help="autocannon measures; httpx is the smoke test's checker (no Node.js)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs",
                        help="where benchmarks.md and benchmarks/ are (default docs/)")
    parser.add_argument("--no-write", action="store_true", help="print the JSON report, write nothing")
    parser.add_argument("--max-rate-search", dest="max_rate_search", action="store_true", default=None,
                        help="search the maximum plp rate with p99 <= 25 ms, edge and limit (default with autocannon)")
    parser.add_argument("--no-max-rate-search", dest="max_rate_search", action="store_false")
    parser.add_argument("--search-duration", type=float, default=11.0,
                        help="seconds per search step (default 11: each step spans one 10 s cache cycle)")
    parser.add_argument("--misses", type=int, default=500, help="concurrent identical cold requests (default 500)")
    parser.add_argument("--workers", type=int, default=None, help="edge worker processes (default: cores)")
    parser.add_argument("--bc-latency-ms", type=float, default=None, help="BigCommerce simulator latency (default 150)")
    parser.add_argument("--redis-url", default=None, help="default PRICING_EDGE_REDIS_URL, else localhost:6379, "
                                                          "else a redis-server started here")
    parser.add_argument("--small", action="store_true", help="fewer products per scenario (quick set-up)")
    parser.add_argument("--scale-skus", type=parse_sizes, default=list(scale.DEFAULT_SIZES),
                        help="catalog sizes of the scale scenario, comma-separated SKUs (default 10000,30000,100000)")
    parser.add_argument("--with-worker", action="store_true",
                        help="also run `pricing-edge worker` beside the edge, as production does (its BigCommerce "
                             "push of every price and stock event: PRICING_EDGE_BC_SYNC); its CPU is reported")
    parser.add_argument("--keep-logs", type=Path, default=None, help="a folder for the processes' logs")
    return parser


def options_from(args: argparse.Namespace) -> Options:
    rate, rates = parse_rates(args.rate)
    chosen = args.scenario or ["all"]
    scenarios = list(SCENARIOS) if "all" in chosen else [s for s in SCENARIOS if s in chosen]
    return Options(scenarios=scenarios, rate=rate if rate is not None else 1000.0, rates=rates,
                   cart_rate=args.cart_rate, event_rate=args.event_rate, bigcommerce_rate=args.bigcommerce_rate,
                   duration=args.duration, warmup=args.warmup, baseline_duration=args.baseline_duration, driver=args.driver,
                   misses=args.misses,
                   max_rate_search=args.driver == "autocannon" if args.max_rate_search is None else args.max_rate_search,
                   search_duration=args.search_duration, small=args.small)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def log(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    options = options_from(args)
    if options.driver == "autocannon":
        from loadtests.autocannon import GeneratorMissing, check_installed

        try:
            check_installed()
        except GeneratorMissing as exc:
            print(exc, file=sys.stderr)
            return 2
    command = "python -m loadtests" + ("" if not argv else " " + shlex.join(argv))
    signal.signal(signal.SIGTERM, _terminate)
    workdir = args.keep_logs or Path(tempfile.mkdtemp(prefix="pricing-edge-bench-"))
    started = time.monotonic()
    system = System(workdir=workdir, redis_url=args.redis_url, workers=args.workers, bc_latency_ms=args.bc_latency_ms,
                    with_worker=args.with_worker)
    results: dict[str, Any] = {"scenarios": {}, "baselines": {"bigcommerce": {}, "limit": {}}}
    if options.scenarios:
        with system:
            print(f"system up: edge {system.edge_url} ({system.workers} workers), BigCommerce {system.bigcommerce_url}, "
                  f"ERP {system.erp_url}, Redis {system.redis_url} prefix {system.prefix}; logs in {workdir}", flush=True)
            results = asyncio.run(Bench(system, options, log=log).run())
    if {"scale", "all"} & set(args.scenario or ["all"]):
        chosen = scale.ScaleOptions(sizes=args.scale_skus, rate=options.rate, duration=options.duration,
                                    workers=args.workers, redis_url=args.redis_url, workdir=workdir)
        results["scale"] = asyncio.run(scale.run(chosen, lambda s: Bench(s, options, log=log), log=log))
    redis_url = system.redis_url or args.redis_url or os.environ.get("PRICING_EDGE_REDIS_URL") or "redis://localhost"
    settings = {"duration_s": options.duration, "warmup_s": options.warmup, "baseline_duration_s": options.baseline_duration or options.duration,
                "bc_latency_ms": system.settings.bc_latency_ms, "erp_latency_ms": system.settings.erp_latency_ms,
                "price_ttl_s": system.settings.price_ttl, "stock_ttl_s": system.settings.stock_ttl,
                "redis": "local" if "localhost" in redis_url or "127.0.0.1" in redis_url else "remote",
                "workers": system.workers, "event_rate": options.event_rate, "cart_rate": options.cart_rate,
                "bigcommerce_rate": options.bigcommerce_rate}
    built = report.build(results, command=command, driver=options.driver, workers=system.workers, settings=settings)
    if args.no_write:
        sys.stdout.write(orjson.dumps(built, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for note in report.write(built, args.output):
            print(f"wrote {note}")
    for target in built["targets"]:
        print(f"  {'met ' if target['met'] else 'MISS'}  {target['target']}: {target['measured']} (wanted {target['wanted']})")
    print(f"done in {time.monotonic() - started:.0f} s")
    if not args.keep_logs:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
