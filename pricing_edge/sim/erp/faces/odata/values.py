"""OData V2 values: Python values of a face's rows, their JSON (verbose V2) and their URI literals.

Rows hold ``str``, ``Decimal``, ``datetime`` (DateTime: naive UTC; DateTimeOffset: aware),
``timedelta`` (Edm.Time), ``bool`` and ``None``. JSON follows SAP Gateway: decimals as strings,
``/Date(ms)/`` and ``/Date(ms+0000)/``, times as ``PT12H30M00S``.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pricing_edge.sim.erp.faces.odata.model import Prop

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_JSON_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class ValueError_(ValueError):
    """A literal or body value that does not fit its property's type (answered 400)."""


def epoch_ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(ms: int, *, aware: bool) -> datetime:
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment if aware else moment.replace(tzinfo=None)


def duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"PT{seconds // 3600:02d}H{seconds % 3600 // 60:02d}M{seconds % 60:02d}S"


def to_json(prop: Prop, value: Any) -> Any:
    if value is None:
        return None
    kind = prop.type
    if kind == "Edm.Decimal":
        places = prop.scale if prop.scale is not None else 0
        return f"{Decimal(value):.{places}f}"
    if kind == "Edm.DateTime":
        return f"/Date({epoch_ms(value)})/"
    if kind == "Edm.DateTimeOffset":
        return f"/Date({epoch_ms(value)}+0000)/"
    if kind == "Edm.Time":
        return duration(value)
    return value


def from_json(prop: Prop, value: Any) -> Any:
    """A request body's value for ``prop`` (deep inserts, PATCH); ValueError_ names the property."""
    if value is None:
        return None
    kind = prop.type
    try:
        if kind == "Edm.String":
            if not isinstance(value, str):
                raise ValueError_(f"{prop.name}: expected a string")
            if prop.max_length is not None and len(value) > prop.max_length:
                raise ValueError_(f"{prop.name}: longer than {prop.max_length} characters")
            return value
        if kind == "Edm.Decimal":
            if isinstance(value, (bool, float)):
                raise ValueError_(f"{prop.name}: a decimal travels as a string")
            return Decimal(str(value))
        if kind == "Edm.Boolean":
            if not isinstance(value, bool):
                raise ValueError_(f"{prop.name}: expected true or false")
            return value
        if kind in ("Edm.DateTime", "Edm.DateTimeOffset"):
            match = _JSON_DATE.match(str(value))
            if match:
                return from_epoch_ms(int(match[1]), aware=kind == "Edm.DateTimeOffset")
            return parse_datetime(str(value), aware=kind == "Edm.DateTimeOffset")
        if kind == "Edm.Time":
            return parse_duration(str(value))
        if kind == "Edm.Int32":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError_(f"{prop.name}: expected an integer")
            return value
    except (InvalidOperation, ValueError) as exc:
        if isinstance(exc, ValueError_):
            raise
        raise ValueError_(f"{prop.name}: {value!r} is not a valid {kind}") from None
    return value


def parse_datetime(text: str, *, aware: bool) -> datetime:
    cleaned = text.rstrip("Z")
    moment = datetime.fromisoformat(cleaned if "T" in cleaned else cleaned + "T00:00:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment if aware else moment.replace(tzinfo=None)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not an Edm.Time duration: {text!r}")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def key_literal(prop: Prop, value: Any) -> str:
    """The value as it appears in an entity's URI key predicate."""
    if prop.type == "Edm.String":
        return "'" + str(value).replace("'", "''") + "'"
    if prop.type == "Edm.DateTime":
        return f"datetime'{value.strftime('%Y-%m-%dT%H:%M:%S')}'"
    return str(value)
