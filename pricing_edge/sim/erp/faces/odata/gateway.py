"""The gateway in front of a face's OData services, as SAP Gateway behaves: logon (Basic, or a bearer
token from the face's OAuth client-credentials endpoint), the ``sap-client``, CSRF tokens bound to a
session cookie (fetch with ``X-CSRF-Token: Fetch``; a change without a valid one is a 403 with
``x-csrf-token: Required``), ``$batch`` with atomic changesets, and 429s with ``Retry-After`` when
the face is told to throttle. ``/_sim/...`` controls expire sessions and tokens and set throttling.
"""
from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.sim.erp.faces.odata.server import ODataError, ODataService, Reply, split_target

ODATA_ROOT = "/sap/opu/odata/sap"
SESSION_COOKIE = "SAP_SESSIONID"
STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
               409: "Conflict", 412: "Precondition Failed", 428: "Precondition Required",
               429: "Too Many Requests", 500: "Internal Server Error"}
MODIFYING = frozenset({"POST", "PUT", "PATCH", "MERGE", "DELETE"})


class Transactions(Protocol):
    """How a face makes a ``$batch`` changeset all-or-nothing."""

    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class NoTransactions:
    def begin(self) -> None:
        return None

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


@dataclass
class Logon:
    """Who may call, and on which client: demo-only values in the demo."""

    user: str
    password: str
    client: str
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    token_ttl: float = 3600.0
    system: str = "S4H"


@dataclass
class GatewayState:
    sessions: dict[str, str] = field(default_factory=dict)  # session id → CSRF token
    tokens: dict[str, float] = field(default_factory=dict)  # bearer token → expiry (monotonic)
    throttle_left: int = 0
    retry_after: int = 1
    requests: int = 0
    csrf_refusals: int = 0
    logon_refusals: int = 0
    throttled: int = 0

    def expire(self) -> None:
        self.sessions.clear()
        self.tokens.clear()


class Gateway:
    def __init__(self, services: Mapping[str, ODataService], logon: Logon,
                 transactions: Transactions | None = None, reply_delay: Callable[[], float] | None = None) -> None:
        self.services = dict(services)
        self.logon = logon
        self.transactions = transactions or NoTransactions()
        # seconds a change waits *after* committing before it answers (a caller can die not knowing)
        self.reply_delay = reply_delay or (lambda: 0.0)
        self.state = GatewayState()
        self.cookie = f"{SESSION_COOKIE}_{logon.system}{logon.client}"

    # --- routes ------------------------------------------------------------------------------

    def routes(self, sim_prefix: str) -> list[Route]:
        return [
            Route("/oauth/token", self.token, methods=["POST"]),
            Route(f"{ODATA_ROOT}/{{service}}", self.handle, methods=["GET", "POST"]),
            Route(f"{ODATA_ROOT}/{{service}}/{{path:path}}", self.handle,
                  methods=["GET", "POST", "PUT", "PATCH", "MERGE", "DELETE"]),
            Route(f"{sim_prefix}/sessions/expire", self.expire_sessions, methods=["POST"]),
            Route(f"{sim_prefix}/throttle", self.set_throttle, methods=["POST"]),
            Route(f"{sim_prefix}/gateway", self.describe, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        """OAuth 2.0 client credentials (RFC 6749 §4.4): client id and secret by Basic or in the form."""
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        client_id, client_secret = _basic(request.headers.get("authorization")) or (
            form.get("client_id", ""), form.get("client_secret", ""))
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if not self.logon.oauth_client_id or (client_id, client_secret) != (
                self.logon.oauth_client_id, self.logon.oauth_client_secret):
            return _json({"error": "invalid_client", "error_description": "Bad credentials"}, 401)
        token = secrets.token_urlsafe(24)
        self.state.tokens[token] = time.monotonic() + self.logon.token_ttl
        return _json({"access_token": token, "token_type": "bearer", "expires_in": int(self.logon.token_ttl),
                      "scope": "API_BUSINESS_PARTNER API_SALES_ORDER_SRV"})

    async def handle(self, request: Request) -> Response:
        name = request.path_params["service"].split(";", 1)[0]
        service = self.services.get(name)
        if service is None:
            return _error(ODataError(404, f"no service found for namespace '', name '{name}', version '0001'",
                                     "/IWFND/MED/170"))
        self.state.requests += 1
        if self.state.throttle_left > 0:
            self.state.throttle_left -= 1
            self.state.throttled += 1
            return _error(ODataError(429, "rate limit exceeded: too many requests", "/IWFND/CM_CONSUMER/429",
                                     {"retry-after": str(self.state.retry_after)}))
        refusal = self._logon(request)
        if refusal is not None:
            return refusal
        session = request.cookies.get(self.cookie)
        set_cookie: str | None = None
        extra: dict[str, str] = {}
        if request.headers.get("x-csrf-token", "").lower() == "fetch":
            if session is None or session not in self.state.sessions:
                session = uuid.uuid4().hex
                set_cookie = session
                self.state.sessions[session] = secrets.token_urlsafe(18)
            extra["x-csrf-token"] = self.state.sessions[session]
        elif request.method in MODIFYING:
            token = request.headers.get("x-csrf-token")
            if session is None or token is None or self.state.sessions.get(session) != token:
                self.state.csrf_refusals += 1
                return Response(b"CSRF token validation failed", 403,
                                {"x-csrf-token": "Required", "content-type": "text/plain"})
        path = request.path_params.get("path", "")
        base_url = str(request.base_url).rstrip("/")
        params = {k: v for k, v in request.query_params.items() if k != "sap-client"}
        body = await request.body()
        if path == "$batch":
            reply = self._batch(service, request.headers.get("content-type", ""), body, base_url)
        else:
            reply = self._single(service, request.method, path, params, dict(request.headers), body, base_url)
        if request.method in MODIFYING and reply.status < 400 and self.reply_delay() > 0:
            await asyncio.sleep(self.reply_delay())
        response = Response(reply.body, reply.status, {**reply.headers, **extra})
        if set_cookie:
            response.set_cookie(self.cookie, set_cookie, httponly=True, path="/")
        return response

    def _single(self, service: ODataService, method: str, path: str, params: Mapping[str, str],
                headers: Mapping[str, str], body: bytes, base_url: str) -> Reply:
        if method not in MODIFYING:
            return service.dispatch(method, path, params, headers, body, base_url)
        self.transactions.begin()
        reply = service.dispatch(method, path, params, headers, body, base_url)
        try:
            if reply.status < 400:
                self.transactions.commit()
            else:
                self.transactions.rollback()
        except ODataError as exc:
            self.transactions.rollback()
            return Reply.error(exc)
        return reply

    def _logon(self, request: Request) -> Response | None:
        client = request.query_params.get("sap-client")
        if client is not None and client != self.logon.client:
            self.state.logon_refusals += 1
            return _unauthorized(self.logon, f"client {client} is not available in this system")
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            expiry = self.state.tokens.get(authorization[7:].strip())
            if expiry is not None and expiry > time.monotonic():
                return None
            self.state.logon_refusals += 1
            return _unauthorized(self.logon, "the access token is invalid or expired")
        if _basic(authorization) == (self.logon.user, self.logon.password):
            return None
        self.state.logon_refusals += 1
        return _unauthorized(self.logon, "logon failed: user or password wrong")

    # --- $batch --------------------------------------------------------------------------------

    def _batch(self, service: ODataService, content_type: str, body: bytes, base_url: str) -> Reply:
        try:
            parts = _multipart(content_type, body)
        except ValueError as exc:
            return Reply.error(ODataError(400, f"invalid $batch request: {exc}", "/IWBEP/CM_MGW_RT/009"))
        boundary = f"batch_{uuid.uuid4()}"
        out: list[bytes] = []
        for part_type, payload in parts:
            if part_type.startswith("multipart/mixed"):
                out.append(self._changeset(service, part_type, payload, base_url))
                continue
            method, target, headers, inner = _http_request(payload)
            if method != "GET":
                reply = Reply.error(ODataError(400, "a change inside $batch must be in a changeset",
                                               "/IWBEP/CM_MGW_RT/009"))
            else:
                path, params = split_target(target)
                params.pop("sap-client", None)
                reply = service.dispatch(method, path, params, headers, inner, base_url)
            out.append(_http_part(reply))
        return Reply(202, _compose(boundary, out), {"content-type": f"multipart/mixed; boundary={boundary}"})

    def _changeset(self, service: ODataService, content_type: str, payload: bytes, base_url: str) -> bytes:
        boundary = f"changeset_{uuid.uuid4()}"
        try:
            operations = _multipart(content_type, payload)
        except ValueError as exc:
            return _http_part(Reply.error(ODataError(400, f"invalid changeset: {exc}", "/IWBEP/CM_MGW_RT/009")))
        replies: list[Reply] = []
        self.transactions.begin()
        failed: Reply | None = None
        for _, operation in operations:
            method, target, headers, inner = _http_request(operation)
            path, params = split_target(target)
            params.pop("sap-client", None)
            reply = service.dispatch(method, path, params, headers, inner, base_url)
            if reply.status >= 400:
                failed = reply
                break
            replies.append(reply)
        if failed is None:
            try:
                self.transactions.commit()
            except ODataError as exc:
                failed = Reply.error(exc)
        if failed is not None:
            self.transactions.rollback()
            return _http_part(failed)  # a failed changeset answers with its one error, nothing applied
        body = _compose(boundary, [_http_part(reply) for reply in replies])
        return b"Content-Type: multipart/mixed; boundary=" + boundary.encode() + b"\r\n\r\n" + body

    # --- controls ------------------------------------------------------------------------------

    async def expire_sessions(self, request: Request) -> Response:
        """Every session, CSRF token and bearer token is forgotten (a restart, a timeout)."""
        self.state.expire()
        return _json({"expired": True})

    async def set_throttle(self, request: Request) -> Response:
        body = _object(await request.body())
        count, retry_after = body.get("requests"), body.get("retry_after", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0 \
                or not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0:
            return _json({"error": "body must be {\"requests\": n >= 0, \"retry_after\": seconds >= 0}"}, 400)
        self.state.throttle_left, self.state.retry_after = count, retry_after
        return await self.describe(request)

    async def describe(self, request: Request) -> Response:
        s = self.state
        return _json({"requests": s.requests, "throttle_left": s.throttle_left, "throttled": s.throttled,
                      "csrf_refusals": s.csrf_refusals, "logon_refusals": s.logon_refusals,
                      "sessions": len(s.sessions), "tokens": len(s.tokens)})


# --- helpers -------------------------------------------------------------------------------------

def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status, media_type="application/json")


def _error(exc: ODataError) -> Response:
    reply = Reply.error(exc)
    return Response(reply.body, reply.status, reply.headers)


def _unauthorized(logon: Logon, message: str) -> Response:
    return Response(message.encode(), 401, {
        "www-authenticate": f'Basic realm="SAP NetWeaver Application Server [{logon.system}/{logon.client}]"',
        "content-type": "text/plain"})


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The parts of a multipart/mixed body: (their Content-Type, their payload)."""
    if not content_type.lower().startswith("multipart/mixed") or "boundary=" not in content_type:
        raise ValueError("Content-Type must be multipart/mixed with a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("the body has no parts")
    parts = []
    for part in message.iter_parts():
        kind = part.get("content-type", "")
        if kind.lower().startswith("multipart/mixed"):
            parts.append((str(kind), part.as_bytes(policy=email.policy.HTTP).split(b"\r\n\r\n", 1)[1]))
        else:
            payload = part.get_payload(decode=True)
            parts.append((str(kind), payload if isinstance(payload, bytes) else b""))
    return parts


def _http_request(payload: bytes) -> tuple[str, str, dict[str, str], bytes]:
    head, _, body = payload.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode(errors="replace").strip().split("\n")
    request_line = lines[0].split()
    if len(request_line) < 2:
        raise ODataError(400, f"invalid request line in $batch: {lines[0]!r}", "/IWBEP/CM_MGW_RT/009")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return request_line[0].upper(), request_line[1], headers, body.strip()


def _http_part(reply: Reply) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} {STATUS_TEXT.get(reply.status, '')}".encode()]
    for name, value in {**reply.headers, "content-length": str(len(reply.body))}.items():
        lines.append(f"{name}: {value}".encode())
    inner = b"\r\n".join(lines) + b"\r\n\r\n" + reply.body
    return b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" + inner


def _compose(boundary: str, parts: list[bytes]) -> bytes:
    marker = f"--{boundary}".encode()
    return b"".join(marker + b"\r\n" + part + b"\r\n" for part in parts) + marker + b"--\r\n"

