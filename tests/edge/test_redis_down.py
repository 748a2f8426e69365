"""The Redis-down running total of one edge process: it starts from the reservations last seen, counts what
it promises, forgets what BigCommerce refused, and writes back what was taken once Redis answers."""
from __future__ import annotations

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.reservations import KnownStock
from pricing_edge.edge.redis_down import RedisDownTotals
from pricing_edge.store.reservations import EmbeddedReservations

TWENTY = {"S": KnownStock((StockLevel("S", 1, 20),))}  # ⌊20 ÷ 5⌋ = 4 may be promised without Redis
BACKORDER = {"B": KnownStock((StockLevel("B", 1, 0, backorder=True),))}


def test_the_total_starts_from_what_was_last_seen_held() -> None:
    totals = RedisDownTotals(factor=5)
    totals.seen({"S": 3})
    assert totals.promise({"S": 1}, TWENTY) is None
    assert totals.promise({"S": 1}, TWENTY) == ("S", 0)  # 3 held + 1 promised = the 4 allowed


def test_promises_add_up_and_a_refused_one_is_withdrawn() -> None:
    totals = RedisDownTotals(factor=5)
    assert [totals.promise({"S": 1}, TWENTY) for _ in range(6)] == [None] * 4 + [("S", 0)] * 2
    totals.withdraw([("S", 2)])
    assert totals.promise({"S": 2}, TWENTY) is None and totals.room("S", TWENTY["S"]) == 0


def test_unknown_stock_is_refused_and_fresh_backorder_has_no_limit() -> None:
    totals = RedisDownTotals(factor=5)
    assert totals.promise({"X": 1}, TWENTY) == ("X", 0)
    assert totals.promise({"B": 1000}, BACKORDER) is None


async def test_taken_promises_are_written_back_and_the_total_restarts() -> None:
    totals = RedisDownTotals(factor=5)
    reservations = EmbeddedReservations()
    await reservations.reserve("S", "before", 2, None)
    totals.seen({"S": 2})
    assert totals.promise({"S": 2}, TWENTY) is None
    totals.taken("cart-1", [("S", 2)])
    assert await totals.write_back(reservations, 600) == 1
    assert await reservations.holdings("cart-1") == {"S": 2}
    assert totals.pending == [] and totals.promised == {} and totals.last_seen == {"S": 4}
