"""The worker's JSON ops API (``/ops/...``): queue figures per flow, dead letters to list, show,
replay and drop, ledger entries, the edges' figures, the audit log and the last reconciliation report.
``pricing-edge ops`` and the dashboard (``/ops/``) are both clients of it: one API.

Every route is for operators only (:mod:`pricing_edge.ops.access`); every replay and drop is written
to the audit log with who did it. A dead letter's id is ``<flow>:<stream entry id>`` so one id names
it across flows.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pricing_edge.domain.orders import order_id_of
from pricing_edge.ops import tracing
from pricing_edge.ops.access import OpsAccess
from pricing_edge.ops.edge_snapshot import EdgeBoard
from pricing_edge.store.base import Store
from pricing_edge.store.ledger import Ledger
from pricing_edge.store.work_queue import WorkQueue
from pricing_edge.worker.errors import FailureClass
from pricing_edge.worker.messages import Message, MessageError
from pricing_edge.worker.metrics import WorkerMetrics

MAX_LIST = 10_000
AUDIT_DEFAULT, AUDIT_MAX = 50, 1000
RECONCILIATION_KEY = "ops:reconciliation:last"  # a reconciliation run stores its report here (JSON)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _text(fields: dict[str, bytes], name: str) -> str:
    return fields.get(name, b"").decode(errors="replace")


class OpsApi:
    def __init__(self, queue: WorkQueue, ledger: Ledger, flows: Sequence[str], metrics: WorkerMetrics, *,
                 access: OpsAccess, store: Store, edges: EdgeBoard | None = None) -> None:
        self.queue = queue
        self.ledger = ledger
        self.flows = list(flows)
        self.metrics = metrics
        self.access = access
        self.store = store
        self.edges = edges or EdgeBoard()

    def routes(self) -> list[Route]:
        guard = self.access.protect
        return [
            *self.access.routes(),
            Route("/ops/status", guard(self.status), methods=["GET"]),
            Route("/ops/dlq", guard(self.dlq_list), methods=["GET"]),
            Route("/ops/dlq/replay-all", guard(self.replay_all), methods=["POST"]),
            Route("/ops/dlq/{dlq_id}", guard(self.dlq_show), methods=["GET"]),
            Route("/ops/dlq/{dlq_id}", guard(self.dlq_drop), methods=["DELETE"]),
            Route("/ops/dlq/{dlq_id}/replay", guard(self.dlq_replay), methods=["POST"]),
            Route("/ops/ledger/{flow}/{key}", guard(self.ledger_entry), methods=["GET"]),
            Route("/ops/edges", guard(self.edges_view), methods=["GET"]),
            Route("/ops/audit", guard(self.audit_log), methods=["GET"]),
            Route("/ops/reconciliation", guard(self.reconciliation), methods=["GET"]),
        ]

    async def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per flow: depth, lag, in-flight, retries waiting, dead letters (and how many need attention),
        entries held (orders on a credit hold), last success. Also refreshes the ``/metrics`` gauges, so both always show the same figures."""
        now = time.time()
        flows: dict[str, dict[str, Any]] = {}
        for flow in self.flows:
            counts = await self.queue.counts(flow)
            letters = await self.queue.dead_letters(flow, MAX_LIST)
            attention = sum(1 for _, fields in letters if _text(fields, "class") == FailureClass.PERMANENT.value)
            lag = max(0.0, now - counts.oldest_enqueued_ms / 1000) if counts.oldest_enqueued_ms else 0.0
            last = counts.last_success_ms / 1000 if counts.last_success_ms else None
            held = len(await self.ledger.with_status(flow, "held"))
            flows[flow] = {"depth": counts.depth, "entities": counts.entities, "lag_seconds": round(lag, 3),
                           "in_flight": counts.in_flight, "retries_waiting": counts.retrying,
                           "dead_letters": counts.dead_letters, "needs_attention": attention, "held": held,
                           "last_success": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last)) if last else None}
            gauges = self.metrics.queue
            gauges["depth"].labels(flow).set(counts.depth)
            gauges["lag_seconds"].labels(flow).set(lag)
            gauges["in_flight"].labels(flow).set(counts.in_flight)
            gauges["retries_waiting"].labels(flow).set(counts.retrying)
            gauges["dead_letters"].labels(flow).set(counts.dead_letters)
            gauges["held"].labels(flow).set(held)
            gauges["last_success_timestamp_seconds"].labels(flow).set(last or 0)
        return flows

    async def status(self, request: Request) -> Response:
        return JSONResponse({"flows": await self.snapshot()})

    def _parse_id(self, dlq_id: str) -> tuple[str, str] | JSONResponse:
        flow, sep, entry_id = dlq_id.partition(":")
        if not sep or flow not in self.flows or not entry_id:
            return _error(404, f"no dead letter {dlq_id!r} (ids look like orders:1764230000000-0)")
        return flow, entry_id

    @staticmethod
    def _describe(flow: str, entry_id: str, fields: dict[str, bytes], *, full: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"id": f"{flow}:{entry_id}", "flow": flow, "entity": _text(fields, "entity"),
                                "class": _text(fields, "class"), "reason": _text(fields, "reason"),
                                "failed_at": int(_text(fields, "failed_at") or 0)}
        try:
            message = Message.decode(fields.get("message", b""))
        except MessageError:
            item["message"] = _text(fields, "message") if full else None
            return item
        item |= {"kind": message.kind, "message_id": message.id, "attempts": message.attempts,
                 "retries": message.retries, "traceparent": message.traceparent}
        if full:
            item["message"] = orjson.loads(message.encode())
        return item

    async def dlq_list(self, request: Request) -> Response:
        """The oldest dead letters first, ``limit`` of them at most (the dashboard asks for a page)."""
        wanted = request.query_params.get("flow")
        if wanted is not None and wanted not in self.flows:
            return _error(400, f"unknown flow {wanted!r}; flows: {', '.join(self.flows)}")
        raw = request.query_params.get("limit", str(MAX_LIST))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST:
            return _error(400, f"limit must be a whole number from 1 to {MAX_LIST}")
        limit = int(raw)
        items: list[dict[str, Any]] = []
        for flow in [wanted] if wanted else self.flows:
            items += [self._describe(flow, eid, fields, full=False)
                      for eid, fields in await self.queue.dead_letters(flow, limit - len(items))]
            if len(items) >= limit:
                break
        return JSONResponse({"items": items})

    async def dlq_show(self, request: Request) -> Response:
        parsed = self._parse_id(request.path_params["dlq_id"])
        if isinstance(parsed, JSONResponse):
            return parsed
        fields = await self.queue.dead_letter_entry(*parsed)
        if fields is None:
            return _error(404, f"no dead letter {request.path_params['dlq_id']!r}")
        return JSONResponse(self._describe(*parsed, fields, full=True))

    async def dlq_drop(self, request: Request) -> Response:
        dlq_id = request.path_params["dlq_id"]
        parsed = self._parse_id(dlq_id)
        if isinstance(parsed, JSONResponse):
            return parsed
        if not await self.queue.drop_dead_letter(*parsed):
            await self.access.record(request, "dlq.drop", dlq_id, "not found")
            return _error(404, f"no dead letter {dlq_id!r}")
        await self.access.record(request, "dlq.drop", dlq_id, "ok")
        return JSONResponse({"dropped": dlq_id})

    async def _replay(self, flow: str, entry_id: str) -> bool:
        """Queue the message again, in a trace of its own (the replay's) linked to the one it failed in."""
        fields = await self.queue.dead_letter_entry(flow, entry_id)
        if fields is None:
            return False
        message = Message.decode(fields["message"]).fresh()
        with tracing.span(f"{flow} replay", kind=tracing.PRODUCER, links=tracing.link_to(message.traceparent),
                          attributes={"pricing_edge.dead_letter": f"{flow}:{entry_id}"}) as traceparent:
            message = replace(message, traceparent=traceparent)
            return await self.queue.replay_dead_letter(flow, entry_id, message.entity, message.encode())

    async def dlq_replay(self, request: Request) -> Response:
        dlq_id = request.path_params["dlq_id"]
        parsed = self._parse_id(dlq_id)
        if isinstance(parsed, JSONResponse):
            return parsed
        try:
            replayed = await self._replay(*parsed)
        except MessageError as exc:
            await self.access.record(request, "dlq.replay", dlq_id, "unreadable", str(exc))
            return _error(409, f"cannot replay {dlq_id}: {exc}; drop it instead")
        await self.access.record(request, "dlq.replay", dlq_id, "ok" if replayed else "not found")
        if not replayed:
            return _error(404, f"no dead letter {dlq_id!r}")
        return JSONResponse({"replayed": [dlq_id]})

    async def replay_all(self, request: Request) -> Response:
        wanted = request.query_params.get("flow")
        if wanted is not None and wanted not in self.flows:
            return _error(400, f"unknown flow {wanted!r}; flows: {', '.join(self.flows)}")
        replayed: list[str] = []
        skipped: list[str] = []
        for flow in [wanted] if wanted else self.flows:
            for entry_id, _ in await self.queue.dead_letters(flow, MAX_LIST):
                try:
                    ok = await self._replay(flow, entry_id)
                except MessageError:
                    ok = False
                (replayed if ok else skipped).append(f"{flow}:{entry_id}")
        await self.access.record(request, "dlq.replay-all", wanted or "all flows", "ok",
                                 f"replayed {len(replayed)}: {' '.join(replayed)}"
                                 + (f"; skipped {' '.join(skipped)}" if skipped else ""))
        return JSONResponse({"replayed": replayed, "skipped": skipped})

    async def ledger_entry(self, request: Request) -> Response:
        """One record pair's entry, found by BigCommerce id, by our reference (BC-<hash>-<id>) or by ERP number."""
        flow, key = request.path_params["flow"], request.path_params["key"].strip()
        bc_id = key if key.isdigit() else None
        if bc_id is None and (order_id := order_id_of(key)) is not None:
            bc_id = str(order_id)
        entry = await self.ledger.get(flow, bc_id) if bc_id else None
        if entry is None and not key.isdigit() and (linked := await self.ledger.bc_id_for(flow, key)):
            entry = await self.ledger.get(flow, linked)
        if entry is None:
            return _error(404, f"no ledger entry for {flow} {key} (an id, a reference BC-<hash>-<id> or an ERP number)")
        return JSONResponse(entry.as_json())

    async def edges_view(self, request: Request) -> Response:
        return JSONResponse({"edges": self.edges.edges()})

    async def audit_log(self, request: Request) -> Response:
        raw = request.query_params.get("limit", str(AUDIT_DEFAULT))
        if not raw.isdigit() or not 1 <= int(raw) <= AUDIT_MAX:
            return _error(400, f"limit must be a whole number from 1 to {AUDIT_MAX}")
        entries = await self.access.audit.latest(int(raw))
        return JSONResponse({"entries": [e.__dict__ for e in entries]})

    async def reconciliation(self, request: Request) -> Response:
        raw = await self.store.get_value(RECONCILIATION_KEY)
        return JSONResponse({"report": orjson.loads(raw) if raw else None})
