"""``pricing-edge ops ...``: a thin client of the worker's ops API, readable by people and (``--json``)
by scripts. It sends ``PRICING_EDGE_OPS_TOKEN`` (or ``--token``) as a bearer token; the audit log names
the token's owner for every replay and drop. Exit codes: 0 done, 1 the worker said no (or is
unreachable), 2 usage."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import httpx
import orjson

STATUS_COLUMNS = ("depth", "lag_seconds", "in_flight", "retries_waiting", "dead_letters", "needs_attention",
                  "held", "last_success")


class OpsError(Exception):
    pass


def call(method: str, url: str, path: str, token: str = "") -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, url.rstrip("/") + path, headers=headers, timeout=15)
    except httpx.HTTPError as exc:
        raise OpsError(f"cannot reach the worker at {url}: {exc}") from exc
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text}
    if response.status_code == 401:
        raise OpsError("401: the worker refused the ops token: set PRICING_EDGE_OPS_TOKEN (or --token) to one of "
                       "the worker's PRICING_EDGE_OPS_TOKENS")
    if response.status_code >= 400:
        raise OpsError(f"{response.status_code}: {body.get('error', body) if isinstance(body, dict) else body}")
    return body


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def format_status(body: dict[str, Any]) -> str:
    rows = [["flow", *STATUS_COLUMNS]]
    for flow, figures in body["flows"].items():
        rows.append([flow, *("-" if figures.get(c) is None else str(figures[c]) for c in STATUS_COLUMNS)])
    return table(rows)


def format_dlq(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no dead letters"
    rows = [["id", "class", "entity", "kind", "failed at", "reason"]]
    for item in items:
        failed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(item["failed_at"] / 1000))
        rows.append([item["id"], item["class"], item["entity"], str(item.get("kind", "?")), failed,
                     item["reason"][:100]])
    return table(rows)


def format_audit(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "nothing in the audit log"
    rows = [["when", "who", "via", "action", "target", "outcome", "from", "trace"]]
    for entry in entries:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry["at_ms"] / 1000))
        rows.append([when, entry["operator"], entry["via"], entry["action"], entry["target"], entry["outcome"],
                     entry["address"], entry["trace_id"]])
    return table(rows)


def run(args: argparse.Namespace, default_url: str, default_token: str = "") -> int:
    url = args.url or default_url
    token = args.token or default_token

    def ask(method: str, path: str) -> Any:
        return call(method, url, path, token)

    try:
        if args.ops == "status":
            body = ask("GET", "/ops/status")
            text = format_status(body)
        elif args.ops == "ledger":
            body = ask("GET", f"/ops/ledger/{args.flow}/{args.key}")
            text = "\n".join(f"{k}: {v}" for k, v in body.items())
        elif args.ops == "audit":
            body = ask("GET", f"/ops/audit?limit={args.limit}")
            text = format_audit(body["entries"])
        elif args.dlq == "list":
            body = ask("GET", "/ops/dlq" + (f"?flow={args.flow}" if args.flow else ""))
            text = format_dlq(body["items"])
        elif args.dlq == "show":
            body = ask("GET", f"/ops/dlq/{args.id}")
            text = orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()
        elif args.dlq == "replay":
            if bool(args.all) == bool(args.id):
                print("give a dead letter's ID or --all", file=sys.stderr)
                return 2
            body = ask("POST", "/ops/dlq/replay-all" if args.all else f"/ops/dlq/{args.id}/replay")
            text = f"replayed {len(body['replayed'])}: {' '.join(body['replayed'])}".rstrip(": ")
            if body.get("skipped"):
                text += f"\nskipped (unreadable, drop them): {' '.join(body['skipped'])}"
        else:
            body = ask("DELETE", f"/ops/dlq/{args.id}")
            text = f"dropped {body['dropped']}"
    except OpsError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() if args.json else text)
    return 0


def add_parser(sub: Any) -> None:
    summary = "queue status, dead letters and ledger, through a worker's ops API"
    ops = sub.add_parser("ops", help=summary, description=summary)
    commands = ops.add_subparsers(dest="ops", required=True, metavar="COMMAND")

    def command(parent: Any, name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=text, description=text)
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--url", default=None, help="the worker's URL (default PRICING_EDGE_WORKER_URL)")
        where.add_argument("--port", type=int, default=None,
                           help="the demo's --port N: the demo's worker, on N+3")
        parser.add_argument("--json", action="store_true", help="print the API's JSON")
        parser.add_argument("--token", default=None, help="the ops token (default PRICING_EDGE_OPS_TOKEN)")
        return parser

    command(commands, "status", "per flow: depth, lag, in flight, retries, dead letters, last sync")
    ledger = command(commands, "ledger", "one record pair's ledger entry, each attempt's trace id")
    ledger.add_argument("flow", help="the flow, e.g. orders")
    ledger.add_argument("key", help="the BigCommerce id, our reference (BC-<hash>-<id>) or the ERP number")
    audit = command(commands, "audit", "who replayed, dropped or approved what, newest first")
    audit.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    text = "dead letters: list, show, replay, drop"
    dlq = commands.add_parser("dlq", help=text, description=text)
    actions = dlq.add_subparsers(dest="dlq", required=True, metavar="ACTION")
    command(actions, "list", "dead letters, newest last").add_argument(
        "--flow", default=None, help="only this flow's")
    command(actions, "show", "one dead letter: message, reason, attempts").add_argument(
        "id", help="the dead letter's id")
    replay = command(actions, "replay", "queue a dead letter (or --all) again, once its cause is fixed")
    replay.add_argument("id", nargs="?", help="the dead letter's id")
    replay.add_argument("--all", action="store_true", help="every dead letter")
    command(actions, "drop", "delete a dead letter for good").add_argument("id", help="the dead letter's id")
