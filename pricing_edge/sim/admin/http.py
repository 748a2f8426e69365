"""What every REST Admin endpoint of the simulator shares: BigCommerce's two error styles, the store-hash
and ``X-Auth-Token`` checks, JSON in (Decimal-exact) and out, and paging parameters.

BigCommerce v2 answers errors as a list, ``[{"status": 400, "message": "..."}]``; v3 as an object,
``{"status": 422, "title": "...", "type": "...", "errors": {...}}`` (the orders and webhooks specs).
"""
from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pricing_edge.jsonio import dumps, loads_exact

V2, V3 = "v2", "v3"
STATUS_CODES_DOC = "/api-docs/getting-started/api-status-codes"
NOT_FOUND = "The requested resource was not found."
FOUR_PLACES = Decimal("0.0001")
MAX_LIMIT = 250

Handler = Callable[[Request], Awaitable[Response]]


class AdminError(Exception):
    """A request the simulator refuses: ``status`` and a message naming the problem (and, for v3 422s,
    the offending field)."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_response(version: str, status: int, message: str, *, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    if version == V2:
        return json_response([{"status": status, "message": message}], status, headers)
    body: dict[str, Any] = {"status": status, "title": message, "type": STATUS_CODES_DOC}
    if field is not None:
        body["errors"] = {field: message}
    return json_response(body, status, headers)


def version_of(path: str) -> str:
    """``/stores/{hash}/v3/...`` → "v3"; anything else under /stores answers v2-style."""
    parts = path.split("/")
    return V3 if len(parts) > 3 and parts[3] == V3 else V2


def guarded(version: str, store_hash: str, admin_token: str) -> Callable[[Handler], Handler]:
    """Wrap a handler: unknown store hash → 404, missing or wrong ``X-Auth-Token`` → 401, AdminError → 4xx."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: Request) -> Response:
            if request.path_params.get("store_hash") != store_hash:
                return error_response(version, 404, NOT_FOUND)
            token = request.headers.get("x-auth-token", "")
            if not token or not hmac.compare_digest(token.encode(), admin_token.encode()):
                return error_response(version, 401, "You are not authorized to access this resource: "
                                                     "send a valid access token in the X-Auth-Token header.")
            try:
                return await handler(request)
            except AdminError as exc:
                return error_response(version, exc.status, exc.message, field=exc.field)

        return wrapped

    return decorate


async def json_body(request: Request, *, status: int = 400) -> dict[str, Any]:
    """The request's JSON object, numbers with every digit (Decimal); anything else is a 400."""
    raw = await request.body()
    try:
        body = loads_exact(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise AdminError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise AdminError(status, "The request body must be a JSON object.")
    return body


def path_int(request: Request, name: str) -> int:
    """A numeric path parameter; anything else cannot name a resource (404, as BigCommerce answers)."""
    raw = str(request.path_params.get(name, ""))
    if not raw.isdigit():
        raise AdminError(404, NOT_FOUND)
    return int(raw)


def query_int(request: Request, name: str, default: int | None = None, *, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(Decimal(raw))
        if Decimal(raw) != value:
            raise ValueError(raw)
    except (InvalidOperation, ValueError):
        raise AdminError(400, f"The query parameter '{name}' must be an integer, got {raw!r}.") from None
    if value < minimum:
        raise AdminError(400, f"The query parameter '{name}' must be at least {minimum}, got {value}.")
    return value


def query_date(request: Request, name: str) -> datetime | None:
    """A v2 date filter (``min_date_modified``...): RFC 2822 or ISO 8601, as the spec allows; naive means UTC."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            raise AdminError(400, f"The query parameter '{name}' must be a date in RFC-2822 or ISO-8601, "
                                  f"got {raw!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def paging(request: Request, default_limit: int = 50) -> tuple[int, int]:
    """``page`` (from 1) and ``limit`` (1..250, BigCommerce's cap)."""
    page = query_int(request, "page", 1, minimum=1) or 1
    limit = query_int(request, "limit", default_limit, minimum=1) or default_limit
    return page, min(limit, MAX_LIMIT)


def page_of(items: list[Any], page: int, limit: int) -> list[Any]:
    return items[(page - 1) * limit: page * limit]


def money4(value: Decimal) -> str:
    """BigCommerce v2 money: a string with four decimals."""
    return str(value.quantize(FOUR_PLACES))


def parse_money(value: Any, field: str) -> Decimal:
    """A non-negative amount given as a JSON number or a numeric string — never through float."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise AdminError(400, f"The field '{field}' must be a number or a numeric string, got {value!r}.")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise AdminError(400, f"The field '{field}' must be a number or a numeric string, got {value!r}.") from None
    if not amount.is_finite() or amount < 0:
        raise AdminError(400, f"The field '{field}' must be a non-negative amount, got {value!r}.")
    return amount.quantize(FOUR_PLACES)


def require_int(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise AdminError(400, f"The field '{field}' must be an integer, got {value!r}.")
    number = int(value)
    if minimum is not None and number < minimum:
        raise AdminError(400, f"The field '{field}' must be at least {minimum}, got {number}.")
    if maximum is not None and number > maximum:
        raise AdminError(400, f"The field '{field}' must be at most {maximum}, got {number}.")
    return number


def require_str(value: Any, field: str, *, max_length: int | None = None, nullable: bool = False) -> str:
    if value is None and nullable:
        return ""
    if not isinstance(value, str):
        raise AdminError(400, f"The field '{field}' must be a string, got {value!r}.")
    if max_length is not None and len(value) > max_length:
        raise AdminError(400, f"The field '{field}' must be at most {max_length} characters long.")
    return value


def reject_unknown(body: dict[str, Any], allowed: frozenset[str], where: str = "") -> None:
    """BigCommerce refuses fields a resource does not take; name the first one."""
    for key in body:
        if key not in allowed:
            raise AdminError(400, f"The field '{where}{key}' cannot be written to. "
                                  "Please remove it from your request before trying again.")
