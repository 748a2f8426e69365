"""Who may use the worker's ``/ops/*``: holders of an ops token, and nobody when none is configured.

- Scripts and ``pricing-edge ops`` send ``Authorization: Bearer <token>``.
- The dashboard logs in once with a token (``POST /ops/login``, JSON) and gets a session cookie (HttpOnly,
  SameSite=Strict, signed with that token: removing the token ends its sessions) and a CSRF token. Every
  action the page takes (POST, DELETE) must carry ``X-CSRF-Token`` and, when the browser names one, come
  from the worker's own origin; a bearer token needs neither (a browser never sends one by itself).
- ``PRICING_EDGE_OPS_TOKENS`` lists ``name:token`` pairs, comma-separated. The name is who the audit log
  says acted; the same name twice is a rotation (both valid until the old one is removed).
"""
from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import orjson
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pricing_edge.config import listed
from pricing_edge.ops import tracing
from pricing_edge.store.audit import AuditEntry, AuditLog, now_ms

log = logging.getLogger(__name__)
SESSION_COOKIE = "pe_ops_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_TOKEN_LENGTH = 16
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_SALT = "pricing-edge-ops-session"
LOGIN_FAILURES_PER_MINUTE = 10
API_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff", "x-frame-options": "DENY",
               "referrer-policy": "no-referrer"}
Endpoint = Callable[[Request], Awaitable[Response]]


class OpsTokenError(ValueError):
    """``PRICING_EDGE_OPS_TOKENS`` cannot be used as it is."""


@dataclass(frozen=True)
class OpsToken:
    name: str
    secret: str


def parse_tokens(value: str | None) -> list[OpsToken]:
    """``name:token,name:token`` (a bare ``token`` is named ``ops``); each token at least 16 characters."""
    tokens = []
    for entry in listed(value):
        name, sep, secret = entry.partition(":")
        if not sep:
            name, secret = "ops", entry
        if not _NAME.fullmatch(name):
            raise OpsTokenError(f"PRICING_EDGE_OPS_TOKENS: {name!r} is not a token name (letters, digits, _.@-)")
        if len(secret) < MIN_TOKEN_LENGTH:
            raise OpsTokenError(f"PRICING_EDGE_OPS_TOKENS: the token named {name!r} is shorter than "
                                f"{MIN_TOKEN_LENGTH} characters; use a long random one (openssl rand -hex 24)")
        tokens.append(OpsToken(name, secret))
    return tokens


@dataclass(frozen=True)
class Operator:
    name: str
    via: str  # "api" (bearer token) or "dashboard" (session cookie)
    csrf: str | None = None


def _json(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**API_HEADERS, **(headers or {})})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


class OpsAccess:
    def __init__(self, tokens: Sequence[OpsToken], audit: AuditLog, *, session_ttl: float = 12 * 3600) -> None:
        self.tokens = list(tokens)
        self.audit = audit
        self.session_ttl = session_ttl
        self._failures: dict[str, deque[float]] = {}

    # -- who is asking ----------------------------------------------------------------------------
    def _token(self, secret: str) -> OpsToken | None:
        found = None
        for token in self.tokens:  # every one compared, in constant time each
            if hmac.compare_digest(token.secret.encode(), secret.encode()):
                found = token
        return found

    def _bearer(self, request: Request) -> Operator | None:
        header = request.headers.get("authorization", "")
        if header[:7].lower() != "bearer ":
            return None
        token = self._token(header[7:].strip())
        return Operator(token.name, "api") if token else None

    def _session(self, request: Request) -> Operator | None:
        raw = request.cookies.get(SESSION_COOKIE, "")
        name, _, signed = raw.partition("|")
        for token in self.tokens:
            if token.name != name:
                continue
            try:
                payload = URLSafeTimedSerializer(token.secret, salt=_SALT).loads(signed, max_age=int(self.session_ttl))
            except BadSignature:
                continue
            if isinstance(payload, dict) and payload.get("n") == name and isinstance(payload.get("c"), str):
                return Operator(name, "dashboard", payload["c"])
        return None

    def refusal(self, request: Request, operator: Operator | None) -> Response | None:
        """Why ``request`` may not go on (401, 403), or None."""
        if not self.tokens:
            return _json(403, {"error": "the ops API is closed: no PRICING_EDGE_OPS_TOKENS is configured"})
        if operator is None:
            return _json(401, {"error": "an ops token is required (Authorization: Bearer <token>, or log in)"},
                         {"www-authenticate": 'Bearer realm="pricing-edge ops"'})
        if operator.via == "dashboard" and request.method in UNSAFE_METHODS:
            return self._csrf_refusal(request, operator)
        return None

    @staticmethod
    def _csrf_refusal(request: Request, operator: Operator) -> Response | None:
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        if (origin and origin != own) or request.headers.get("sec-fetch-site") == "cross-site":
            return _json(403, {"error": f"cross-origin action refused (origin {origin or '?'}, expected {own})"})
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not operator.csrf or not hmac.compare_digest(sent.encode(), operator.csrf.encode()):
            return _json(403, {"error": f"CSRF check failed: the page's actions must send {CSRF_HEADER}"})
        return None

    def protect(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` for operators only; it finds who acted on ``request.state.operator``."""

        async def guarded(request: Request) -> Response:
            operator = self._bearer(request) or self._session(request)
            refused = self.refusal(request, operator)
            if refused is not None:
                log.warning("ops: %s %s refused from %s (%d)", request.method, request.url.path,
                            client_address(request), refused.status_code)
                return refused
            request.state.operator = operator
            response = await endpoint(request)
            response.headers.update(API_HEADERS)
            return response

        return guarded

    async def record(self, request: Request, action: str, target: str, outcome: str, detail: str = "") -> None:
        """One audit entry for what the request's operator did."""
        operator: Operator = request.state.operator
        await self.audit.append(AuditEntry(now_ms(), operator.name, operator.via, client_address(request), action,
                                           target[:200], outcome, detail[:2000], tracing.current_trace_id()))

    # -- the dashboard's session ------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [Route("/ops/login", self.login, methods=["POST"]),
                Route("/ops/session", self.protect(self.session), methods=["GET"]),
                Route("/ops/logout", self.protect(self.logout), methods=["POST"])]

    def _throttled(self, address: str) -> bool:
        for known in [a for a, times in self._failures.items() if times and times[-1] < time.monotonic() - 60]:
            del self._failures[known]  # forget addresses quiet for a minute: the table stays small
        recent = self._failures.setdefault(address, deque())
        while recent and recent[0] < time.monotonic() - 60:
            recent.popleft()
        return len(recent) >= LOGIN_FAILURES_PER_MINUTE

    async def login(self, request: Request) -> Response:
        address = client_address(request)
        if not self.tokens:
            return self.refusal(request, None) or _json(403, {})
        if self._throttled(address):
            return _json(429, {"error": "too many failed logins from this address; wait a minute"})
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _json(415, {"error": "log in with a JSON body: {\"token\": \"...\"}"})
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
            return _json(403, {"error": "cross-origin login refused"})
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        secret = body.get("token") if isinstance(body, dict) else None
        token = self._token(secret) if isinstance(secret, str) else None
        if token is None:
            self._failures[address].append(time.monotonic())
            log.warning("ops: failed login from %s", address)
            return _json(401, {"error": "that is not an ops token"})
        csrf = secrets.token_urlsafe(24)
        signed = URLSafeTimedSerializer(token.secret, salt=_SALT).dumps({"n": token.name, "c": csrf})
        request.state.operator = Operator(token.name, "dashboard", csrf)
        await self.record(request, "login", "dashboard", "ok")
        response = _json(200, {"operator": token.name, "csrf": csrf})
        response.set_cookie(SESSION_COOKIE, f"{token.name}|{signed}", max_age=int(self.session_ttl), path="/ops",
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    async def session(self, request: Request) -> Response:
        operator: Operator = request.state.operator
        return _json(200, {"operator": operator.name, "via": operator.via, "csrf": operator.csrf})

    async def logout(self, request: Request) -> Response:
        response = _json(200, {"logged_out": True})
        response.delete_cookie(SESSION_COOKIE, path="/ops")
        return response
