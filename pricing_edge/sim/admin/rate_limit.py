"""BigCommerce's REST rate limit: a fixed window of ``quota`` requests per ``window`` seconds per store.

Every REST response (``/stores/{store_hash}/...``) carries ``X-Rate-Limit-Requests-Left``,
``X-Rate-Limit-Requests-Quota``, ``X-Rate-Limit-Time-Window-Ms`` and ``X-Rate-Limit-Time-Reset-Ms`` (until
the window resets). Over quota: 429, with ``X-Rate-Limit-Time-Reset-Ms`` and ``X-Retry-After`` (whole
seconds, rounded up). A window opens with the first request after the previous one ended.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pricing_edge.sim.admin.http import error_response, version_of


@dataclass(frozen=True)
class Decision:
    allowed: bool
    left: int
    quota: int
    window_ms: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        headers = {"X-Rate-Limit-Requests-Left": str(self.left), "X-Rate-Limit-Requests-Quota": str(self.quota),
                   "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
                   "X-Rate-Limit-Time-Reset-Ms": str(self.reset_ms)}
        if not self.allowed:
            headers["X-Retry-After"] = str(max(1, math.ceil(self.reset_ms / 1000)))
        return headers


@dataclass
class FixedWindow:
    quota: int = 150
    window: float = 30.0
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-math.inf)
    used: int = 0
    allowed_total: int = 0
    rejected_total: int = 0
    windows: int = 0

    def __post_init__(self) -> None:
        self._check(self.quota, self.window)

    @staticmethod
    def _check(quota: int, window: float) -> None:
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 1:
            raise ValueError(f"quota must be a positive integer, got {quota!r}")
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 < window <= 3600:
            raise ValueError(f"window must be a number of seconds in (0, 3600], got {window!r}")

    def configure(self, quota: int, window: float) -> None:
        """New limits, starting a fresh window at the next request."""
        self._check(quota, window)
        self.quota, self.window = quota, float(window)
        self.started, self.used = -math.inf, 0

    def take(self) -> Decision:
        now = self.clock()
        if now >= self.started + self.window:
            self.started, self.used = now, 0
            self.windows += 1
        allowed = self.used < self.quota
        if allowed:
            self.used += 1
            self.allowed_total += 1
        else:
            self.rejected_total += 1
        return self._decision(allowed, now)

    def peek(self) -> Decision:
        now = self.clock()
        if now >= self.started + self.window:
            return Decision(True, self.quota, self.quota, self._window_ms, self._window_ms)
        return self._decision(True, now)

    @property
    def _window_ms(self) -> int:
        return math.ceil(self.window * 1000)

    def _decision(self, allowed: bool, now: float) -> Decision:
        reset_ms = max(0, math.ceil((self.started + self.window - now) * 1000))
        return Decision(allowed, self.quota - self.used, self.quota, self._window_ms, reset_ms)

    def describe(self) -> dict[str, Any]:
        decision = self.peek()
        return {"quota": self.quota, "window_ms": decision.window_ms, "left": decision.left,
                "reset_ms": decision.reset_ms, "allowed": self.allowed_total, "rejected": self.rejected_total,
                "windows": self.windows}


class RateLimitMiddleware:
    """ASGI middleware: counts and limits requests under ``/stores/{store_hash}/`` (the GraphQL and
    ``/_sim`` paths are not REST and are never limited); adds the rate-limit headers to every answer."""

    def __init__(self, app: ASGIApp, limiter: FixedWindow, store_hash: str) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = f"/stores/{store_hash}/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        decision = self.limiter.take()
        headers = decision.headers()
        if not decision.allowed:
            response = error_response(version_of(scope["path"]), 429,
                                      "You have exceeded your rate limit: wait X-Rate-Limit-Time-Reset-Ms before "
                                      "the next request.", headers=headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for name, value in headers.items():
                    mutable[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
