"""Waiting out an ERP's short "slow down": one place for every connector.

A 429 is a refusal — the call did nothing — so resending it after the wait the ERP asked for loses
nothing and doubles nothing, writes included. A wait longer than the caller will hold a request
(``max_wait``) is left to the caller as an ``ErpThrottled`` with its ``retry_after``.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

DEFAULT_MAX_WAIT = 5.0
ATTEMPTS = 3


def retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None  # an HTTP date: rare enough from ERPs to leave to the caller


async def send_patiently(send: Callable[[], Awaitable[httpx.Response]], *, max_wait: float = DEFAULT_MAX_WAIT,
                         attempts: int = ATTEMPTS) -> httpx.Response:
    """``send()``, resent after each short 429 (at most ``attempts`` sends); the last answer as it came."""
    response = await send()
    for _ in range(attempts - 1):
        wait = retry_after(response) if response.status_code == 429 else None
        if wait is None or wait > max_wait:
            return response
        await asyncio.sleep(wait)
        response = await send()
    return response
