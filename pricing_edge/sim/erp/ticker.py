"""A ticker that keeps the ERP moving: random price and stock changes at a set rate.

It exists so a demo (and a load test) sees a live ERP: events flowing, caches invalidating. Which
records change, and to what, follows a seeded RNG, so a run is reproducible in content if not in
timing. Every tick goes through the same validated change path and outbox as a manual change.
"""
from __future__ import annotations

import asyncio
import logging
import random
from decimal import Decimal
from typing import Protocol

from pricing_edge.domain import events
from pricing_edge.domain.money import quantize
from pricing_edge.runtime import cancel_and_wait
from pricing_edge.sim.erp.outbox import OutboxEntry
from pricing_edge.sim.erp.state import ErpState


class RecordSignals(Protocol):
    def emit(self, record: events.Record) -> OutboxEntry | None: ...

MAX_RATE = 1000.0
log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, state: ErpState, outbox: RecordSignals, *, seed: int, rate: float = 0.0) -> None:
        self.state = state
        self.outbox = outbox
        self.rng = random.Random(f"erp-ticker-{seed}")
        self.rate = 0.0
        self.changes = 0
        self._wanted = rate
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start at the rate given at construction (called from the app's lifespan)."""
        self.set_rate(self._wanted)

    def set_rate(self, rate: float) -> None:
        """Changes per second; 0 stops. Needs a running event loop when ``rate`` > 0."""
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= MAX_RATE:
            raise ValueError(f"rate must be a number of changes per second between 0 and {MAX_RATE:g}")
        self.rate = float(rate)
        self._wanted = self.rate
        if self._task is not None:  # restart so a new rate applies now, not after the old interval
            self._task.cancel()
            self._task = None
        if self.rate > 0:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="erp-ticker")

    def tick(self) -> events.Record:
        """Make one random change (a price three times out of five, else a stock level) and emit it."""
        record: events.Record
        sku = self.rng.choice(self.state.skus)
        if self.rng.random() < 0.6:
            price_list = self.rng.choice(self.state.dataset.price_lists).id
            currency = self.rng.choice(self.state.currencies)
            current = self.state.dataset.prices.get(price_list, sku, currency)
            factor = Decimal(1) + Decimal(self.rng.randint(-50, 50)) / 1000
            patch: dict[str, object] = {"price_list_id": price_list, "sku": sku, "currency": currency}
            if current is not None:
                patch["price"] = _scaled(current.price, factor)
                if current.sale_price is not None:
                    patch["sale_price"] = _scaled(current.sale_price, factor)
                if current.bulk_tiers:
                    patch["bulk_pricing"] = [
                        {"min_quantity": t.min_quantity, "price": _scaled(t.amount, factor)}
                        | ({"max_quantity": t.max_quantity} if t.max_quantity is not None else {})
                        for t in current.bulk_tiers]
            record = self.state.change_price(patch)
        else:
            location = self.rng.choice(self.state.dataset.locations).id
            level = self.state.dataset.stock.get((sku, location))
            on_hand = max(0, (level.on_hand if level else 0) + self.rng.randint(-10, 10))
            record = self.state.change_stock({"sku": sku, "location_id": location, "on_hand": on_hand})
        self.outbox.emit(record)
        self.changes += 1
        return record

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self.rate > 0:
            next_at += 1 / self.rate
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1:  # fell far behind (a paused process): do not burst to catch up
                next_at = loop.time()
            if self.rate > 0:
                try:
                    self.tick()
                except Exception:  # one bad tick must not stop the ticker for the rest of the demo
                    log.exception("ERP ticker change failed")

    async def aclose(self) -> None:
        self.rate = 0.0
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None


def _scaled(amount: Decimal, factor: Decimal) -> str:
    return events.money_str(max(Decimal("0.01"), quantize(amount * factor)))
