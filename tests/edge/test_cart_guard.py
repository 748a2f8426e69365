"""The cart guard: BigCommerce's cart mutations reserved, adjusted and released around the upstream call.

Fake lookups (plain async functions over dataset-like stock), the reservation stores real: embedded and
a real Redis; "Redis down" is a Redis client pointed at a port nobody listens on.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.reservations import KnownStock
from pricing_edge.edge.cart_guard import IDENTITY_SELECTION, PROVISIONAL, CartGuard, Proceed, Refuse
from pricing_edge.edge.line_skus import SkuUnavailable
from pricing_edge.store.reservations import RedisReservations, ReservationStore
from tests.support.redis_server import free_port, own_redis_server

# Like the dataset's "exactly ten available" product: (8 − 2) + (5 − 1) + 0 over three warehouses.
STOCK: dict[str, Sequence[StockLevel] | KnownStock] = {
    "TEN": [StockLevel("TEN", 1, 8, allocated=2), StockLevel("TEN", 2, 5, safety_stock=1), StockLevel("TEN", 3, 0)],
    "BIG": [StockLevel("BIG", 1, 500)],
    "BACK": [StockLevel("BACK", 1, 0, backorder=True, lead_time_days=7)],
    "STALE": KnownStock((StockLevel("STALE", 1, 4, backorder=True),), stale=True),
}
SKUS = {(1, None): "TEN", (1, 11): "TEN", (2, None): "BIG", (3, None): "BACK", (4, None): "STALE",
        (5, None): "UNTRACKED"}


async def stock_lookup(skus: list[str]) -> Mapping[str, Sequence[StockLevel] | KnownStock]:
    return {sku: STOCK[sku] for sku in skus if sku in STOCK}


async def sku_lookup(line: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    if line.get("productEntityId") == 66:
        raise SkuUnavailable("BigCommerce is down")
    return SKUS.get((line.get("productEntityId") or 0, line.get("variantEntityId")))


@pytest.fixture
def counted() -> list[str]:
    return []


@pytest.fixture
def refusals() -> list[str]:
    return []


@pytest.fixture
def guard(reservations: ReservationStore, counted: list[str], refusals: list[str]) -> CartGuard:
    return CartGuard(reservations, stock_lookup, sku_lookup, ttl=600, redis_down_factor=5,
                     metrics_counter_callable=counted.append, refusal_counter=refusals.append)


def line(product: int, quantity: int, variant: int | None = None) -> dict[str, Any]:
    return {"quantity": quantity, "productEntityId": product, "variantEntityId": variant}


def cart_answer(cart_id: str, *items: tuple[str, str, int]) -> dict[str, Any]:
    """The mutation's payload as BigCommerce returns it with IDENTITY_SELECTION: (line id, sku, quantity)."""
    physical = [{"entityId": lid, "sku": sku, "quantity": q} for lid, sku, q in items]
    return {"cart": {"entityId": cart_id, "lineItems": {"physicalItems": physical}}}


async def proceed(guard: CartGuard, mutation: str, input: dict[str, Any]) -> Proceed:  # noqa: A002
    decision = await guard.check(mutation, input)
    assert isinstance(decision, Proceed), decision
    return decision


async def make_cart(guard: CartGuard, cart_id: str, quantity: int, line_id: str = "l1") -> None:
    decision = await proceed(guard, "createCart", {"lineItems": [line(1, quantity)]})
    await decision.commit(cart_answer(cart_id, (line_id, "TEN", quantity)))


async def test_create_cart_reserves_under_a_provisional_holder_then_commit_attaches_the_cart_id(
        guard: CartGuard, reservations: ReservationStore) -> None:
    decision = await proceed(guard, "createCart", {"lineItems": [line(1, 2), line(1, 1, 11), line(2, 4)]})
    assert decision.holder is not None and decision.holder.startswith(PROVISIONAL)
    assert await reservations.holdings(decision.holder) == {"TEN": 3, "BIG": 4}
    await decision.commit(cart_answer("c1", ("l1", "TEN", 3), ("l2", "BIG", 4)))
    assert await reservations.holdings(decision.holder) == {}
    assert await reservations.holdings("c1") == {"TEN": 3, "BIG": 4}


async def test_failed_upstream_rolls_back(guard: CartGuard, reservations: ReservationStore) -> None:
    decision = await proceed(guard, "createCart", {"lineItems": [line(1, 5)]})
    await decision.rollback()
    assert await reservations.reserved("TEN") == 0
    await make_cart(guard, "c1", 2)
    add = await proceed(guard, "addCartLineItems", {"cartEntityId": "c1", "data": {"lineItems": [line(1, 3)]}})
    await add.commit(None)  # no payload: the upstream failed
    assert await reservations.holdings("c1") == {"TEN": 2}


async def test_add_beyond_atp_is_refused_with_bigcommerces_prefix_and_reserves_nothing(
        guard: CartGuard, reservations: ReservationStore) -> None:
    await make_cart(guard, "c1", 7)
    decision = await guard.check("addCartLineItems", {"cartEntityId": "c2",
                                                      "data": {"lineItems": [line(2, 1), line(1, 4)]}})
    assert isinstance(decision, Refuse)
    assert decision.message == "Not enough stock: TEN is limited to 3 units."
    assert await reservations.holdings("c2") == {}  # the BIG line taken first was given back
    assert await reservations.reserved("BIG") == 0
    error = decision.error(["cart", "addCartLineItems"], [{"line": 2, "column": 3}])
    assert error == {"message": decision.message, "locations": [{"line": 2, "column": 3}],
                     "path": ["cart", "addCartLineItems"]}


async def test_500_concurrent_add_to_carts_for_10_units_let_exactly_10_through(
        guard: CartGuard, reservations: ReservationStore) -> None:
    decisions = await asyncio.gather(*(
        guard.check("addCartLineItems", {"cartEntityId": f"c{i}", "data": {"lineItems": [line(1, 1)]}})
        for i in range(500)))
    assert sum(isinstance(d, Proceed) for d in decisions) == 10
    assert await reservations.reserved("TEN") == 10


async def test_update_raises_by_the_difference_or_is_refused(guard: CartGuard, reservations: ReservationStore) -> None:
    await make_cart(guard, "c1", 3)
    await make_cart(guard, "c2", 5, line_id="m1")
    update = {"cartEntityId": "c1", "lineItemEntityId": "l1", "data": {"lineItem": line(1, 5)}}
    decision = await proceed(guard, "updateCartLineItem", update)
    assert decision.taken == [("TEN", 2)]
    await decision.commit(cart_answer("c1", ("l1", "TEN", 5)))
    assert await reservations.holdings("c1") == {"TEN": 5}
    refused = await guard.check("updateCartLineItem", {**update, "data": {"lineItem": line(1, 6)}})
    assert isinstance(refused, Refuse) and refused.message.startswith("Not enough stock:")
    assert await reservations.holdings("c1") == {"TEN": 5}


async def test_update_down_is_applied_only_once_bigcommerce_answered(
        guard: CartGuard, reservations: ReservationStore) -> None:
    await make_cart(guard, "c1", 6)
    decision = await proceed(guard, "updateCartLineItem", {"cartEntityId": "c1", "lineItemEntityId": "l1",
                                                           "data": {"lineItem": line(1, 2)}})
    assert await reservations.holdings("c1") == {"TEN": 6}
    await decision.commit(cart_answer("c1", ("l1", "TEN", 2)))
    assert await reservations.holdings("c1") == {"TEN": 2}


async def test_update_of_an_unknown_line_asks_sku_lookup_and_takes_the_carts_hold_as_the_line(
        reservations: ReservationStore, counted: list[str]) -> None:
    first = CartGuard(reservations, stock_lookup, sku_lookup, ttl=600)
    await make_cart(first, "c1", 3)
    other_edge = CartGuard(reservations, stock_lookup, sku_lookup, ttl=600)  # never saw line l1
    decision = await proceed(other_edge, "updateCartLineItem", {"cartEntityId": "c1", "lineItemEntityId": "l1",
                                                                "data": {"lineItem": line(1, 8)}})
    assert decision.taken == [("TEN", 5)]
    assert await reservations.holdings("c1") == {"TEN": 8}


async def test_delete_line_item_releases_on_commit(guard: CartGuard, reservations: ReservationStore) -> None:
    decision = await proceed(guard, "createCart", {"lineItems": [line(1, 2), line(2, 3)]})
    await decision.commit(cart_answer("c1", ("l1", "TEN", 2), ("l2", "BIG", 3)))
    delete = await proceed(guard, "deleteCartLineItem", {"cartEntityId": "c1", "lineItemEntityId": "l1"})
    assert await reservations.holdings("c1") == {"TEN": 2, "BIG": 3}
    await delete.commit({"deletedLineItemEntityId": "l1", **cart_answer("c1", ("l2", "BIG", 3))})
    assert await reservations.holdings("c1") == {"BIG": 3}


async def test_delete_of_an_unknown_line_reconciles_from_the_answer(reservations: ReservationStore) -> None:
    await make_cart(CartGuard(reservations, stock_lookup, sku_lookup, ttl=600), "c1", 4)
    stranger = CartGuard(reservations, stock_lookup, sku_lookup, ttl=600)
    delete = await proceed(stranger, "deleteCartLineItem", {"cartEntityId": "c1", "lineItemEntityId": "l1"})
    await delete.commit({"deletedLineItemEntityId": "l1", "deletedCartEntityId": None,
                         **cart_answer("c1", ("l9", "BIG", 1))})
    assert await reservations.holdings("c1") == {}


async def test_deleting_the_last_line_or_the_cart_releases_the_cart(
        guard: CartGuard, reservations: ReservationStore) -> None:
    await make_cart(guard, "c1", 4)
    delete = await proceed(guard, "deleteCartLineItem", {"cartEntityId": "c1", "lineItemEntityId": "l1"})
    await delete.commit({"deletedLineItemEntityId": "l1", "cart": None, "deletedCartEntityId": "c1"})
    assert await reservations.reserved("TEN") == 0
    await make_cart(guard, "c2", 4, line_id="m1")
    drop = await proceed(guard, "deleteCart", {"cartEntityId": "c2"})
    assert await reservations.reserved("TEN") == 4  # not before BigCommerce said yes
    await drop.commit({"deletedCartEntityId": "c2"})
    assert await reservations.reserved("TEN") == 0


async def test_backorder_and_stale_stock(guard: CartGuard, reservations: ReservationStore) -> None:
    await proceed(guard, "addCartLineItems", {"cartEntityId": "c1", "data": {"lineItems": [line(3, 1000)]}})
    assert await reservations.reserved("BACK") == 1000  # recorded, never refused
    refused = await guard.check("addCartLineItems", {"cartEntityId": "c1", "data": {"lineItems": [line(4, 5)]}})
    assert isinstance(refused, Refuse)  # stale: last known 4 bounds it, backorder or not
    passed = await proceed(guard, "addCartLineItems", {"cartEntityId": "c1", "data": {"lineItems": [line(99, 1)]}})
    assert passed.taken == []  # BigCommerce knows no such item: it refuses the line itself


async def test_stock_unknown_after_the_budget_is_refused_and_counted(
        guard: CartGuard, reservations: ReservationStore, refusals: list[str]) -> None:
    refused = await guard.check("addCartLineItems", {"cartEntityId": "c1",
                                                     "data": {"lineItems": [line(1, 1), line(5, 3)]}})
    assert isinstance(refused, Refuse)
    assert refused.message.startswith("Not enough stock: UNTRACKED")
    assert await reservations.reserved("TEN") == 0  # nothing of the mutation was held
    assert refusals == ["stock_unknown"]


async def test_a_line_whose_sku_bigcommerce_cannot_name_now_is_refused_and_counted(
        guard: CartGuard, refusals: list[str]) -> None:
    refused = await guard.check("createCart", {"lineItems": [line(66, 1)]})
    assert isinstance(refused, Refuse) and refused.message.startswith("Not enough stock:")
    assert refusals == ["sku_unavailable"]


async def test_redis_down_applies_the_factor_rule_and_counts_it(counted: list[str]) -> None:
    down = RedisReservations(f"redis://127.0.0.1:{free_port()}/0", "pe-test:", socket_timeout=0.5)
    guard = CartGuard(down, stock_lookup, sku_lookup, redis_down_factor=5, metrics_counter_callable=counted.append)
    try:
        ok = await proceed(guard, "addCartLineItems", {"cartEntityId": "c1", "data": {"lineItems": [line(1, 2)]}})
        assert ok.degraded
        await ok.commit(cart_answer("c1", ("l1", "TEN", 2)))  # commit never raises for a store failure
        refused = await guard.check("createCart", {"lineItems": [line(1, 3)]})
        assert isinstance(refused, Refuse)  # 2 already promised while down: ⌊10 ÷ 5⌋ − 2 = 0 left
        assert refused.message == "Not enough stock: TEN is out of stock."
        update = await guard.check("updateCartLineItem", {"cartEntityId": "c1", "lineItemEntityId": "l1",
                                                          "data": {"lineItem": line(1, 3)}})
        assert isinstance(update, Refuse)  # the line's new quantity must be covered 5×
        assert counted == ["passed", "refused", "refused"]
    finally:
        await down.aclose()


def test_identity_selection_covers_every_cart_mutation() -> None:
    assert set(IDENTITY_SELECTION) == {"createCart", "addCartLineItems", "updateCartLineItem",
                                       "deleteCartLineItem", "deleteCart"}


async def test_redis_down_keeps_a_running_total_from_the_reservations_last_seen(redis_url: str, redis_prefix: str,
                                                                                  counted: list[str]) -> None:
    """200 concurrent carts for 10 units with Redis unreachable: ⌊10 ÷ 5⌋ pass in this process, not 200; a
    SKU this process last saw fully reserved passes none; what passed is held in Redis once it is back."""
    with own_redis_server() as server:
        reservations = RedisReservations(server.url, redis_prefix, socket_timeout=0.5)
        guard = CartGuard(reservations, stock_lookup, sku_lookup, redis_down_factor=5, metrics_counter_callable=counted.append)
        try:
            await make_cart(guard, "full", 10)  # seen: TEN fully reserved
            await guard.check("deleteCart", {"cartEntityId": "full"})  # (not committed: still held)
            server.stop()
            assert isinstance(await guard.check("createCart", {"lineItems": [line(1, 1)]}), Refuse)
            guard.redis_down.last_seen.clear()  # as a process that never saw TEN held
            decisions = await asyncio.gather(*(guard.check("createCart", {"lineItems": [line(1, 1)]}) for _ in range(200)))
            passed = [d for d in decisions if isinstance(d, Proceed)]
            assert len(passed) == 2 and all(d.degraded for d in passed)
            await passed[0].commit(cart_answer("down-1", ("x1", "TEN", 1)))
            await passed[1].rollback()  # BigCommerce refused that one: it no longer counts
            assert isinstance(await guard.check("createCart", {"lineItems": [line(1, 1)]}), Proceed)
            assert counted.count("passed") == 3  # the rest refused (by the rule, or as busy while the pool waited)
            server.start()
            await guard.redis_down.try_write_back(reservations, 600)
            assert await reservations.holdings("down-1") == {"TEN": 1}
            assert guard.redis_down.pending == [] and guard.redis_down.promised == {}
        finally:
            await reservations.aclose()


async def test_a_busy_redis_is_not_redis_down_it_refuses(redis_url: str, redis_prefix: str,
                                                         refusals: list[str], counted: list[str]) -> None:
    """Pool exhausted under load: refused ("Not enough stock:"), counted as store_busy, never the 5× rule."""
    reservations = RedisReservations(redis_url, redis_prefix, socket_timeout=0.2, max_connections=1)
    guard = CartGuard(reservations, stock_lookup, sku_lookup, redis_down_factor=1, refusal_counter=refusals.append,
                      metrics_counter_callable=counted.append)
    pool = reservations.client.connection_pool
    held = await pool.get_connection()  # the one pooled connection, busy elsewhere
    try:
        refused = await guard.check("createCart", {"lineItems": [line(2, 1)]})
        assert isinstance(refused, Refuse) and refused.message.startswith("Not enough stock: BIG")
        assert refusals == ["store_busy"] and counted == []
    finally:
        await pool.release(held)
        await reservations.aclose()
