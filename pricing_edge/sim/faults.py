"""Faults a test or a person can drive in a simulator: outage, added latency, random errors.

``POST /_sim/faults {"down_seconds", "latency_ms", "error_rate", "throttle_requests", "retry_after"}`` sets them, ``DELETE`` clears,
``GET`` reads; ``GET /_sim/requests`` counts the requests served so far (tests count upstream calls with it). The ``/_sim`` paths themselves are never faulted, so a fault can always be cleared.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

SIM_PREFIX = "/_sim"


class FaultSpecError(ValueError):
    """A fault request that names an unknown or out-of-range setting."""


@dataclass
class Faults:
    """Current fault settings; ``base_latency_ms`` is the simulator's normal latency, not a fault."""

    base_latency_ms: float = 0.0
    down_until: float = 0.0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_left: int = 0  # the next N calls answer 429 with Retry-After
    retry_after: float = 1.0
    requests: int = 0  # every request but the /_sim ones: how many calls a test caused (GET /_sim/requests)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def apply(self, spec: dict[str, Any]) -> None:
        allowed = {"down_seconds", "latency_ms", "error_rate", "throttle_requests", "retry_after"}
        unknown = set(spec) - allowed
        if unknown:
            raise FaultSpecError(f"unknown fault setting(s): {', '.join(sorted(unknown))}; allowed: {sorted(allowed)}")
        values: dict[str, float] = {}
        for key, value in spec.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise FaultSpecError(f"{key} must be a non-negative number, got {value!r}")
            values[key] = float(value)
        if values.get("error_rate", 0.0) > 1:
            raise FaultSpecError("error_rate must be between 0 and 1")
        if "down_seconds" in values:
            self.down_until = time.monotonic() + values["down_seconds"]
        self.latency_ms = values.get("latency_ms", self.latency_ms)
        self.error_rate = values.get("error_rate", self.error_rate)
        self.throttle_left = int(values.get("throttle_requests", self.throttle_left))
        self.retry_after = values.get("retry_after", self.retry_after)

    def clear(self) -> None:
        self.down_until, self.latency_ms, self.error_rate, self.throttle_left = 0.0, 0.0, 0.0, 0

    @property
    def down(self) -> bool:
        return time.monotonic() < self.down_until

    def describe(self) -> dict[str, float]:
        return {
            "down_seconds": round(max(0.0, self.down_until - time.monotonic()), 3),
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "throttle_requests": self.throttle_left,
            "retry_after": self.retry_after,
            "base_latency_ms": self.base_latency_ms,
        }


class FaultMiddleware:
    """ASGI middleware: delays, fails or refuses every request but the ``/_sim`` ones."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SIM_PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        faults.requests += 1
        delay = (faults.base_latency_ms + faults.latency_ms) / 1000
        if delay:
            await asyncio.sleep(delay)
        if faults.down:
            await _refuse(503, "simulated outage: the service is down", scope, receive, send)
        elif faults.throttle_left > 0:
            faults.throttle_left -= 1
            response = JSONResponse({"status": 429, "title": "rate limit exceeded"}, status_code=429,
                                    headers={"retry-after": f"{faults.retry_after:g}"})
            await response(scope, receive, send)
        elif faults.error_rate and faults.rng.random() < faults.error_rate:
            await _refuse(500, "simulated internal error", scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _refuse(status: int, message: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"status": status, "title": message}, status_code=status)
    await response(scope, receive, send)


def fault_routes(faults: Faults) -> list[Route]:
    async def set_faults(request: Request) -> Response:
        try:
            spec = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        if not isinstance(spec, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        try:
            faults.apply(spec)
        except FaultSpecError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(faults.describe())

    async def clear_faults(request: Request) -> Response:
        faults.clear()
        return JSONResponse(faults.describe())

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.describe())

    async def get_requests(request: Request) -> Response:
        return JSONResponse({"requests": faults.requests})

    return [
        Route(f"{SIM_PREFIX}/requests", get_requests, methods=["GET"]),
        Route(f"{SIM_PREFIX}/faults", set_faults, methods=["POST"]),
        Route(f"{SIM_PREFIX}/faults", clear_faults, methods=["DELETE"]),
        Route(f"{SIM_PREFIX}/faults", get_faults, methods=["GET"]),
    ]
