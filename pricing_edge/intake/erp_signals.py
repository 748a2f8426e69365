"""``POST /events/erp/signals``: an ERP's own events (S/4 business events, ...), for its change source.

They are thin — ``{"SalesOrder": "4711"}`` — and in the vendor's types, so nothing is applied here:
accepted means appended to ``intake:erp-signals`` (202), and the worker's signal flow re-reads the
object they name through the ERP's API and emits our events. A sender proves itself with a Standard
Webhooks signature (the ERP event secret) or, for push services that cannot sign (SAP Event Mesh
webhooks), Basic credentials set in ``PRICING_EDGE_ERP_SIGNAL_AUTH``. The event ``id`` deduplicates.
"""
from __future__ import annotations

import base64
import hmac
import logging
import time

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from pricing_edge.intake.envelope import SignatureError, verify
from pricing_edge.intake.erp_events import DEDUP_TTL_SECONDS
from pricing_edge.intake.erp_events import _error as _error
from pricing_edge.ops import tracing
from pricing_edge.request_body import BodyTooLarge, read_limited
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import ERP_SIGNALS

log = logging.getLogger(__name__)
MAX_SIGNAL_BYTES = 64 * 1024


class ErpSignalIntake:
    def __init__(self, store: Store, *, secret: str, prefix: str | None, basic: str | None = None) -> None:
        self.store = store
        self.secret = secret
        self.prefix = prefix  # the configured connector's vendor event types; None: it takes none
        self.basic = basic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    def _authorized(self, request: Request, body: bytes) -> str | None:
        """None when the sender proved itself; else why not."""
        if "webhook-signature" in request.headers:
            try:
                verify(request.headers, body, self.secret)
            except SignatureError as exc:
                return f"signature rejected: {exc}"
            return None
        header = request.headers.get("authorization", "")
        if self.basic and header.lower().startswith("basic "):
            expected = base64.b64encode(self.basic.encode()).decode()
            if hmac.compare_digest(header[6:].strip(), expected):
                return None
            return "wrong credentials"
        return "sign the event (Standard Webhooks) or send the configured Basic credentials"

    async def handle(self, request: Request) -> Response:
        if self.prefix is None:
            return _error(404, "the configured ERP connector takes no vendor events (PRICING_EDGE_ERP)")
        try:
            body = await read_limited(request, MAX_SIGNAL_BYTES)
        except BodyTooLarge:
            return _error(413, f"event body exceeds {MAX_SIGNAL_BYTES} bytes")
        refusal = self._authorized(request, body)
        if refusal:
            return _error(401, refusal)
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "invalid event: body is not JSON")
        problem = _problem(event, self.prefix)
        if problem:
            return _error(400, f"invalid event: {problem}")
        incoming = request.headers.get(tracing.TRACEPARENT)
        traceparent = incoming if incoming and tracing.is_valid(incoming) else tracing.new_traceparent()
        fields = {"type": event["type"].encode(), "body": body, "traceparent": traceparent.encode(),
                  "received_at": str(int(time.time() * 1000)).encode()}
        try:
            entry = await self.store.append_once(ERP_SIGNALS, event["id"], fields, DEDUP_TTL_SECONDS)
        except StoreError as exc:
            log.error("cannot append ERP signal %s: %s", event["id"], exc)
            return _error(503, "the event store is unavailable; retry later")
        return JSONResponse({"id": event["id"], "accepted": True, "duplicate": entry is None}, status_code=202)


def _problem(event: object, prefix: str) -> str | None:
    if not isinstance(event, dict):
        return "must be a CloudEvents JSON object"
    if event.get("specversion") != "1.0":
        return "specversion must be 1.0"
    for name in ("id", "source", "type"):
        if not isinstance(event.get(name), str) or not event[name]:
            return f"{name} must be a non-empty string"
    if not event["type"].startswith(prefix):
        return f"type {event['type']!r} is not an event of the configured ERP ({prefix}*)"
    data = event.get("data")
    if not isinstance(data, dict) or not data or not all(isinstance(v, str) and v for v in data.values()):
        return "data must name the changed object (e.g. {\"SalesOrder\": \"4711\"})"
    return None
