"""Pushing ERP records into BigCommerce, writing only what differs (``domain/bc_mirror.py``), and the two
sides that do it: price-list records and inventory by location.

One push: first settle the doubts a killed worker left (re-read those records from BigCommerce and
remember what it holds), then compare the ERP's records with the remembered fingerprints, re-read the
records nothing is remembered of, and write the rest in batches, each marked doubtful before it is sent
and remembered (its doubt cleared) once BigCommerce accepted it. So a record is never written twice for
one ERP state, however often a push is cut short and run again.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

from pricing_edge.bigcommerce.inventory import InventoryApi
from pricing_edge.bigcommerce.price_lists import PriceListsApi
from pricing_edge.domain import bc_mirror
from pricing_edge.domain.bc_mirror import Known, Payload, Wanted
from pricing_edge.store.bc_mirror import MirrorState

log = logging.getLogger(__name__)
WHOLE_LIST_READ = 200  # more unknown records than this on one list: read the whole list back, not by SKU
Progress = Callable[[str, int, int], Awaitable[None]]  # (phase, done, total)


class Side(Protocol):
    kind: str
    batch_size: int

    def group(self, key: str) -> int:
        """Records written in one request share a group (a price list, a location)."""
        ...

    async def read_back(self, keys: Sequence[str]) -> dict[str, Payload]:
        """What BigCommerce holds now for ``keys`` (absent: no such record)."""
        ...

    async def write(self, group: int, batch: Sequence[Wanted]) -> None: ...


@dataclass
class PushReport:
    compared: int = 0
    written: int = 0
    same: int = 0
    stale: int = 0
    re_read: int = 0
    doubts_settled: int = 0
    requests: int = 0

    def add(self, other: PushReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


async def _no_progress(phase: str, done: int, total: int) -> None:
    return None


async def settle_doubts(side: Side, state: MirrorState) -> int:
    """Re-read the records of batches sent but never confirmed, and remember what BigCommerce holds."""
    doubts = await state.doubts(side.kind)
    if doubts:
        log.info("%s: %d record(s) of an unconfirmed batch: re-reading them from BigCommerce", side.kind, len(doubts))
        current = await side.read_back(doubts)
        await state.remember(side.kind, bc_mirror.read_back_known(current, doubts))
    return len(doubts)


async def push(side: Side, state: MirrorState, wanted: Sequence[Wanted],
               progress: Progress = _no_progress) -> PushReport:
    report = PushReport(compared=len(wanted))
    report.doubts_settled = await settle_doubts(side, state)
    known = await state.known(side.kind, [item.key for item in wanted])
    plan = bc_mirror.plan(wanted, known)
    report.same, report.stale = plan.same, plan.stale
    to_write = list(plan.write)
    if plan.unknown:
        keys = [item.key for item in plan.unknown]
        await progress("reading BigCommerce", 0, len(keys))
        current = await side.read_back(keys)
        read = bc_mirror.read_back_known(current, keys)
        await state.remember(side.kind, read)
        again = bc_mirror.plan(plan.unknown, read)
        report.re_read, report.same = len(keys), report.same + again.same
        to_write += again.write + again.unknown  # unknown now: BigCommerce holds no such record
    to_write.sort(key=lambda item: (side.group(item.key), item.key))
    await progress("writing", 0, len(to_write))
    for group, items in groupby(to_write, key=lambda item: side.group(item.key)):
        for batch in bc_mirror.batches(list(items), side.batch_size):
            await state.doubt(side.kind, [item.key for item in batch])
            await side.write(group, batch)
            await state.remember(side.kind, {item.key: Known(item.version, item.fingerprint) for item in batch})
            report.written += len(batch)
            report.requests += 1
            await progress("writing", report.written, len(to_write))
    return report


class PriceSide:
    """Price-list records: one upsert request per batch of one list."""

    kind = "prices"

    def __init__(self, api: PriceListsApi, batch_size: int = bc_mirror.MAX_RECORDS_PER_PUT) -> None:
        self.api = api
        self.batch_size = min(batch_size, bc_mirror.MAX_RECORDS_PER_PUT)

    def group(self, key: str) -> int:
        return bc_mirror.parse_price_key(key)[0]

    async def read_back(self, keys: Sequence[str]) -> dict[str, Payload]:
        found: dict[str, Payload] = {}
        by_list: dict[int, set[str]] = {}
        for key in keys:
            list_id, _, sku = bc_mirror.parse_price_key(key)
            by_list.setdefault(list_id, set()).add(sku)
        for list_id, skus in sorted(by_list.items()):
            chosen = None if len(skus) > WHOLE_LIST_READ else sorted(skus)
            for item in await self.api.records(list_id, skus=chosen):
                key, payload = bc_mirror.price_from_bigcommerce(item)
                found[key] = payload
        return found

    async def write(self, group: int, batch: Sequence[Wanted]) -> None:
        await self.api.upsert_records(group, [item.payload for item in batch])


class InventorySide:
    """Levels by location: an absolute adjustment of the batch, then the settings of its items."""

    kind = "inventory"

    def __init__(self, api: InventoryApi, batch_size: int = bc_mirror.MAX_ADJUSTMENTS_PER_PUT,
                 reason: str = "pricing-edge: ERP stock") -> None:
        self.api = api
        self.batch_size = min(batch_size, bc_mirror.MAX_ADJUSTMENTS_PER_PUT)
        self.reason = reason

    def group(self, key: str) -> int:
        return bc_mirror.parse_stock_key(key)[1]

    async def read_back(self, keys: Sequence[str]) -> dict[str, Payload]:
        wanted = set(keys)
        skus = sorted({bc_mirror.parse_stock_key(key)[0] for key in keys})
        found: dict[str, Payload] = {}
        for item in await self.api.items(skus):
            sku = (item.get("identity") or {}).get("sku")
            for level in item.get("locations") or []:
                key = bc_mirror.stock_key(str(sku), int(level["location_id"]))
                if key in wanted:
                    settings = level.get("settings") or {}
                    found[key] = {"sku": sku, "location_id": int(level["location_id"]),
                                  "quantity": int(level.get("total_inventory_onhand") or 0),
                                  "safety_stock": int(settings.get("safety_stock") or 0),
                                  "is_in_stock": bool(settings.get("is_in_stock", False))}
        return found

    async def write(self, group: int, batch: Sequence[Wanted]) -> None:
        await self.api.set_absolute([{"location_id": group, "sku": item.payload["sku"],
                                      "quantity": item.payload["quantity"]} for item in batch], self.reason)
        await self.api.update_settings(group, [{"identity": {"sku": item.payload["sku"]},
                                                "safety_stock": item.payload["safety_stock"],
                                                "is_in_stock": item.payload["is_in_stock"]} for item in batch])
