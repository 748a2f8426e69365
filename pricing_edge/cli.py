"""``pricing-edge``: the command line. Each subcommand is a thin wrapper over a module's entry point."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import httpx
import orjson

from pricing_edge.config import Settings
from pricing_edge.sim.fixtures import DEFAULT_PORT, DemoLayout

Handler = Callable[[argparse.Namespace, Settings], int]


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.demo import run_demo

    run_demo(DemoLayout(args.port, args.host), settings)
    return 0


def cmd_fixtures(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.sim.dataset import build_dataset
    from pricing_edge.sim.fixtures import demo_fixtures

    _print_json(demo_fixtures(build_dataset(settings.seed), DemoLayout(args.port, args.host), settings))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.runtime import Grace, Served, run

    grace = Grace(settings.shutdown_grace)
    if args.workers > 1:  # uvicorn's supervisor; each child bounds its own shutdown (edge.main.supervised_app)
        import uvicorn

        uvicorn.run("pricing_edge.edge.main:supervised_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, access_log=False,
                    timeout_graceful_shutdown=max(1, round(grace.drain)))
        return 0
    from pricing_edge.edge.main import app_from_env

    run([Served("edge", app_from_env(), args.port, args.host)], log_level=args.log_level, grace=grace)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.ops.tracing import configure_logging
    from pricing_edge.runtime import Grace, Served, run
    from pricing_edge.worker.main import app_from_env

    configure_logging(args.log_level)
    run([Served("worker", app_from_env(), args.port, args.host)], log_level=args.log_level,
        grace=Grace(settings.shutdown_grace), log_config=None)
    return 0


def cmd_ops(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.ops.ops_cli import run

    return run(args, settings.worker_url)


def cmd_register_webhooks(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from pricing_edge.worker.main import open_admin
    from pricing_edge.worker.webhooks import register

    try:
        changes = asyncio.run(register(open_admin(settings), args.destination, settings, args.scope or None))
    except Exception as exc:  # noqa: BLE001 — a CLI reports, it does not trace back
        print(f"cannot register webhooks: {exc}", file=sys.stderr)
        return 1
    _print_json(changes)
    return 0


def cmd_warm(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from pricing_edge.domain.scope import PriceListAssignments
    from pricing_edge.edge.main import open_erp
    from pricing_edge.edge.warm import warm
    from pricing_edge.store import open_store

    async def run() -> int:
        store, erp = open_store(settings), open_erp(settings)
        try:
            report = await warm(store, erp, PriceListAssignments.parse(settings.price_lists,
                                                                        settings.default_price_list),
                                [c.strip() for c in settings.currencies.split(",") if c.strip()])
        finally:
            await erp.aclose()
            await store.aclose()
        _print_json(report.__dict__)
        return 0

    return asyncio.run(run())


def cmd_sim_bigcommerce(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.demo import bigcommerce_sim_app
    from pricing_edge.runtime import Grace, Served, run

    app = bigcommerce_sim_app(settings, latency_ms=args.latency_ms)
    print(f"BigCommerce simulator: http://{args.host}:{args.port}/graphql (seed {settings.seed})", flush=True)
    run([Served("bigcommerce-sim", app, args.port, args.host)], log_level=args.log_level,
        grace=Grace(settings.shutdown_grace))
    return 0


def cmd_sim_erp(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.demo import erp_sim_app
    from pricing_edge.runtime import Grace, Served, run

    app = erp_sim_app(settings, events_url=args.events_url, ticker_rate=args.ticker_rate, latency_ms=args.latency_ms)
    print(f"ERP simulator: http://{args.host}:{args.port} (seed {settings.seed}); events to "
          f"{args.events_url or settings.events_url or 'nowhere (no events URL)'}", flush=True)
    run([Served("erp-sim", app, args.port, args.host)], log_level=args.log_level, grace=Grace(settings.shutdown_grace))
    return 0


def cmd_sim_fault(args: argparse.Namespace, settings: Settings) -> int:
    base = args.url or (settings.erp_url if args.target == "erp" else settings.upstream_url.rsplit("/graphql", 1)[0])
    url = base.rstrip("/") + "/_sim/faults"
    try:
        if args.clear:
            response = httpx.delete(url, timeout=10)
        else:
            spec = {k: v for k, v in {"down_seconds": args.down, "latency_ms": args.latency_ms,
                                       "error_rate": args.error_rate}.items() if v is not None}
            if not spec:
                print("nothing to set: give --down, --latency-ms, --error-rate or --clear", file=sys.stderr)
                return 2
            response = httpx.post(url, json=spec, timeout=10)
    except httpx.HTTPError as exc:
        print(f"cannot reach the {args.target} simulator at {url}: {exc}", file=sys.stderr)
        return 1
    if response.status_code >= 400:
        print(f"{url}: {response.status_code} {response.text}", file=sys.stderr)
        return 1
    _print_json(response.json())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pricing-edge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole system in one process on the embedded store")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help="edge port; simulators and worker on N+1..N+3")
    demo.add_argument("--host", default="127.0.0.1")
    demo.set_defaults(handler=cmd_demo)

    fixtures = sub.add_parser("fixtures", help="print the demo's URLs, buyers and products as JSON")
    fixtures.add_argument("--port", type=int, default=DEFAULT_PORT)
    fixtures.add_argument("--host", default="127.0.0.1")
    fixtures.set_defaults(handler=cmd_fixtures)

    serve = sub.add_parser("serve", help="run an edge process (configuration from PRICING_EDGE_*)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (production: one per core)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run a sync worker (queue consumers, /healthz, /metrics, /ops)")
    worker.add_argument("--port", type=int, default=DEFAULT_PORT + 3)
    worker.add_argument("--host", default="127.0.0.1")
    worker.add_argument("--log-level", default="info")
    worker.set_defaults(handler=cmd_worker)

    from pricing_edge.ops.ops_cli import add_parser as add_ops_parser

    add_ops_parser(sub)
    sub.choices["ops"].set_defaults(handler=cmd_ops)

    bigcommerce = sub.add_parser("bigcommerce", help="BigCommerce store set-up").add_subparsers(dest="bc",
                                                                                                required=True)
    hooks = bigcommerce.add_parser("register-webhooks", help="register the webhooks the worker needs (idempotent)")
    hooks.add_argument("--destination", required=True, help="the edge's public URL + /webhooks/bigcommerce")
    hooks.add_argument("--scope", action="append", help="a scope to register (default: the order scopes)")
    hooks.set_defaults(handler=cmd_register_webhooks)

    warm = sub.add_parser("warm", help="bulk-load price lists and stock from the ERP into the store")
    warm.set_defaults(handler=cmd_warm)

    sim = sub.add_parser("sim", help="run a simulator, or drive its faults").add_subparsers(dest="sim", required=True)
    bc = sim.add_parser("bigcommerce", help="the BigCommerce storefront simulator")
    bc.add_argument("--port", type=int, default=DEFAULT_PORT + 1)
    bc.add_argument("--latency-ms", type=float, default=None, help="normal latency (default 150)")
    erp = sim.add_parser("erp", help="the ERP simulator")
    erp.add_argument("--port", type=int, default=DEFAULT_PORT + 2)
    erp.add_argument("--events-url", default=None, help="where to send signed change events")
    erp.add_argument("--ticker-rate", type=float, default=None, help="random changes per second")
    erp.add_argument("--latency-ms", type=float, default=None)
    for p, handler in ((bc, cmd_sim_bigcommerce), (erp, cmd_sim_erp)):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--log-level", default="info")
        p.set_defaults(handler=handler)
    fault = sim.add_parser("fault", help="inject or clear a fault in a running simulator")
    fault.add_argument("target", choices=["erp", "bigcommerce"])
    fault.add_argument("--down", type=float, default=None, help="seconds of outage")
    fault.add_argument("--latency-ms", type=float, default=None)
    fault.add_argument("--error-rate", type=float, default=None)
    fault.add_argument("--clear", action="store_true")
    fault.add_argument("--url", default=None, help="simulator base URL (default from configuration)")
    fault.set_defaults(handler=cmd_sim_fault)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args, Settings.from_env())


if __name__ == "__main__":
    raise SystemExit(main())
