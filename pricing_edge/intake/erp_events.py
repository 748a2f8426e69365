"""``POST /events/erp``: verify, check, append. Accepted means appended to the intake stream (202);
nothing is applied here — the cache updater does that, once, for every edge process."""
from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.order_events import event_from_data
from pricing_edge.domain.versioning import ahead_problem
from pricing_edge.request_body import BodyTooLarge, read_limited
from pricing_edge.intake.envelope import EnvelopeError, SignatureError, parse, verify
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import ERP_INTAKE

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 256 * 1024
DEDUP_TTL_SECONDS = 7 * 24 * 3600


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class ErpEventIntake:
    def __init__(self, store: Store, secret: str, metrics: EdgeMetrics, dedup_ttl: float = DEDUP_TTL_SECONDS) -> None:
        self.store = store
        self.secret = secret
        self.metrics = metrics
        self.dedup_ttl = dedup_ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An ASGI app, so ``Route("/events/erp", intake)`` mounts the instance as it is (Starlette wraps
        only functions and methods as request handlers; any other callable must speak ASGI)."""
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        received_at = int(time.time() * 1000)
        try:
            body = await read_limited(request, MAX_EVENT_BYTES)
        except BodyTooLarge:
            return _error(413, f"event body exceeds {MAX_EVENT_BYTES} bytes")
        try:
            verify(request.headers, body, self.secret)
        except SignatureError as exc:
            self.metrics.events.labels("unknown", "unauthorized").inc()
            return _error(401, f"signature rejected: {exc}")
        try:
            event = parse(body)
            event_from_data(event["type"], event["data"])  # records and order events alike
            version = event["data"].get("version")
            if isinstance(version, int) and (problem := ahead_problem(version, received_at)):
                raise EventDataError("version", problem)
        except (EnvelopeError, EventDataError) as exc:
            self.metrics.events.labels("unknown", "rejected").inc()
            return _error(400, f"invalid event: {exc}")
        event_type, event_id = event["type"], event["id"]
        try:
            with tracing.appending(ERP_INTAKE, request.headers) as traceparent:
                fields = {"type": event_type.encode(), "body": body, "traceparent": traceparent.encode(),
                          "received_at": str(received_at).encode()}
                entry = await self.store.append_once(ERP_INTAKE, event_id, fields, self.dedup_ttl)
        except StoreError as exc:
            log.error("cannot append ERP event %s: %s", event_id, exc)
            return _error(503, "the event store is unavailable; retry later")
        if entry is None:
            self.metrics.events.labels(event_type, "duplicate").inc()
            return JSONResponse({"id": event_id, "accepted": True, "duplicate": True}, status_code=202)
        self.metrics.events.labels(event_type, "accepted").inc()
        return JSONResponse({"id": event_id, "accepted": True, "duplicate": False}, status_code=202)
