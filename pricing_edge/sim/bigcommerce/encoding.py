"""JSON responses whose money keeps every digit: ``BigDecimal`` goes out as a JSON number written
from the Decimal's own digits (never through a float), via orjson's ``Fragment``."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson


def decimal_literal(value: Decimal) -> bytes:
    """The JSON number for a finite Decimal, exactly its digits and scale (``19.90`` stays ``19.90``)."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return format(value, "f").encode()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(decimal_literal(value))
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def iso_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
