"""Soft reservations around BigCommerce's five cart mutations, decided before the edge forwards them.

Why before: a refusal must forward nothing (BigCommerce's cart stays as it was) and 500 buyers racing
for the last 10 units must not all reach BigCommerce, whose stock copy lags the ERP. So raises
(create, add, update up) are reserved atomically *before* forwarding and rolled back if the upstream
fails; decreases (update down, delete line, delete cart) are applied only on ``commit``, once
BigCommerce said yes — releasing early and failing to re-reserve on rollback would leave a cart
holding unreserved stock.

Holders are cart ids; lines are keyed by (cart, SKU), summing lines of one SKU. A line's SKU is resolved
before the decision (``edge/line_skus.py``: from what this process served, else from BigCommerce, with
the variant ``selectedOptions`` pick). ``createCart`` has no
cart id yet: it holds under a provisional id that ``commit`` renames to BigCommerce's. Update and
delete name a ``lineItemEntityId``; the guard learns id → (SKU, quantity) from every answer it sees
(``commit``, ``observe_cart``). Unknown id (another edge process made the line, or a restart):
update asks ``sku_lookup`` with the input's product/variant and takes the cart's current hold on that
SKU as the line's quantity (right for the usual one line per SKU); delete passes through, and
``commit`` reconciles from the answer: every hold is lowered to the quantity the returned cart has.
Reconciliation only lowers — raising needs a stock check, which is what the next add does.

Zero oversell: stock still unknown after the ERP budget, a SKU BigCommerce could not be asked about, or
Redis too busy to answer in time (``StoreBusy``: a timeout or an exhausted pool, i.e. load) ⇒ refused
with BigCommerce's "Not enough stock:" error, counted by reason. A line BigCommerce itself knows no item
for passes through (BigCommerce refuses it). Only a real connection failure (``StoreError``) is "Redis
down": DESIGN.md's factor rule with this process's running total (``edge/redis_down.py``), counted.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.reservations import (
    DEFAULT_REDIS_DOWN_FACTOR, DEFAULT_RESERVATION_TTL_SECONDS, KnownStock, not_enough_stock_message,
    promisable, stock_unconfirmed_message,
)
from pricing_edge.edge.line_skus import SkuUnavailable
from pricing_edge.edge.redis_down import RedisDownTotals
from pricing_edge.store.base import StoreBusy, StoreError
from pricing_edge.store.reservations import ReservationStore

log = logging.getLogger(__name__)

StockLookup = Callable[[list[str]], Awaitable[Mapping[str, Sequence[StockLevel] | KnownStock]]]
# (line input, the buyer's headers for BigCommerce) -> SKU; None: no such item; raises SkuUnavailable.
SkuLookup = Callable[[Mapping[str, Any], Mapping[str, str]], Awaitable[str | None]]
MetricsCounter = Callable[[str], None]  # called with "passed" or "refused" when the Redis-down rule decides
RefusalCounter = Callable[[str], None]  # called with the reason: stock_unknown, sku_unavailable, store_busy
ChangeListener = Callable[[Sequence[str]], None]  # SKUs whose reservations changed (shown stock follows)

_CART_LINES = ("cart { entityId currencyCode lineItems { physicalItems { entityId sku quantity productEntityId "
               "variantEntityId listPrice { value } } } }")
# What the edge must add to a forwarded mutation's selection (and strip from the answer) for ``commit``.
IDENTITY_SELECTION: dict[str, str] = {
    "createCart": _CART_LINES, "addCartLineItems": _CART_LINES, "updateCartLineItem": _CART_LINES,
    "deleteCartLineItem": f"deletedCartEntityId {_CART_LINES}", "deleteCart": "deletedCartEntityId",
}
CART_MUTATIONS = frozenset(IDENTITY_SELECTION)
PROVISIONAL = "provisional:"


@dataclass(frozen=True)
class Refuse:
    """Forward nothing; answer a GraphQL error with ``message`` (it starts with "Not enough stock:")."""

    message: str

    def error(self, path: Sequence[str | int], locations: Sequence[Mapping[str, int]] | None = None) -> dict[str, Any]:
        """One entry of ``errors`` as BigCommerce words it: message, locations, path (data at path is null)."""
        found: dict[str, Any] = {"message": self.message}
        if locations:
            found["locations"] = [dict(loc) for loc in locations]
        found["path"] = list(path)
        return found


@dataclass(frozen=True)
class _Line:
    cart_id: str
    sku: str
    quantity: int


@dataclass(eq=False)
class Proceed:
    """Forward the mutation, then call ``commit(payload)`` with its answer, or ``rollback()`` if it failed.

    ``payload`` is the mutation field's value (``data.cart.<mutation>``) including IDENTITY_SELECTION;
    ``commit(None)`` is a rollback. Both are idempotent and never raise for a store failure (holds
    then simply expire).
    """

    guard: CartGuard
    holder: str | None
    taken: list[tuple[str, int]] = field(default_factory=list)  # raised before forwarding: (sku, quantity)
    release_after: list[tuple[str, int]] = field(default_factory=list)  # lowered on commit: (sku, quantity)
    release_holder_after: bool = False
    provisional: bool = False
    degraded: bool = False  # the Redis-down rule decided: nothing was reserved, ``taken`` was promised
    _done: bool = False

    async def commit(self, payload: Mapping[str, Any] | None) -> None:
        if payload is None:
            await self.rollback()
            return
        if self._done:
            return
        self._done = True
        cart = payload.get("cart") if isinstance(payload.get("cart"), Mapping) else None
        cart_id = cart.get("entityId") if cart else None
        holder = self.holder
        if self.degraded:
            if isinstance(cart_id, str) and cart_id:
                self.guard.redis_down.taken(cart_id, self.taken)
            if cart is not None:
                self.guard.observe_cart(cart)
            return
        self.guard.changed([sku for sku, _ in [*self.taken, *self.release_after]])
        try:
            if self.provisional and holder is not None:
                if isinstance(cart_id, str) and cart_id:
                    await self.guard.reservations.rename_holder(holder, cart_id)
                    holder = cart_id
                else:  # no id to attach to: the hold stays (conservative) until it expires
                    log.warning("createCart answer without cart.entityId: provisional hold %s left to expire", holder)
            deleted = payload.get("deletedCartEntityId")
            if isinstance(deleted, str) and deleted:
                self.guard.changed(list(await self.guard.reservations.holdings(deleted)))
                await self.guard.reservations.release_holder(deleted)
                self.guard.forget_cart(deleted)
                return
            if holder is not None:
                if self.release_holder_after:
                    self.guard.changed(list(await self.guard.reservations.holdings(holder)))
                for sku, quantity in self.release_after:
                    await self.guard.reservations.release(sku, holder, quantity)
                if self.release_holder_after:
                    await self.guard.reservations.release_holder(holder)
            if cart is not None:
                lines = self.guard.observe_cart(cart)
                if lines is not None and holder is not None and holder == cart_id:
                    await self.guard.reconcile(holder, lines)
        except StoreError as exc:
            log.warning("reservation commit for %s failed, holds expire by themselves: %s", holder, exc)

    async def rollback(self) -> None:
        if self._done:
            return
        self._done = True
        if self.degraded:
            self.guard.redis_down.withdraw(self.taken)
            return
        if self.holder is None:
            return
        self.guard.changed([sku for sku, _ in self.taken])
        try:
            if self.provisional:
                await self.guard.reservations.release_holder(self.holder)
            else:
                for sku, quantity in self.taken:
                    await self.guard.reservations.release(sku, self.holder, quantity)
        except StoreError as exc:
            log.warning("reservation rollback for %s failed, holds expire by themselves: %s", self.holder, exc)


class CartGuard:
    """Decides each cart mutation against available-to-promise before the edge forwards it."""

    def __init__(self, reservations: ReservationStore, stock_lookup: StockLookup, sku_lookup: SkuLookup, *,
                 ttl: float = DEFAULT_RESERVATION_TTL_SECONDS, redis_down_factor: float = DEFAULT_REDIS_DOWN_FACTOR,
                 metrics_counter_callable: MetricsCounter | None = None, refusal_counter: RefusalCounter | None = None,
                 on_change: ChangeListener | None = None, max_known_lines: int = 100_000) -> None:
        self.reservations = reservations
        self.stock_lookup = stock_lookup
        self.sku_lookup = sku_lookup
        self.ttl = ttl
        self.redis_down_factor = redis_down_factor
        self.redis_down = RedisDownTotals(redis_down_factor)
        self.count = metrics_counter_callable or (lambda outcome: None)
        self.count_refusal = refusal_counter or (lambda reason: None)
        self.changed = on_change or (lambda skus: None)
        self._lines: TTLCache[str, _Line] = TTLCache(maxsize=max_known_lines, ttl=max(ttl, 1.0) * 2)

    async def check(self, mutation: str, input: Mapping[str, Any],  # noqa: A002
                    headers: Mapping[str, str] | None = None) -> Proceed | Refuse:
        """Reserve what ``mutation`` (a ``cart`` field name) with its coerced ``input`` raises; plan what it lowers.

        ``headers``: the buyer's, as forwarded to BigCommerce (to ask it a line's SKU)."""
        await self.redis_down.try_write_back(self.reservations, self.ttl)
        headers = headers or {}
        if mutation == "createCart":
            return await self._raise(f"{PROVISIONAL}{uuid.uuid4().hex}", input.get("lineItems"), headers,
                                     provisional=True)
        cart_id = input.get("cartEntityId")
        if not isinstance(cart_id, str):
            return Proceed(self, None)
        if mutation == "addCartLineItems":
            return await self._raise(cart_id, (input.get("data") or {}).get("lineItems"), headers)
        if mutation == "updateCartLineItem":
            return await self._update(cart_id, input, headers)
        if mutation == "deleteCartLineItem":
            known = self._lines.get(str(input.get("lineItemEntityId")))
            after = [(known.sku, known.quantity)] if known and known.cart_id == cart_id else []
            return Proceed(self, cart_id, release_after=after)
        if mutation == "deleteCart":
            return Proceed(self, cart_id, release_holder_after=True)
        return Proceed(self, None)

    def observe_cart(self, cart: Mapping[str, Any]) -> dict[str, int] | None:
        """Learn line id → (SKU, quantity) from a cart answer; the cart's quantity per SKU, None if unreadable."""
        cart_id = cart.get("entityId")
        items = (cart.get("lineItems") or {}).get("physicalItems") if isinstance(cart.get("lineItems"), Mapping) else None
        if not isinstance(cart_id, str) or not isinstance(items, list):
            return None
        totals: dict[str, int] = {}
        complete = True
        for item in items:
            sku, quantity, line_id = item.get("sku"), item.get("quantity"), item.get("entityId")
            if not isinstance(sku, str) or not isinstance(quantity, int):
                complete = False
                continue
            totals[sku] = totals.get(sku, 0) + quantity
            if isinstance(line_id, str):
                self._lines[line_id] = _Line(cart_id, sku, quantity)
        return totals if complete else None

    def forget_cart(self, cart_id: str) -> None:
        for line_id in [k for k, line in self._lines.items() if line.cart_id == cart_id]:
            self._lines.pop(line_id, None)

    async def reconcile(self, holder: str, cart_totals: Mapping[str, int]) -> None:
        """Lower every hold of ``holder`` to what BigCommerce's answer says the cart has (never raise)."""
        for sku, held in (await self.reservations.holdings(holder)).items():
            excess = held - cart_totals.get(sku, 0)
            if excess > 0:
                await self.reservations.release(sku, holder, excess)

    def _refuse(self, reason: str, message: str) -> Refuse:
        self.count_refusal(reason)
        return Refuse(message)

    async def _wanted(self, lines: Any, headers: Mapping[str, str]) -> dict[str, int] | Refuse:
        wants: dict[str, int] = {}
        for line in lines if isinstance(lines, list) else []:
            quantity = line.get("quantity") if isinstance(line, Mapping) else None
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
                continue  # BigCommerce rejects it itself
            try:
                sku = await self.sku_lookup(line, headers)
            except SkuUnavailable as exc:
                log.warning("cannot resolve a cart line's SKU, refusing it: %s", exc)
                label = f"product {line.get('productEntityId') or line.get('variantEntityId')}"
                return self._refuse("sku_unavailable", stock_unconfirmed_message(label))
            if sku is not None:
                wants[sku] = wants.get(sku, 0) + quantity
        return wants

    async def _raise(self, holder: str, lines: Any, headers: Mapping[str, str], *,
                     provisional: bool = False) -> Proceed | Refuse:
        wants = await self._wanted(lines, headers)
        if isinstance(wants, Refuse):
            return wants
        return await self._reserve(holder, wants, provisional=provisional)

    async def _update(self, cart_id: str, input: Mapping[str, Any],  # noqa: A002
                      headers: Mapping[str, str]) -> Proceed | Refuse:
        line = (input.get("data") or {}).get("lineItem") or {}
        new = line.get("quantity")
        if not isinstance(new, int) or isinstance(new, bool) or new < 0:
            return Proceed(self, cart_id)
        known = self._lines.get(str(input.get("lineItemEntityId")))
        if known is not None and known.cart_id == cart_id:
            sku, old = known.sku, known.quantity
        else:
            try:
                found = await self.sku_lookup(line, headers)
            except SkuUnavailable as exc:
                log.warning("cannot resolve a cart line's SKU, refusing the update: %s", exc)
                return self._refuse("sku_unavailable", stock_unconfirmed_message(f"line {input.get('lineItemEntityId')}"))
            if found is None:
                return Proceed(self, cart_id)  # nothing to key on: commit reconciles from the answer
            sku = found
            try:
                old = (await self.reservations.holdings(cart_id)).get(sku, 0)
            except StoreBusy as exc:
                log.warning("reservations too busy to answer, refusing: %s", exc)
                return self._refuse("store_busy", stock_unconfirmed_message(sku))
            except StoreError:
                return self._redis_down({sku: new}, await self._stock([sku]))
        if new <= old:
            return Proceed(self, cart_id, release_after=[(sku, old - new)] if new < old else [])
        return await self._reserve(cart_id, {sku: new - old}, rule_quantities={sku: new})

    async def _stock(self, skus: list[str]) -> dict[str, KnownStock]:
        found = await self.stock_lookup(skus) if skus else {}
        return {sku: KnownStock.of(value) for sku, value in found.items() if value}

    async def _reserve(self, holder: str, wants: dict[str, int], *, provisional: bool = False,
                       rule_quantities: dict[str, int] | None = None) -> Proceed | Refuse:
        stock = await self._stock(list(wants))
        for sku in wants:
            known = stock.get(sku)
            if known is None or not known.levels:  # not confirmed within the ERP budget: never promised blind
                return self._refuse("stock_unknown", stock_unconfirmed_message(sku))
        taken: list[tuple[str, int]] = []
        done = Proceed(self, holder, taken=taken, provisional=provisional)
        for sku, quantity in wants.items():
            known = stock[sku]
            bound = promisable(known.levels, stale=known.stale)
            try:
                ok, total = await self.reservations.reserve_counted(sku, holder, quantity, bound, self.ttl)
            except StoreBusy as exc:
                log.warning("reservations too busy to answer, refusing: %s", exc)
                await done.rollback()
                return self._refuse("store_busy", stock_unconfirmed_message(sku))
            except StoreError as exc:
                log.warning("reservations unavailable, Redis-down rule applies: %s", exc)
                await done.rollback()
                return self._redis_down(rule_quantities or wants, stock)
            self.redis_down.seen({sku: total})
            if not ok:
                await done.rollback()
                return Refuse(not_enough_stock_message(sku, await self._room(sku, holder, bound)))
            taken.append((sku, quantity))
        return done

    async def _room(self, sku: str, holder: str, bound: int | None) -> int:
        """What this cart could hold in all, for the message: promisable less everyone else's holds."""
        if bound is None:
            return 0
        try:
            others = await self.reservations.reserved(sku) - (await self.reservations.holdings(holder)).get(sku, 0)
        except StoreError:
            others = 0
        return max(0, bound - others)

    def _redis_down(self, quantities: Mapping[str, int], stock: Mapping[str, KnownStock]) -> Proceed | Refuse:
        """DESIGN.md's factor rule against this process's running total (``edge/redis_down.py``)."""
        refused = self.redis_down.promise(quantities, stock)
        if refused is not None:
            self.count("refused")
            return Refuse(not_enough_stock_message(*refused))
        self.count("passed")
        return Proceed(self, None, taken=list(quantities.items()), degraded=True)
