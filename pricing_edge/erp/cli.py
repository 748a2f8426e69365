"""``pricing-edge erp check | watch | demo-mapping``: the ERP connector from an operator's terminal."""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import orjson

from pricing_edge.config import Settings


def add_parser(sub: Any) -> None:
    def command(parent: Any, name: str, summary: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=summary, description=summary)
        return parser

    erp = command(sub, "erp", "the ERP connector (PRICING_EDGE_ERP): check it, watch its changes")
    commands = erp.add_subparsers(dest="erp_command", required=True, metavar="COMMAND")
    check = command(commands, "check", "against the real ERP: logon, each entity readable, every mapping "
                                       "resolves, companies with customer-specific prices")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=cmd_check)
    watch = command(commands, "watch", "run the change source here (under the same lease as the workers) "
                                       "and print what it emits and its lag")
    watch.add_argument("--once", action="store_true", help="one poll, then exit")
    watch.set_defaults(handler=cmd_watch)
    mapping = command(commands, "demo-mapping", "print the mapping document of the demo's simulated ERP")
    mapping.set_defaults(handler=cmd_demo_mapping)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.erp.check import run_check

    report = asyncio.run(run_check(settings))
    if args.json:
        sys.stdout.write(orjson.dumps({"connector": report.connector, "passed": report.passed, "steps": report.steps,
                                       "customer_specific_companies": report.companies},
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(f"pricing-edge erp check — {report.connector} at {settings.erp_url}")
        for line in report.lines():
            print(f"  {line}")
        print("ready" if report.passed else "NOT ready: fix what failed above")
    return 0 if report.passed else 1


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.erp.change_source import ChangeMetrics, PollReport, run_under_lease
    from pricing_edge.erp.registry import ConnectorNotAvailable, connector, open_erp
    from pricing_edge.store import open_store
    from pricing_edge.worker.change_sources import ChangeSourceSettingsError, open_change_source

    try:
        if connector(settings.erp).open_change_source is None:
            print(f"PRICING_EDGE_ERP={settings.erp}: this ERP pushes its events itself; there is no change source "
                  "to watch")
            return 0
    except ConnectorNotAvailable as exc:
        print(exc, file=sys.stderr)
        return 2

    async def run() -> int:
        store = open_store(settings)
        erp = open_erp(settings)
        try:
            running = open_change_source(settings, store, erp)
        except ChangeSourceSettingsError as exc:
            print(exc, file=sys.stderr)
            await erp.aclose()
            return 2
        assert running is not None
        metrics = ChangeMetrics()
        stop = asyncio.Event()
        shown = 0

        def show(report: PollReport) -> None:
            nonlocal shown
            for event in running.emitter.sent[shown:] if shown <= len(running.emitter.sent) else running.emitter.sent:
                print(f"  {event['time']}  {event['type']:<36} {event.get('subject', '')}")
            shown = len(running.emitter.sent)
            lag = {s: round(max(0.0, time.time() - t), 1) for s, t in report.complete_to.items()}
            print(f"poll: emitted {report.emitted or 'nothing'}; lag seconds {lag}", flush=True)
            if args.once:
                stop.set()

        try:
            await run_under_lease(running.source, store.work_queue().hold_lease, interval=running.interval,
                                  lease_ms=running.lease_ms, metrics=metrics, on_report=show, stop=stop)
        finally:
            await running.emitter.aclose()
            await erp.aclose()
            await store.aclose()
        return 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return 0


def cmd_demo_mapping(args: argparse.Namespace, settings: Settings) -> int:
    from pricing_edge.sim.erp.demo_connector import demo_mapping

    sys.stdout.write(orjson.dumps(demo_mapping(settings.erp, settings.seed), option=orjson.OPT_INDENT_2).decode()
                     + "\n")
    return 0
