"""The ERP's truth pushed into BigCommerce: price-list records and inventory by location (``bc_push.py``).

Two entities per store, ``prices:<store_hash>`` and ``inventory:<store_hash>``: every ERP price or stock
event and every sync run (``pricing-edge sync prices|inventory [--full]``, queued straight to the entity)
is handled one after the other, so there is one write request at a time per store and kind, as
BigCommerce asks of record upserts. An event carries the record's full state; the events of its kind queued
behind it are written with it (one request per batch), and each writes nothing when its own turn comes,
finding its record already in BigCommerce. A sync run reads the whole ERP (every BigCommerce price list in
every currency the store sells in — BigCommerce's channel currencies, ``edge.assignments.store_currencies`` —,
or all stock) and writes what differs, reporting its progress in the store for the command line to show.
``--full`` forgets every remembered fingerprint first: BigCommerce is re-read whole.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import orjson

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceRejected
from pricing_edge.bigcommerce.inventory import InventoryApi
from pricing_edge.bigcommerce.price_lists import PriceListsApi
from pricing_edge.domain import bc_mirror, events
from pricing_edge.domain.bc_mirror import Wanted
from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.edge.assignments import store_currencies
from pricing_edge.erp.errors import ErpNotFound
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.store.base import Store
from pricing_edge.store.bc_mirror import MirrorState
from pricing_edge.store.work_queue import WorkQueue
from pricing_edge.worker.errors import PermanentError
from pricing_edge.worker.flows.bc_push import InventorySide, PriceSide, PushReport, push
from pricing_edge.worker.messages import Message, MessageError

log = logging.getLogger(__name__)
FLOW = "bigcommerce-sync"
SYNC_SOURCE = "sync"
SYNC_KINDS = {"prices": "pricing-edge.sync.prices", "inventory": "pricing-edge.sync.inventory"}
PROGRESS_TTL = 24 * 3600.0
LOCATIONS_TTL = 300.0


def entity(kind: str, store_hash: str) -> str:
    return f"{kind}:{store_hash}"


def progress_key(run: str) -> str:
    return f"bc-sync:{run}"


def sync_message(kind: str, store_hash: str, *, full: bool) -> Message:
    """A sync run for the command line to queue (``WorkQueue.enqueue(FLOW, message.entity, ...)``)."""
    run = uuid.uuid4().hex
    return Message(run, FLOW, entity(kind, store_hash), SYNC_KINDS[kind], SYNC_SOURCE, {"run": run, "full": full},
                   "", int(time.time() * 1000))


class BigCommerceSyncFlow:
    name = FLOW

    def __init__(self, admin: BigCommerceAdmin, erp: ErpAdapter, store: Store, state: MirrorState, *,
                 store_hash: str, currencies: Sequence[str], locations: Mapping[int, int] | None = None,
                 batch_size: int = bc_mirror.MAX_RECORDS_PER_PUT, queue: WorkQueue | None = None) -> None:
        self.erp = erp
        self.admin = admin
        self.queue = queue  # to batch the events queued behind the one in hand
        self.batch_size = batch_size
        self.store = store
        self.state = state
        self.store_hash = store_hash
        self.currencies = list(currencies)  # only when neither BigCommerce nor the edge's kept copy can say
        self.location_map = dict(locations or {})
        self.price_lists = PriceListsApi(admin)
        self.inventory = InventoryApi(admin)
        self.prices_side = PriceSide(self.price_lists, batch_size)
        self.stock_side = InventorySide(self.inventory, batch_size)
        self._locations: tuple[float, dict[int, int]] | None = None

    def route(self, source: str, kind: str, data: dict[str, Any]) -> str | None:
        if source == "erp" and kind == events.PRICE_CHANGED:
            return entity("prices", self.store_hash)
        if source == "erp" and kind == events.STOCK_CHANGED:
            return entity("inventory", self.store_hash)
        return None

    async def handle(self, message: Message, token: str) -> None:
        if message.kind in (events.PRICE_CHANGED, events.STOCK_CHANGED):
            report = await self._event(message)
        elif message.kind in SYNC_KINDS.values():
            await self._sync_run(message)
            return
        else:
            raise PermanentError(f"{FLOW}: no handling for {message.kind}")
        log.info("%s %s: %s", message.kind, message.entity, report)

    async def _event(self, message: Message) -> PushReport:
        """The event's record with those queued behind it; if BigCommerce refuses that batch (a record of
        another event is bad), the event's own record alone: the bad one fails on its own turn, not theirs."""
        own = _record(events.price_from_data if message.kind == events.PRICE_CHANGED else events.stock_from_data,
                      message.data)
        behind = await self._queued_behind(message)
        try:
            return await self._push_records([own, *behind])
        except BigCommerceRejected:
            if not behind:
                raise
            log.warning("%s: BigCommerce refused a batch of queued events; writing %s's record alone",
                        message.entity, message.id)
            return await self._push_records([own])

    async def _push_records(self, records: Sequence[Any]) -> PushReport:
        if records and isinstance(records[0], StockLevel):
            return await push(self.stock_side, self.state, await self._stock_wanted(records))
        return await push(self.prices_side, self.state, [
            Wanted(bc_mirror.price_key(r.price_list_id, r.currency, r.sku), r.version, bc_mirror.price_payload(r))
            for r in records])

    async def _queued_behind(self, message: Message) -> list[Any]:
        """The records of the events of the same kind queued behind this one (up to a batch): written with it,
        so a burst of events costs one request per batch, and each of them, when its turn comes, finds its
        record already in BigCommerce and writes nothing. A bad one is left to fail on its own turn."""
        if self.queue is None:
            return []
        parse = events.price_from_data if message.kind == events.PRICE_CHANGED else events.stock_from_data
        records = []
        for raw in (await self.queue.queued(FLOW, message.entity, self.batch_size + 1))[1:]:
            try:
                queued = Message.decode(raw)
                if queued.kind != message.kind:
                    break  # a sync run: what follows it waits for it
                records.append(parse(queued.data))
            except (MessageError, EventDataError):
                continue
        return records

    async def failed(self, message: Message, reason: str, final: bool) -> None:
        log.warning("%s %s failed%s: %s", message.kind, message.entity, " for good" if final else "", reason)
        run = message.data.get("run") if message.source == SYNC_SOURCE else None
        if isinstance(run, str):
            await self._progress(run, "failed" if final else "retrying", error=reason)

    # --- sync runs ----------------------------------------------------------------------------

    async def _sync_run(self, message: Message) -> None:
        run, full = str(message.data.get("run") or message.id), bool(message.data.get("full"))
        kind = "prices" if message.kind == SYNC_KINDS["prices"] else "inventory"
        side = self.prices_side if kind == "prices" else self.stock_side
        if full:
            await self.state.forget(side.kind)
        await self._progress(run, "reading the ERP")
        wanted = await (self._erp_prices() if kind == "prices" else self._erp_stock())

        async def progress(phase: str, done: int, total: int) -> None:
            await self._progress(run, phase, done=done, total=total, compared=len(wanted))

        report = await push(side, self.state, wanted, progress)
        await self._progress(run, "done", done=report.written, total=report.written, report=report)
        log.info("sync %s%s: %s", kind, " (full)" if full else "", report)

    async def _erp_prices(self) -> list[Wanted]:
        wanted: list[Wanted] = []
        currencies = await store_currencies(self.store, self.admin, self.currencies)
        for price_list in await self.price_lists.price_lists():
            list_id = int(price_list["id"])
            for currency in currencies:
                try:
                    async for chunk in self.erp.iter_price_list(list_id, currency):
                        wanted.extend(Wanted(bc_mirror.price_key(r.price_list_id, r.currency, r.sku), r.version,
                                             bc_mirror.price_payload(r)) for r in chunk)
                except ErpNotFound:
                    log.warning("price list %d in %s is unknown to the ERP: not synced", list_id, currency)
        return wanted

    async def _erp_stock(self) -> list[Wanted]:
        levels: list[StockLevel] = []
        async for chunk in self.erp.iter_stock():
            levels.extend(chunk)
        return await self._stock_wanted(levels)

    async def _stock_wanted(self, levels: Sequence[StockLevel]) -> list[Wanted]:
        locations = await self._location_map()
        wanted, skipped = [], 0
        for level in levels:
            bc_location = bc_mirror.map_location(level, locations)
            if bc_location is None:
                skipped += 1
                continue
            wanted.append(Wanted(bc_mirror.stock_key(level.sku, bc_location), level.version,
                                 bc_mirror.stock_payload(level, bc_location)))
        if skipped:
            log.warning("%d stock level(s) at ERP locations BigCommerce has no location for: not synced", skipped)
        return wanted

    async def _location_map(self) -> dict[int, int]:
        """ERP location → BigCommerce location: the configured pairs whose BigCommerce location exists, else
        every BigCommerce location to itself (read at most every few minutes)."""
        now = time.monotonic()
        if self._locations is None or now - self._locations[0] > LOCATIONS_TTL:
            known = {int(loc["id"]) for loc in await self.inventory.locations() if loc.get("enabled", True)}
            chosen = ({erp: bc for erp, bc in self.location_map.items() if bc in known} if self.location_map
                      else {bc: bc for bc in known})
            self._locations = (now, chosen)
        return self._locations[1]

    async def _progress(self, run: str, phase: str, *, done: int = 0, total: int = 0, compared: int = 0,
                        report: PushReport | None = None, error: str = "") -> None:
        body = {"phase": phase, "done": done, "total": total, "compared": compared,
                "report": asdict(report) if report else None, "error": error, "at": time.time()}
        await self.store.set_value(progress_key(run), orjson.dumps(body), PROGRESS_TTL)


def _record(parse: Any, data: dict[str, Any]) -> Any:
    try:
        return parse(data)
    except EventDataError as exc:
        raise PermanentError(f"{FLOW}: bad event data: {exc}") from exc
