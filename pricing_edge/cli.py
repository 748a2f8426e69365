"""``pricing-edge``: the command line. Each subcommand is a thin wrapper over a module's entry point.

Every command first checks the whole configuration (``PRICING_EDGE_*``): a bad value stops it with one
line per problem, before anything starts. A port already in use is one line too, saying what to do.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

import httpx
import orjson

from pricing_edge.config import Settings, SettingsError, unknown_variables
from pricing_edge.runtime import PortInUse, check_ports, port_is_free
from pricing_edge.sim.fixtures import DEFAULT_PORT, DemoLayout

Handler = Callable[[argparse.Namespace, Settings], int]
DEMO_PORT_HELP = "the demo's --port N (edge on N, BigCommerce simulator N+1, ERP simulator N+2, worker N+3)"


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from pricing_edge.demo import run_demo
    from pricing_edge.erp.registry import ConnectorNotAvailable, connector

    if args.erp:
        settings = replace(settings, erp=args.erp)
    try:
        connector(settings.erp)
    except ConnectorNotAvailable as exc:
        print(exc, file=sys.stderr)
        return 2
    layout = DemoLayout(args.port, args.host)
    try:
        run_demo(layout, settings)
    except PortInUse as exc:
        other = _free_demo_port(layout)
        print(f"pricing-edge demo: {exc}: stop what uses it, or run the demo on other ports: "
              f"pricing-edge demo --port {other} (make demo PORT={other})", file=sys.stderr)
        return 1
    return 0


def _free_demo_port(layout: DemoLayout) -> int:
    """A base port, near the one asked for, whose four demo ports are all free now."""
    for base in range(layout.port + 10, min(layout.port + 1000, 65530), 10):
        if all(port_is_free(layout.host, base + offset) for offset in range(4)):
            return base
    return layout.port + 10


def _check_port(command: str, name: str, host: str, port: int) -> bool:
    try:
        check_ports([(name, host, port)])
    except PortInUse as exc:
        print(f"pricing-edge {command}: {exc}: stop what uses it, or choose another port with --port",
              file=sys.stderr)
        return False
    return True


def cmd_fixtures(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.demo import pristine_dataset
    from pricing_edge.sim.fixtures import demo_fixtures

    _print_json(demo_fixtures(pristine_dataset(settings.seed, settings.sim_skus), DemoLayout(args.port, args.host),
                              settings))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.runtime import Grace, Served, run

    if not _check_port("serve", "edge", args.host, args.port):
        return 1
    grace = Grace(settings.shutdown_grace)
    if args.workers > 1:  # uvicorn's supervisor; each child bounds its own shutdown (edge.main.supervised_app)
        from pricing_edge.reuse_port import run_workers

        run_workers("pricing_edge.edge.main:supervised_app", host=args.host, port=args.port, workers=args.workers,
                    log_level=args.log_level, access_log=False, timeout_graceful_shutdown=max(1, round(grace.drain)))
        return 0
    from pricing_edge.edge.main import app_from_env

    run([Served("edge", app_from_env(), args.port, args.host)], log_level=args.log_level, grace=grace)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.ops.tracing import configure_logging
    from pricing_edge.runtime import Grace, Served, run
    from pricing_edge.worker.main import app_from_env

    if not _check_port("worker", "worker", args.host, args.port):
        return 1
    configure_logging(args.log_level)
    run([Served("worker", app_from_env(), args.port, args.host)], log_level=args.log_level,
        grace=Grace(settings.shutdown_grace), log_config=None)
    return 0


def cmd_ops(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.ops.ops_cli import run

    return run(args, DemoLayout(args.port).worker_url if args.port else settings.worker_url, settings.ops_token)


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

    from pricing_edge.edge.assignments import store_currencies
    from pricing_edge.edge.main import open_erp
    from pricing_edge.edge.warm import warm
    from pricing_edge.store import open_store
    from pricing_edge.worker.main import open_admin

    if not settings.redis_url:
        print("pricing-edge warm needs PRICING_EDGE_REDIS_URL: it loads the store the edge processes share, and "
              "the embedded store would vanish when this command exits (the demo's edge reads through by itself)",
              file=sys.stderr)
        return 1

    async def run() -> int:
        store, erp = open_store(settings), open_erp(settings)
        admin = open_admin(settings, store)
        try:
            currencies = await store_currencies(store, admin, settings.currencies)  # BigCommerce's, else configured
            report = await warm(store, erp, settings.assignments, currencies)
        finally:
            await admin.aclose()
            await erp.aclose()
            await store.aclose()
        _print_json(report.__dict__)
        return 0

    return asyncio.run(run())


def cmd_sim_bigcommerce(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.demo import bigcommerce_sim_app
    from pricing_edge.runtime import Grace, Served, run

    if not _check_port("sim bigcommerce", "BigCommerce simulator", args.host, args.port):
        return 1
    app = bigcommerce_sim_app(settings, latency_ms=args.latency_ms)
    print(f"BigCommerce simulator: http://{args.host}:{args.port}/graphql (seed {settings.seed})", flush=True)
    run([Served("bigcommerce-sim", app, args.port, args.host)], log_level=args.log_level,
        grace=Grace(settings.shutdown_grace))
    return 0


def cmd_sim_erp(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from pricing_edge.demo import erp_sim_app
    from pricing_edge.runtime import Grace, Served, run

    if args.face:
        settings = replace(settings, erp=args.face)
    if not _check_port("sim erp", "ERP simulator", args.host, args.port):
        return 1
    app = erp_sim_app(settings, events_url=args.events_url, ticker_rate=args.ticker_rate, latency_ms=args.latency_ms)
    print(f"ERP simulator: http://{args.host}:{args.port} (seed {settings.seed}); events to "
          f"{args.events_url or settings.events_url or 'nowhere (no events URL)'}", flush=True)
    run([Served("erp-sim", app, args.port, args.host)], log_level=args.log_level, grace=Grace(settings.shutdown_grace))
    return 0


def _simulator_url(args: argparse.Namespace, settings: Settings) -> str:
    if args.url:
        return str(args.url)
    if args.port:
        layout = DemoLayout(args.port)
        return layout.erp_url if args.target == "erp" else layout.url(1)
    return settings.erp_url if args.target == "erp" else settings.upstream_url.rsplit("/graphql", 1)[0]


def cmd_sim_fault(args: argparse.Namespace, settings: Settings) -> int:
    url = _simulator_url(args, settings).rstrip("/") + "/_sim/faults"
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


def _command(sub: argparse._SubParsersAction, name: str, summary: str,
             handler: Handler | None = None) -> argparse.ArgumentParser:
    """A subcommand whose one-line ``summary`` shows in its parent's list and heads its own --help."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=summary, description=summary)
    if handler:
        parser.set_defaults(handler=handler)
    return parser


def _listen(parser: argparse.ArgumentParser, port: int, what: str, log_level: bool = True) -> None:
    parser.add_argument("--port", type=int, default=port, help=f"{what} (default {port})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    if log_level:
        parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                            help="log level (default info)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pricing-edge", description="A BigCommerce-compatible GraphQL edge that "
                                     "serves each buyer's ERP prices and stock, the sync worker behind it, and "
                                     "simulators of BigCommerce and an ERP.",
                                     epilog="Configuration: PRICING_EDGE_* environment variables (README).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = _command(sub, "demo", "run the whole system in one process on the embedded store", cmd_demo)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT,
                      help=f"edge port N; BigCommerce simulator N+1, ERP simulator N+2, worker N+3 "
                           f"(default {DEFAULT_PORT})")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    demo.add_argument("--erp", default=None, help="the ERP connector and simulator face: sim (default), s4hana")

    fixtures = _command(sub, "fixtures", "print the demo's URLs, buyers and products as JSON", cmd_fixtures)
    fixtures.add_argument("--port", type=int, default=DEFAULT_PORT, help=DEMO_PORT_HELP + f" (default {DEFAULT_PORT})")
    fixtures.add_argument("--host", default="127.0.0.1", help="the demo's address (default 127.0.0.1)")

    serve = _command(sub, "serve", "run an edge process (needs PRICING_EDGE_REDIS_URL)", cmd_serve)
    _listen(serve, DEFAULT_PORT, "port to serve /graphql, /events/erp and /webhooks/bigcommerce on")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (production: one per core)")

    worker = _command(sub, "worker", "run a sync worker: queue consumers, /healthz, /metrics, /ops "
                                     "(needs PRICING_EDGE_REDIS_URL)", cmd_worker)
    _listen(worker, DEFAULT_PORT + 3, "port of the ops API; keep it private")

    from pricing_edge.erp.cli import add_parser as add_erp_parser
    from pricing_edge.ops.ops_cli import add_parser as add_ops_parser

    add_ops_parser(sub)
    sub.choices["ops"].set_defaults(handler=cmd_ops)
    add_erp_parser(sub)

    bigcommerce = _command(sub, "bigcommerce", "BigCommerce store set-up").add_subparsers(
        dest="bc", required=True, metavar="COMMAND")
    hooks = _command(bigcommerce, "register-webhooks", "register the webhooks the worker and the edge need (idempotent)",
                     cmd_register_webhooks)
    hooks.add_argument("--destination", required=True, help="the edge's public URL + /webhooks/bigcommerce")
    hooks.add_argument("--scope", action="append",
                       help="a scope to register, repeatable (default: the order and catalog scopes)")

    from pricing_edge.worker.sync_cli import add_parser as add_sync_parser

    add_sync_parser(sub)
    _command(sub, "warm", "bulk-load every assigned price list and all stock from the ERP into Redis "
                          "(needs PRICING_EDGE_REDIS_URL)", cmd_warm)

    sim = _command(sub, "sim", "run a simulator, or drive its faults").add_subparsers(
        dest="sim", required=True, metavar="COMMAND")
    bc = _command(sim, "bigcommerce", "the BigCommerce simulator: storefront GraphQL and REST Admin",
                  cmd_sim_bigcommerce)
    _listen(bc, DEFAULT_PORT + 1, "port to listen on")
    bc.add_argument("--latency-ms", type=float, default=None,
                    help="normal latency (default PRICING_EDGE_BC_LATENCY_MS, 150)")
    erp = _command(sim, "erp", "the ERP simulator: live reads, changes that emit signed events, sales orders",
                   cmd_sim_erp)
    _listen(erp, DEFAULT_PORT + 2, "port to listen on")
    erp.add_argument("--events-url", default=None,
                     help="where to send signed change events (default PRICING_EDGE_EVENTS_URL)")
    erp.add_argument("--ticker-rate", type=float, default=None,
                     help="random changes per second (default PRICING_EDGE_ERP_TICKER_RATE, 0)")
    erp.add_argument("--latency-ms", type=float, default=None,
                     help="normal latency (default PRICING_EDGE_ERP_LATENCY_MS, 20)")
    erp.add_argument("--face", default=None, help="the API it speaks: sim (default: PRICING_EDGE_ERP) or s4hana")
    fault = _command(sim, "fault", "inject or clear a fault in a running simulator", cmd_sim_fault)
    fault.add_argument("target", choices=["erp", "bigcommerce"], help="which simulator")
    fault.add_argument("--down", type=float, default=None, help="seconds of outage (every call answers 503)")
    fault.add_argument("--latency-ms", type=float, default=None, help="added latency of every call")
    fault.add_argument("--error-rate", type=float, default=None, help="share of calls answering 500, 0..1")
    fault.add_argument("--clear", action="store_true", help="clear every fault")
    where = fault.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, default=None, help=DEMO_PORT_HELP)
    where.add_argument("--url", default=None, help="the simulator's base URL (default: PRICING_EDGE_ERP_URL, "
                                                   "or PRICING_EDGE_UPSTREAM_URL without /graphql)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for line in unknown_variables(os.environ):
        print(f"pricing-edge: warning: {line}; it is ignored", file=sys.stderr)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"pricing-edge {args.command}: cannot start, the configuration has "
              f"{len(exc.problems)} problem{'s' if len(exc.problems) > 1 else ''}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    handler: Handler = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
