"""One error hierarchy for BigCommerce's REST Admin API, so callers never see httpx's exceptions.

The split is the one the worker acts on (as for ERPs, ``pricing_edge.erp.errors``):
``BigCommerceUnavailable`` is transient (connect errors, timeouts, 5xx, 408/425, a 429 the client could
not wait out: retry later, after ``retry_after`` seconds when known); ``BigCommerceRejected`` is permanent
(any other 4xx: the request or the mapping is wrong), with the HTTP status and BigCommerce's own message.
"""
from __future__ import annotations

from typing import Any

import httpx

TRANSIENT_STATUSES = frozenset({408, 425, 429})


class BigCommerceError(Exception):
    """Anything that went wrong talking to BigCommerce's REST Admin API."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BigCommerceUnavailable(BigCommerceError):
    """Try again later: unreachable, timed out, 5xx, or rate limited beyond the client's patience."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class BigCommerceBadResponse(BigCommerceUnavailable):
    """A 2xx whose body is not the JSON the API promises (a proxy's error page, a truncated answer)."""


class BigCommerceRejected(BigCommerceError):
    """BigCommerce understood and refused (4xx other than the transient ones); ``vendor_message`` is its
    own explanation, e.g. "The field 'foo' cannot be written to"."""

    def __init__(self, message: str, *, status: int, vendor_message: str = "") -> None:
        super().__init__(message, status=status)
        self.vendor_message = vendor_message


def from_httpx(exc: httpx.HTTPError, method: str, path: str) -> BigCommerceUnavailable:
    """A transport failure (every one is transient from our side)."""
    if isinstance(exc, httpx.TimeoutException):
        return BigCommerceUnavailable(f"bigcommerce: {method} {path} timed out ({type(exc).__name__})")
    return BigCommerceUnavailable(f"bigcommerce: {method} {path} failed: {type(exc).__name__}: {exc}")


def from_status(response: httpx.Response, *, retry_after: float | None = None) -> BigCommerceError:
    """The error for a non-2xx response."""
    status = response.status_code
    detail = vendor_message(response)
    message = f"bigcommerce: HTTP {status} for {response.request.method} {response.request.url.path}: {detail}"
    if status >= 500 or status in TRANSIENT_STATUSES:
        return BigCommerceUnavailable(message, status=status, retry_after=retry_after)
    return BigCommerceRejected(message, status=status, vendor_message=detail)


def vendor_message(response: httpx.Response) -> str:
    """BigCommerce's explanation: v2 ``[{"status", "message"}]``, v3 ``{"title", "errors"}``, else the text."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, list):
        messages = [str(item["message"]) for item in body if isinstance(item, dict) and item.get("message")]
        if messages:
            return "; ".join(messages)
    if isinstance(body, dict):
        title = next((str(body[key]) for key in ("title", "message", "error", "detail")
                      if isinstance(body.get(key), str)), "")
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            details = "; ".join(f"{k}: {v}" for k, v in errors.items())
            return f"{title} ({details})" if title else details
        if title:
            return title
    return response.text[:300]
