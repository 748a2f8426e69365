"""How records are kept in a store: ``version|as_of_ms|event-data JSON``.

The version comes first so the Redis store's Lua scripts can compare it without decoding JSON;
``as_of`` (when the state was learned) lets freshness be judged per record. The JSON is the
event ``data`` wire shape, so there is one definition of a record's serialised form.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import (
    CREDIT_CHANGED,
    CUSTOMER_CHANGED,
    PRICE_CHANGED,
    STOCK_CHANGED,
    Record,
    from_data,
    to_data,
)
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord

R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Stored(Generic[R]):
    record: R
    as_of_ms: int


@dataclass(frozen=True)
class StockSnapshot:
    """Every location's level of one SKU; ``as_of_ms`` is the oldest of them."""

    levels: dict[int, StockLevel]
    as_of_ms: int


def encode(record: Record, as_of_ms: int) -> bytes:
    return b"%d|%d|%s" % (record.version, as_of_ms, orjson.dumps(to_data(record)))


_EVENT_TYPES: dict[type, str] = {PriceRecord: PRICE_CHANGED, StockLevel: STOCK_CHANGED, CreditRecord: CREDIT_CHANGED,
                                 CustomerRecord: CUSTOMER_CHANGED}


def decode(kind: type[R], raw: bytes) -> Stored[R]:
    _, as_of, body = raw.split(b"|", 2)
    record = from_data(_EVENT_TYPES[kind], orjson.loads(body))
    assert isinstance(record, kind)
    return Stored(record, int(as_of))


def decode_record(kind: type[R], raw: bytes) -> R:
    return decode(kind, raw).record


def version_of(raw: bytes) -> int:
    return int(raw.split(b"|", 1)[0])


def snapshot(raws: Iterable[bytes]) -> StockSnapshot:
    held = [decode(StockLevel, raw) for raw in raws]
    return StockSnapshot({h.record.location_id: h.record for h in held}, min(h.as_of_ms for h in held))
