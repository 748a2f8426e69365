"""What BigCommerce should hold for the ERP's records, and which of them to write (no I/O).

The worker pushes the ERP's truth into BigCommerce (price-list records, inventory by location) so that
everything reading BigCommerce directly agrees with the edge. Writing only what differs keeps it inside the
store's REST quota: each record's BigCommerce form is fingerprinted, the fingerprint of what BigCommerce
holds is remembered per record, and a record is written only when the two differ. A record with no
remembered fingerprint is *unknown*: BigCommerce is re-read before anything is written for it.

The BigCommerce forms here are exactly what a ``GET`` of the same record answers, normalised, so a
fingerprint of what was written equals a fingerprint of what is read back.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import orjson

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind

MAX_RECORDS_PER_PUT = 1000  # PUT /v3/pricelists/{id}/records
MAX_ADJUSTMENTS_PER_PUT = 2000  # PUT /v3/inventory/adjustments/absolute
OPEN_ENDED = 2_147_483_647  # what BigCommerce answers for a tier without a maximum
TIER_TYPES = {TierKind.FIXED_PRICE: "fixed", TierKind.PERCENT_OFF: "percent", TierKind.PRICE_ADJUSTMENT: "price"}
T = TypeVar("T")
Payload = dict[str, Any]


class MirrorDataError(ValueError):
    """A BigCommerce record or key that cannot be read as one."""


# --- keys ---------------------------------------------------------------------------------------

def price_key(price_list_id: int, currency: str, sku: str) -> str:
    return f"{price_list_id}:{currency.upper()}:{sku}"


def parse_price_key(key: str) -> tuple[int, str, str]:
    try:
        list_id, currency, sku = key.split(":", 2)
        return int(list_id), currency, sku
    except ValueError:
        raise MirrorDataError(f"not a price-record key: {key!r}") from None


def stock_key(sku: str, location_id: int) -> str:
    return f"{location_id}:{sku}"


def parse_stock_key(key: str) -> tuple[str, int]:
    try:
        location_id, sku = key.split(":", 1)
        return sku, int(location_id)
    except ValueError:
        raise MirrorDataError(f"not an inventory key: {key!r}") from None


# --- price-list records -------------------------------------------------------------------------

def _amount(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise MirrorDataError(f"{what} is not an amount: {value!r}")
    try:
        return Decimal(value)
    except ArithmeticError:
        raise MirrorDataError(f"{what} is not an amount: {value!r}") from None


def _money(value: Decimal) -> Decimal:
    """One spelling per amount (``12.5`` and ``12.500`` are one price), never an exponent."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def tier_payload(tier: BulkTier) -> Payload:
    item: Payload = {"quantity_min": tier.min_quantity, "type": TIER_TYPES[tier.kind], "amount": _money(tier.amount)}
    if tier.max_quantity is not None and tier.max_quantity < OPEN_ENDED:
        item["quantity_max"] = tier.max_quantity
    return item


def price_payload(record: PriceRecord) -> Payload:
    """The ``PUT /v3/pricelists/{id}/records`` item for one ERP record (by SKU; amounts as Decimal).

    A sale price counts only below the price (the ERP's ``on_sale``), so one that is not is not sent;
    an upsert replaces the record whole, so a field left out is cleared in BigCommerce.
    """
    item: Payload = {"sku": record.sku, "currency": record.currency.lower(), "price": _money(record.price)}
    if record.on_sale and record.sale_price is not None:
        item["sale_price"] = _money(record.sale_price)
    if record.retail_price is not None:
        item["retail_price"] = _money(record.retail_price)
    if record.map_price is not None:
        item["map_price"] = _money(record.map_price)
    item["bulk_pricing_tiers"] = [tier_payload(tier) for tier in record.bulk_tiers]
    return item


def price_from_bigcommerce(item: Mapping[str, Any]) -> tuple[str, Payload]:
    """(key, payload) of a record as ``GET /v3/pricelists/{id}/records?include=bulk_pricing_tiers,sku``
    answers it, normalised to :func:`price_payload`'s form."""
    try:
        list_id, sku, currency = int(item["price_list_id"]), str(item["sku"]), str(item["currency"])
    except (KeyError, TypeError, ValueError):
        raise MirrorDataError(f"a price record without price_list_id, sku and currency: {dict(item)!r}") from None
    price = _amount(item.get("price"), "price")
    payload: Payload = {"sku": sku, "currency": currency.lower(), "price": _money(price)}
    sale = item.get("sale_price")
    if sale is not None and _amount(sale, "sale_price") < price:
        payload["sale_price"] = _money(_amount(sale, "sale_price"))
    for name in ("retail_price", "map_price"):
        if item.get(name) is not None:
            payload[name] = _money(_amount(item[name], name))
    tiers = []
    for raw in item.get("bulk_pricing_tiers") or []:
        kind = next((k for k, name in TIER_TYPES.items() if name == raw.get("type")), None)
        if kind is None:
            raise MirrorDataError(f"{sku}: unknown bulk pricing tier type {raw.get('type')!r}")
        maximum = raw.get("quantity_max")
        tiers.append(tier_payload(BulkTier(int(raw["quantity_min"]), None if maximum is None else int(maximum),
                                           _amount(raw.get("amount"), "amount"), kind)))
    payload["bulk_pricing_tiers"] = tiers
    return price_key(list_id, currency, sku), payload


# --- inventory ----------------------------------------------------------------------------------

def stock_payload(level: StockLevel, bc_location_id: int) -> Payload:
    """What BigCommerce should hold for one ERP level at its (mapped) location.

    BigCommerce has no "allocated": its on-hand is what it may still sell against, so the absolute
    quantity is the ERP's on hand less its allocations (never negative). Safety stock is BigCommerce's
    own setting; backorder maps to ``is_in_stock`` ("available for purchase independent of quantity").
    """
    return {"sku": level.sku, "location_id": bc_location_id, "quantity": max(0, level.on_hand - level.allocated),
            "safety_stock": max(0, level.safety_stock), "is_in_stock": level.backorder}


def map_location(level: StockLevel, locations: Mapping[int, int]) -> int | None:
    """The BigCommerce location of an ERP level: the mapping's, else the same id (ids are BigCommerce-side
    unless a connector says otherwise); None when BigCommerce has no such location (``locations`` keys are
    ERP ids and values BigCommerce ids; with an explicit map, unmapped ERP locations are not synced)."""
    return locations.get(level.location_id)


# --- diffing and batching -----------------------------------------------------------------------

def fingerprint(payload: Mapping[str, Any]) -> str:
    """A short, stable hash of a payload (key order and amount spelling do not matter)."""
    raw = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=lambda d: format(_money(d), "f"))
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


@dataclass(frozen=True)
class Known:
    """What is remembered of a record in BigCommerce: the ERP version last written (0: read back) and the
    fingerprint of what BigCommerce holds."""

    version: int
    fingerprint: str

    def encode(self) -> str:
        return f"{self.version}:{self.fingerprint}"

    @classmethod
    def decode(cls, raw: str | bytes | None) -> Known | None:
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        version, _, fp = text.partition(":")
        return cls(int(version), fp) if version.lstrip("-").isdigit() and fp else None


@dataclass(frozen=True)
class Wanted:
    """A record as the ERP states it, in BigCommerce's form."""

    key: str
    version: int
    payload: Payload

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.payload)


@dataclass(frozen=True)
class Plan:
    write: list[Wanted]  # BigCommerce holds something else
    unknown: list[Wanted]  # nothing remembered: re-read BigCommerce first
    same: int  # already what BigCommerce holds
    stale: int  # older than what was last written (an event overtaken by a newer one)


def plan(wanted: Iterable[Wanted], known: Mapping[str, Known | None]) -> Plan:
    """Sort the ERP's records by what BigCommerce is known to hold. The newest version of a key wins."""
    newest: dict[str, Wanted] = {}
    for item in wanted:
        if item.key not in newest or item.version >= newest[item.key].version:
            newest[item.key] = item
    write, unknown, same, stale = [], [], 0, 0
    for item in newest.values():
        remembered = known.get(item.key)
        if remembered is None:
            unknown.append(item)
        elif remembered.version > item.version:
            stale += 1
        elif remembered.fingerprint == item.fingerprint:
            same += 1
        else:
            write.append(item)
    return Plan(write, unknown, same, stale)


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive batches of at most ``size`` (BigCommerce's per-request limit)."""
    if size < 1:
        raise ValueError(f"a batch holds at least one item, not {size}")
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def read_back_known(current: Mapping[str, Payload], keys: Iterable[str]) -> dict[str, Known | None]:
    """What BigCommerce was found to hold for ``keys`` (None: it holds no such record)."""
    return {key: Known(0, fingerprint(current[key])) if key in current else None for key in keys}
