"""Listing by the buyer's own price: the pure rules for ordering, filtering, paging and cursors (no I/O).

A listing is the set of products BigCommerce says match the non-price filters (its *members*), each with
the buyer's price. The edge orders and filters them here:

- ``LOWEST_PRICE``: ascending by price, ties by product id; ``HIGHEST_PRICE``: descending by price, ties
  by product id. Any other sort keeps BigCommerce's order. A product whose price is unknown goes last and
  never passes a price filter.
- A price filter keeps ``minPrice <= price <= maxPrice`` (either bound may be absent), as BigCommerce does.
- Cursors are keyset cursors: the position key of the product they name, so a page continues right after
  (or before) it in the *current* order. Each cursor also carries a fingerprint of the products at or
  before it (at or after, for ``before``). When a price change moved a product across the cursor, the
  fingerprint no longer matches: the page is still served, and ``changed`` says that products may repeat
  or be missing — never silently.
"""
from __future__ import annotations

import base64
import binascii
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import orjson

PRICE_SORTS = frozenset({"LOWEST_PRICE", "HIGHEST_PRICE"})
DEFAULT_PAGE = 10
Key = tuple[int, Decimal, int]


class CursorError(ValueError):
    """A cursor this listing did not issue (or one of another sort)."""


@dataclass(frozen=True)
class Member:
    entity_id: int
    rank: int  # its position in BigCommerce's answer (the order kept for non-price sorts)
    price: Decimal | None  # the buyer's price; None: unknown


@dataclass(frozen=True)
class PriceRange:
    low: Decimal | None
    high: Decimal | None

    def contains(self, price: Decimal | None) -> bool:
        if price is None:
            return False
        return (self.low is None or price >= self.low) and (self.high is None or price <= self.high)


def price_range(arg: object) -> PriceRange | None:
    """``PriceSearchFilterInput`` (floats on the wire) as exact decimals; None when absent."""
    if not isinstance(arg, dict):
        return None
    low, high = arg.get("minPrice"), arg.get("maxPrice")
    return PriceRange(None if low is None else Decimal(str(low)), None if high is None else Decimal(str(high)))


def position_key(member: Member, sort: str | None) -> Key:
    unknown = 1 if member.price is None else 0
    if sort == "LOWEST_PRICE":
        return (unknown, member.price or Decimal(0), member.entity_id)
    if sort == "HIGHEST_PRICE":
        return (unknown, -(member.price or Decimal(0)), member.entity_id)
    return (0, Decimal(member.rank), member.entity_id)


def arrange(members: Sequence[Member], sort: str | None, prices: PriceRange | None) -> list[Member]:
    """The listing in the buyer's order, keeping only products inside the price range."""
    kept = [m for m in members if prices is None or prices.contains(m.price)]
    return sorted(kept, key=lambda m: position_key(m, sort))


@dataclass(frozen=True)
class Cursor:
    key: Key
    fingerprint: str
    sort: str


MASK = (1 << 64) - 1


def _mix(entity_id: int) -> int:
    """splitmix64: a well-spread 64-bit value per product id, the same in every process."""
    z = (entity_id + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def fingerprint(entity_ids: Sequence[int]) -> str:
    """Which products lie on one side of a cursor, whatever their order among themselves."""
    return _fingerprint(len(entity_ids), sum(_mix(i) for i in entity_ids) & MASK)


def _fingerprint(count: int, total: int) -> str:
    return f"{count:x}-{total:016x}"


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps({"k": [cursor.key[0], str(cursor.key[1]), cursor.key[2]], "f": cursor.fingerprint,
                        "s": cursor.sort})
    return "pe1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> Cursor:
    if not text.startswith("pe1."):
        raise CursorError(f"Invalid cursor: {text!r}")
    body = text[4:]
    try:
        data = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        key = (int(data["k"][0]), Decimal(str(data["k"][1])), int(data["k"][2]))
        cursor = Cursor(key, str(data["f"]), str(data["s"]))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError, InvalidOperation):
        raise CursorError(f"Invalid cursor: {text!r}") from None
    if cursor.sort != sort:
        raise CursorError(f"Invalid cursor: {text!r} belongs to another sort")
    return cursor


@dataclass(frozen=True)
class Page:
    items: list[Member]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int
    changed: bool  # a cursor's side of the listing changed since it was issued


def page(ordered: Sequence[Member], sort: str | None, *, first: int | None = None, last: int | None = None,
         after: str | None = None, before: str | None = None) -> Page:
    """One Relay page of ``ordered``, as BigCommerce pages (``first`` defaults to 10)."""
    tag = sort or "RELEVANCE"
    keys = [position_key(m, sort) for m in ordered]
    sums = [0]  # sums[i]: the mixed ids of ordered[:i] (so any side of any cut costs O(1))
    for member in ordered:
        sums.append((sums[-1] + _mix(member.entity_id)) & MASK)
    total = len(ordered)

    def before_cut(cut: int) -> str:
        return _fingerprint(cut, sums[cut])

    def from_cut(cut: int) -> str:
        return _fingerprint(total - cut, (sums[total] - sums[cut]) & MASK)

    start, end, changed = 0, total, False
    if after:
        cursor = decode_cursor(after, tag)
        start = bisect_right(keys, cursor.key)
        changed |= before_cut(start) != cursor.fingerprint.split("/")[0]
    if before:
        cursor = decode_cursor(before, tag)
        cut = bisect_left(keys, cursor.key)
        changed |= from_cut(cut) != cursor.fingerprint.split("/")[-1]
        end = min(end, cut)
    if last is not None:
        start = max(start, end - last)
    else:
        end = min(end, start + (DEFAULT_PAGE if first is None else first))
    end = max(start, end)
    # One cursor serves both directions: it carries the side each direction checks (``after``: the
    # products up to it, itself included; ``before``: from it on).
    cursors = [encode_cursor(Cursor(keys[i], f"{before_cut(i + 1)}/{from_cut(i)}", tag)) for i in range(start, end)]
    return Page(list(ordered[start:end]), cursors, end < total, start > 0, total, changed)
