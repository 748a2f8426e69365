"""``POST /webhooks/bigcommerce``: verify, check, append. Accepted means appended to the intake stream (200);
nothing is processed here — the worker's flows read the stream.

Authentication is whatever is configured, and every configured check must pass:

* ``client_secret`` — the Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``) keyed with the app's client secret (the library's key is base64 of it);
* ``webhook_header`` — the custom header set at registration (``"Name: value"``; ``"Name: new,old"`` while
  it is rotated: any value listed passes, the first is the one registered), compared in constant time.

With neither configured the route refuses everything with 503: an unauthenticated webhook is never
accepted. The signature covers the raw bytes, so it is checked before the body is parsed.

Deliveries are deduplicated by ``webhook-id`` (the same across BigCommerce's retries), never by
``hash``, which is a hash of ``data`` and the same for every ``store/order/updated`` of one order. A
delivery without ``webhook-id`` (BigCommerce sending only the custom header) is accepted when the custom
header verifies and no signature is configured; it is deduplicated by a key of its scope, data and
``created_at`` (:func:`derived_id`: the same on every retry of one event, different for two updates of
one order at different seconds). Refusing it instead would make every delivery fail, and BigCommerce
deactivates a hook that keeps failing.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jsonschema
import orjson
from jsonschema.exceptions import best_match
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from pricing_edge.config import listed
from pricing_edge.domain.event_schema import Validator as StrictValidator
from pricing_edge.intake.envelope import SECRET_PREFIX, SignatureError, verify
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.request_body import BodyTooLarge, read_limited
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 256 * 1024  # BigCommerce sends ids, not records: a few hundred bytes in practice
DEDUP_TTL_SECONDS = 7 * 24 * 3600.0  # BigCommerce retries for about two days
SCHEMA_PATH = resources.files("pricing_edge") / "schemas" / "webhooks" / "bigcommerce.json"  # package data
WEBHOOK_ID = "webhook-id"
UNKNOWN_SCOPE = "unknown"  # the metric label while the body is unverified or malformed
_WEBHOOK_ID_PATTERN = re.compile(r"[\x21-\x7e]{1,256}")  # visible ASCII: it becomes part of a Redis key
NOT_CONFIGURED = ("the BigCommerce webhook intake is not configured: set PRICING_EDGE_CLIENT_SECRET (Standard "
                  "Webhooks signature) and/or PRICING_EDGE_WEBHOOK_HEADER (the custom header set at registration)")


class WebhookPayloadError(ValueError):
    """A body that is not a BigCommerce webhook payload (→ 400)."""


def signing_secret(client_secret: str) -> str:
    """The Standard Webhooks secret (``whsec_`` form) BigCommerce signs with: base64 of the app's client secret.

    ``Webhook(SECRET_PREFIX + key)`` and ``Webhook(key)`` are the same key; the prefixed form lets
    :func:`pricing_edge.intake.envelope.verify` be reused as it is.
    """
    if not client_secret:
        raise ValueError("the BigCommerce client secret is empty")
    return SECRET_PREFIX + base64.b64encode(client_secret.encode("utf-8")).decode("ascii")


def parse_header_setting(setting: str) -> tuple[str, str]:
    """``"Name: value"`` (the ``webhook_header`` setting) → (lower-case name, value); ValueError if malformed."""
    name, colon, value = setting.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name or not value or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
        raise ValueError("PRICING_EDGE_WEBHOOK_HEADER must be 'Name: value' (the custom header set when the "
                         "webhook was registered)")
    return name.lower(), value


def header_values(setting: str) -> tuple[str, list[str]]:
    """``"Name: new,old"`` → (lower-case name, every value accepted during a rotation; the first is registered)."""
    name, value = parse_header_setting(setting)
    values = listed(value)
    if not values:
        raise ValueError("PRICING_EDGE_WEBHOOK_HEADER must be 'Name: value' (several values comma-separated "
                         "while one is rotated)")
    return name, values


def derived_id(payload: dict[str, Any]) -> str:
    """The dedup key of a delivery without ``webhook-id``: its scope, data and ``created_at`` (what a retry
    repeats), never ``hash`` alone (the same for every update of one order)."""
    canonical = orjson.dumps([payload.get("scope"), payload.get("data"), payload.get("created_at")],
                             option=orjson.OPT_SORT_KEYS)
    return "derived_" + hashlib.sha256(canonical).hexdigest()[:40]


def parse_payload(body: bytes) -> dict[str, Any]:
    """The payload in ``body``, checked against ``pricing_edge/schemas/webhooks/bigcommerce.json``; WebhookPayloadError
    names the first problem (with its JSON path)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError(f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError(f"body is not a JSON object (got {type(payload).__name__})")
    problem = _problem(payload, in_data=False)
    if problem is not None:
        raise WebhookPayloadError(problem)
    return payload


def data_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with a delivery's ``data`` for its scope (the same schema), or None. Such a delivery
    is accepted by the intake — refusing it would only make BigCommerce retry it, then deactivate the
    hook — and dead-lettered by the worker with this reason."""
    return _problem(payload, in_data=True)


def _inside_data(error: jsonschema.ValidationError) -> bool:
    """A problem of what ``data`` holds (not of ``data`` not being an object: that is the envelope's)."""
    path = list(error.absolute_path)
    return bool(path) and path[0] == "data" and (len(path) > 1 or error.validator != "type")


def _problem(payload: dict[str, Any], *, in_data: bool) -> str | None:
    errors = [e for e in _validator().iter_errors(payload) if _inside_data(e) == in_data]
    error = best_match(errors)
    if error is None:
        return None
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    return f"{where.lstrip('.') or 'payload'}: {error.message}"


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    loaded = orjson.loads(SCHEMA_PATH.read_bytes())
    jsonschema.Draft202012Validator.check_schema(loaded)
    return StrictValidator(loaded)  # an id of 1.0 is not an integer here either


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


ASSIGNMENT_SCOPE = "store/priceList/assignment/updated"
# What a listing's products can change with (not stock: `store/product/inventory/...` comes often).
CATALOG_SCOPES = ("store/product/created", "store/product/updated", "store/product/deleted", "store/category/",
                  "store/brand/")


class BigCommerceWebhookIntake:
    """An ASGI app for ``Route("/webhooks/bigcommerce", intake, methods=["POST"])``."""

    def __init__(self, store: Store, metrics: EdgeMetrics, *, client_secret: str | None = None,
                 webhook_header: str | None = None, dedup_ttl: float = DEDUP_TTL_SECONDS) -> None:
        self.store = store
        self.metrics = metrics
        self.dedup_ttl = dedup_ttl
        # Configuration errors fail here, loudly, rather than as a 401 to every delivery.
        # Several client secrets (a rotation): a delivery signed with any of them is accepted.
        self.secret = ",".join(signing_secret(one) for one in listed(client_secret)) or None
        self.header = header_values(webhook_header) if webhook_header else None
        if not self.configured:
            log.warning("%s; every webhook will be refused with 503", NOT_CONFIGURED)
        # Told of every accepted catalog webhook (product, category, brand): the edge's listings refetch.
        self.on_catalog_change: Callable[[], Awaitable[None]] | None = None
        self.on_assignment_change: Callable[[], None] | None = None  # the edge reads the assignments again

    @property
    def configured(self) -> bool:
        return self.secret is not None or self.header is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    def _count(self, scope: str, outcome: str) -> None:
        self.metrics.webhooks.labels(scope, outcome).inc()

    async def handle(self, request: Request) -> Response:
        received_at = int(time.time() * 1000)
        if not self.configured:
            self._count(UNKNOWN_SCOPE, "unavailable")
            return _error(503, NOT_CONFIGURED)
        try:
            body = await read_limited(request, MAX_WEBHOOK_BYTES)
        except BodyTooLarge:
            self._count(UNKNOWN_SCOPE, "rejected")
            return _error(413, f"webhook body exceeds {MAX_WEBHOOK_BYTES} bytes")
        refusal = self._authenticate(request.headers, body)
        if refusal is not None:
            self._count(UNKNOWN_SCOPE, "unauthorized")
            return _error(401, refusal)
        webhook_id = request.headers.get(WEBHOOK_ID)  # absent: only the custom header verified it (above)
        if webhook_id is not None and not _WEBHOOK_ID_PATTERN.fullmatch(webhook_id):
            self._count(UNKNOWN_SCOPE, "rejected")
            return _error(400, "invalid webhook: the webhook-id header must be 1-256 visible ASCII characters "
                               "(the same across retries: it deduplicates deliveries)")
        try:
            payload = parse_payload(body)
        except WebhookPayloadError as exc:
            self._count(UNKNOWN_SCOPE, "rejected")
            return _error(400, f"invalid webhook: {exc}")
        if webhook_id is None:
            webhook_id = derived_id(payload)
        scope: str = payload["scope"]
        try:
            with tracing.appending(BIGCOMMERCE_INTAKE, request.headers) as traceparent:
                fields = {"type": scope.encode(), "body": body, "webhook_id": webhook_id.encode(),
                          "traceparent": traceparent.encode(), "received_at": str(received_at).encode()}
                entry = await self.store.append_once(BIGCOMMERCE_INTAKE, f"bigcommerce:{webhook_id}", fields,
                                                     self.dedup_ttl)
        except StoreError as exc:
            log.error("cannot append BigCommerce webhook %s (%s): %s", webhook_id, scope, exc)
            self._count(scope, "unavailable")
            return _error(503, "the webhook store is unavailable; retry later")
        duplicate = entry is None
        self._count(scope, "duplicate" if duplicate else "accepted")
        if not duplicate and self.on_catalog_change is not None and scope.startswith(CATALOG_SCOPES):
            await self.on_catalog_change()
        if not duplicate and self.on_assignment_change is not None and scope == ASSIGNMENT_SCOPE:
            self.on_assignment_change()
        return JSONResponse({"accepted": True, "duplicate": duplicate, "id": webhook_id})

    def _authenticate(self, headers: Headers, body: bytes) -> str | None:
        """Why the delivery is refused (→ 401), or None when every configured check passes."""
        if self.header is not None:
            name, accepted = self.header
            received = headers.get(name)
            # Header values arrive as latin-1 text: back to their bytes, compared with the setting's UTF-8.
            # Every accepted value is compared (no early exit), so timing does not tell which one matched.
            matches = [received is not None and hmac.compare_digest(received.encode("latin-1"), value.encode("utf-8"))
                       for value in accepted]
            if not any(matches):
                return f"custom header {name} missing or wrong"
        if self.secret is not None:
            try:
                verify(headers, body, self.secret)
            except SignatureError as exc:
                return f"signature rejected: {exc}"
        return None
