"""One error hierarchy for every ERP adapter, so callers never see a vendor's or httpx's exceptions.

The split is the one the resilience layer acts on: ``ErpUnavailable`` is transient (serve last
good, open a breaker, retry with backoff); ``ErpRejected`` is permanent (retrying the same call will
not help: fix the request or the mapping).
"""
from __future__ import annotations

import httpx

TRANSIENT_STATUSES = frozenset({408, 425, 429})


class ErpError(Exception):
    """Anything that went wrong talking to an ERP."""

    retryable = False

    def __init__(self, message: str, *, erp: str = "erp", status: int | None = None) -> None:
        super().__init__(message)
        self.erp = erp
        self.status = status


class ErpUnavailable(ErpError):
    """Connect errors, timeouts, 5xx, 408/425/429: try again later."""

    retryable = True

    def __init__(self, message: str, *, erp: str = "erp", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, erp=erp, status=status)
        self.retry_after = retry_after


class ErpThrottled(ErpUnavailable):
    """The ERP asked us to slow down (429); ``retry_after`` says for how long, when it does."""


class ErpBadResponse(ErpUnavailable):
    """A 2xx whose body is not what the ERP's API promises (an error page from a proxy, a half deploy)."""


class ErpRejected(ErpError):
    """Any other 4xx: the ERP understood and refused."""


class ErpNotFound(ErpRejected):
    """The ERP has no such record (404): a missing mapping, or a record deleted in the ERP."""


class DuplicateReference(ErpRejected):
    """The ERP already holds a sales order with this external reference (it refuses a second one)."""

    def __init__(self, message: str, *, reference: str, erp: str = "erp", status: int | None = 409) -> None:
        super().__init__(message, erp=erp, status=status)
        self.reference = reference


def from_httpx(exc: httpx.HTTPError, *, erp: str = "erp") -> ErpError:
    """Map an httpx transport exception; every one of them is transient from our side."""
    if isinstance(exc, httpx.TimeoutException):
        return ErpUnavailable(f"{erp}: timed out ({type(exc).__name__})", erp=erp)
    if isinstance(exc, httpx.HTTPStatusError):
        return from_status(exc.response, erp=erp)
    return ErpUnavailable(f"{erp}: {type(exc).__name__}: {exc}", erp=erp)


def from_status(response: httpx.Response, *, erp: str = "erp") -> ErpError:
    """The error for a non-2xx response."""
    status = response.status_code
    detail = _detail(response)
    message = f"{erp}: HTTP {status} for {response.request.method} {response.request.url.path}: {detail}"
    if status == 429:
        return ErpThrottled(message, erp=erp, status=status, retry_after=_retry_after(response))
    if status >= 500 or status in TRANSIENT_STATUSES:
        return ErpUnavailable(message, erp=erp, status=status, retry_after=_retry_after(response))
    if status == 404:
        return ErpNotFound(message, erp=erp, status=status)
    return ErpRejected(message, erp=erp, status=status)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("error", "title", "message", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
        vendor = vendor_message(body)
        if vendor:
            return vendor
    return response.text[:200]


def vendor_message(body: object) -> str | None:
    """SAP Gateway's (and OData V4's) ``{"error": {"code", "message": {"value"} | "..."}}`` as "code: message"."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    text = message.get("value") if isinstance(message, dict) else message
    if not isinstance(text, str):
        return None
    code = error.get("code")
    return f"{code}: {text}" if isinstance(code, str) and code else text


def _retry_after(response: httpx.Response) -> float | None:
    from pricing_edge.erp.throttling import retry_after

    return retry_after(response)
