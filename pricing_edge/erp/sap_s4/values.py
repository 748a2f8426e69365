"""Reading OData V2 JSON values as S/4 sends them: decimals as strings (``"41.200"``), dates as
``/Date(ms)/`` or ``/Date(ms+0000)/``, times as ``PT12H30M00S``. Anything else is an ErpBadResponse."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from pricing_edge.erp.errors import ErpBadResponse

_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
_TIME = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?$")
CENT = Decimal("0.01")


def amount(raw: object) -> Decimal:
    """A money amount: S/4's three-decimal (or more) rendering, back to cents when nothing is lost."""
    if isinstance(raw, (bool, float)) or not isinstance(raw, (str, int)):
        raise ErpBadResponse(f"s4hana: not a decimal amount: {raw!r}", erp="s4hana")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ErpBadResponse(f"s4hana: not a decimal amount: {raw!r}", erp="s4hana") from None
    if not value.is_finite():
        raise ErpBadResponse(f"s4hana: not a finite amount: {raw!r}", erp="s4hana")
    cents = value.quantize(CENT)
    return cents if cents == value else value.normalize()


def quantity(raw: object) -> int:
    """A whole quantity (``"2.000"`` → 2); a fraction is an ErpBadResponse (we sell whole units)."""
    value = amount(raw)
    if value != value.to_integral_value():
        raise ErpBadResponse(f"s4hana: a fractional quantity {raw!r}", erp="s4hana")
    return int(value)


def parse_date(raw: object) -> datetime | None:
    """``/Date(ms)/`` → an aware UTC datetime; None for null."""
    if raw is None:
        return None
    match = _DATE.match(str(raw))
    if match is None:
        raise ErpBadResponse(f"s4hana: not an OData date: {raw!r}", erp="s4hana")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match[1]))


def parse_time(raw: object) -> timedelta:
    match = _TIME.match(str(raw or "PT0S"))
    if match is None:
        raise ErpBadResponse(f"s4hana: not an Edm.Time: {raw!r}", erp="s4hana")
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def literal(text: str) -> str:
    """A string literal for ``$filter`` and keys: quoted, quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def datetime_literal(day: date) -> str:
    return f"datetime'{day.isoformat()}T00:00:00'"


def datetimeoffset_literal(moment: datetime) -> str:
    return f"datetimeoffset'{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z'"
