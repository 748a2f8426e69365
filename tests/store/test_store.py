"""One contract, two stores: versioned records, expiring values, streams, fan-out."""
import asyncio
from decimal import Decimal

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord
from pricing_edge.store.base import Store
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until


def price(version: int, amount: str = "10.00", sku: str = "SKU-1") -> PriceRecord:
    return PriceRecord(2, sku, "USD", Decimal(amount), sale_price=Decimal("9.50"),
                       bulk_tiers=(BulkTier(10, None, Decimal("8.75")),), version=version)


async def test_a_price_round_trips_with_exact_money(store: Store) -> None:
    assert await store.put_price(price(5, "1234.5678"))
    found = await store.get_prices(2, "USD", ["SKU-1", "NOPE"])
    assert found == {"SKU-1": price(5, "1234.5678")}


async def test_an_older_version_never_replaces_a_newer_one(store: Store) -> None:
    assert await store.put_price(price(5, "10.00"))
    assert not await store.put_price(price(4, "99.00"))
    assert not await store.put_price(price(5, "99.00"))
    assert (await store.get_prices(2, "USD", ["SKU-1"]))["SKU-1"].price == Decimal("10.00")
    assert await store.put_price(price(6, "11.00"))
    assert (await store.get_prices(2, "USD", ["SKU-1"]))["SKU-1"].price == Decimal("11.00")


async def test_prices_are_kept_per_list_and_currency(store: Store) -> None:
    await store.put_price(price(1))
    assert await store.get_prices(3, "USD", ["SKU-1"]) == {}
    assert await store.get_prices(2, "EUR", ["SKU-1"]) == {}


async def test_a_bulk_put_writes_each_record_only_if_newer(store: Store) -> None:
    assert await store.put_price(price(5, "10.00", sku="OLD"))
    batch = [price(3, "1.00", sku="OLD"), price(1, "2.00", sku="NEW-1"), price(1, "3.00", sku="NEW-2")]
    assert await store.put_prices(batch) == 2
    found = await store.get_prices(2, "USD", ["OLD", "NEW-1", "NEW-2"])
    assert found == {"OLD": price(5, "10.00", sku="OLD"), "NEW-1": batch[1], "NEW-2": batch[2]}
    assert await store.put_prices(batch) == 0  # the same versions again: nothing replaced
    assert await store.put_prices([]) == 0


async def test_stock_is_versioned_per_location(store: Store) -> None:
    await store.put_stock_levels([StockLevel("A", 1, 10, version=3),
                                  StockLevel("A", 2, 7, allocated=2, backorder=True, lead_time_days=5, version=1)])
    assert not await store.put_stock(StockLevel("A", 1, 99, version=2))
    assert await store.put_stock(StockLevel("A", 1, 10, version=4))
    found = await store.get_stock(["A", "B"])
    assert set(found) == {"A"}
    assert found["A"][1].on_hand == 10
    assert found["A"][2] == StockLevel("A", 2, 7, allocated=2, backorder=True, lead_time_days=5, version=1)


async def test_stock_an_event_wrote_for_one_location_is_not_taken_for_the_whole_sku(store: Store) -> None:
    assert await store.put_stock(StockLevel("A", 2, 7, version=5))
    assert await store.get_stock(["A"]) == {}
    await store.put_stock_levels([StockLevel("A", 1, 10, version=3), StockLevel("A", 2, 1, version=4)])
    found = await store.get_stock(["A"])
    assert found["A"][1].on_hand == 10 and found["A"][2].on_hand == 7  # the newer event's level stands


async def test_credit_and_customers(store: Store) -> None:
    credit = CreditRecord(4, Decimal("5000.00"), Decimal("4999.99"), "hold", version=2)
    assert await store.put_credit(credit)
    assert not await store.put_credit(CreditRecord(4, Decimal("1"), Decimal("0"), "ok", version=1))
    assert await store.get_credit(4) == credit
    assert await store.get_credit(5) is None
    customer = CustomerRecord(9, customer_group_id=2, company_id=4, version=1)
    assert await store.put_customer(customer)
    assert await store.get_customer(9) == customer


async def test_values_expire(store: Store) -> None:
    await store.set_value("k", b"v", ttl_seconds=0.2)
    assert await store.get_value("k") == b"v"

    async def expired() -> bool:
        return await store.get_value("k") is None

    await async_wait_until(expired, timeout=5, what="the value to expire")
    await store.set_value("k2", b"v", ttl_seconds=60)
    await store.delete_value("k2")
    assert await store.get_value("k2") is None


async def test_append_once_deduplicates_and_delivers_to_the_group(store: Store) -> None:
    await store.ensure_group("s", "g")
    first = await store.append_once("s", "evt-1", {"body": b"one"}, dedup_ttl_seconds=60)
    assert first is not None
    assert await store.append_once("s", "evt-1", {"body": b"again"}, dedup_ttl_seconds=60) is None
    await store.append_once("s", "evt-2", {"body": b"two"}, dedup_ttl_seconds=60)
    entries = await store.read_group("s", "g", "c1", count=10, block_ms=100)
    assert [fields["body"] for _, fields in entries] == [b"one", b"two"]
    assert await store.read_group("s", "g", "c2", count=10, block_ms=50) == []


async def test_unacknowledged_entries_can_be_claimed_by_another_consumer(store: Store) -> None:
    await store.ensure_group("s", "g")
    await store.append_once("s", "evt-1", {"body": b"one"}, dedup_ttl_seconds=60)
    await store.append_once("s", "evt-2", {"body": b"two"}, dedup_ttl_seconds=60)
    entries = await store.read_group("s", "g", "crashed", count=10, block_ms=100)
    await store.ack("s", "g", [entries[0][0]])
    claimed = await async_wait_until(
        lambda: store.claim_stale("s", "g", "survivor", min_idle_ms=50, count=10), timeout=5,
        what="the crashed consumer's entry to become claimable")
    assert [fields["body"] for _, fields in claimed] == [b"two"]


async def test_a_blocked_reader_wakes_when_an_entry_arrives(store: Store) -> None:
    await store.ensure_group("s", "g")
    reader = asyncio.create_task(store.read_group("s", "g", "c", count=1, block_ms=5000))
    await asyncio.sleep(0)
    await store.append_once("s", "evt-9", {"body": b"late"}, dedup_ttl_seconds=60)
    entries = await asyncio.wait_for(reader, timeout=10)
    assert entries and entries[0][1]["body"] == b"late"


async def test_published_messages_reach_every_subscriber(store: Store) -> None:
    received: list[list[bytes]] = [[], []]

    async def listen(index: int) -> None:
        async for message in store.subscribe("inv"):
            received[index].append(message)

    tasks = [asyncio.create_task(listen(i)) for i in range(2)]
    try:
        async def both_got_it() -> bool:
            await store.publish("inv", b"tags")
            return all(b"tags" in r for r in received)

        await async_wait_until(both_got_it, timeout=10, interval=0.1, what="both subscribers to get the message")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_ping(store: Store) -> None:
    assert await store.ping()


async def test_an_erp_read_of_the_same_version_re_stamps_freshness(store: Store) -> None:
    await store.put_price(price(5))
    first = (await store.prices_as_of(2, "USD", ["SKU-1"]))["SKU-1"].as_of_ms
    await async_wait_until(lambda: _later_than(first), timeout=5, what="the clock to move")
    assert not await store.put_price(price(5))  # an event with the same version: ignored
    assert (await store.prices_as_of(2, "USD", ["SKU-1"]))["SKU-1"].as_of_ms == first
    assert await store.put_price(price(5), touch=True)  # an ERP read of it: re-stamped
    assert (await store.prices_as_of(2, "USD", ["SKU-1"]))["SKU-1"].as_of_ms > first
    assert not await store.put_price(price(4), touch=True)  # never older


async def test_an_erp_read_of_many_prices_re_stamps_each_in_one_call(store: Store) -> None:
    await store.put_prices([price(5, sku="A"), price(5, sku="B")])
    first = await store.prices_as_of(2, "USD", ["A", "B"])
    await async_wait_until(lambda: _later_than(max(s.as_of_ms for s in first.values())), timeout=5,
                           what="the clock to move")
    assert await store.put_prices([price(5, sku="A"), price(5, sku="B")]) == 0  # a bulk load: same versions ignored
    assert await store.prices_as_of(2, "USD", ["A", "B"]) == first
    assert await store.put_prices([price(5, sku="A"), price(4, sku="B")], touch=True) == 1  # B's is older
    after = await store.prices_as_of(2, "USD", ["A", "B"])
    assert after["A"].as_of_ms > first["A"].as_of_ms and after["B"] == first["B"]


async def test_locks_are_released_together_and_only_the_holders(store: Store) -> None:
    assert await store.acquire(["a", "b", "c"], ttl_ms=60_000, holder="one") == {"a", "b", "c"}
    await store.release(["a", "b"], holder="other")  # not theirs: still held
    assert await store.acquire(["a", "b"], ttl_ms=60_000, holder="two") == set()
    await store.release(["a", "b"], holder="one")
    await store.release([], holder="one")
    assert await store.acquire(["a", "b", "c"], ttl_ms=60_000, holder="two") == {"a", "b"}


async def _later_than(ms: int) -> bool:
    import time

    return int(time.time() * 1000) > ms + 2


async def test_locks_are_held_by_one_caller_until_they_expire(store: Store) -> None:
    assert await store.acquire(["a", "b"], ttl_ms=200) == {"a", "b"}
    assert await store.acquire(["a", "c"], ttl_ms=200) == {"c"}

    async def free_again() -> bool:
        return await store.acquire(["a"], ttl_ms=200) == {"a"}

    await async_wait_until(free_again, timeout=5, what="the lock to expire")
    await store.release(["a"])
    assert await store.acquire(["a"], ttl_ms=200) == {"a"}


async def test_a_lock_that_expired_and_another_holder_took_is_not_freed_by_its_first_holder(store: Store) -> None:
    assert await store.acquire(["a"], ttl_ms=100, holder="A") == {"a"}

    async def b_takes_it() -> bool:
        return await store.acquire(["a"], ttl_ms=60_000, holder="B") == {"a"}

    await async_wait_until(b_takes_it, timeout=5, what="A's lock to expire and B to take it")
    await store.release(["a"], holder="A")  # late: A's read outlived its lock
    assert await store.acquire(["a"], ttl_ms=60_000, holder="C") == set()
    await store.release(["a"], holder="B")
    assert await store.acquire(["a"], ttl_ms=60_000, holder="C") == {"a"}


async def test_two_stores_on_one_redis_hold_their_own_locks(redis_url: str, redis_prefix: str) -> None:
    """Two processes' stores: each store's locks carry its own token, so one never frees the other's."""
    first = RedisStore(redis_url, Keys(redis_prefix), socket_timeout=10.0)
    second = RedisStore(redis_url, Keys(redis_prefix), socket_timeout=10.0)
    try:
        assert first.lock_holder != second.lock_holder
        assert await first.acquire(["k"], ttl_ms=100) == {"k"}

        async def second_takes_it() -> bool:
            return await second.acquire(["k"], ttl_ms=60_000) == {"k"}

        await async_wait_until(second_takes_it, timeout=5, what="the first store's lock to expire")
        await first.release(["k"])
        assert await first.acquire(["k"], ttl_ms=60_000) == set()
        await second.release(["k"])
        assert await first.acquire(["k"], ttl_ms=60_000) == {"k"}
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_store_builds_its_own_queue_ledger_and_reservations_once(store: Store) -> None:
    """Callers ask the store, never which kind it is: one of each per store, on the store's own backend."""
    assert store.work_queue() is store.work_queue() and store.ledger() is store.ledger()
    assert store.reservations() is store.reservations()
    assert store.work_queue().kind == ("embedded" if store.kind == "embedded" else "redis")
    # What one part writes, the store's other users see: a hold is visible to a second caller.
    assert await store.reservations().reserve("SKU-P", "cart-1", 2, 5)
    assert await store.reservations().reserved("SKU-P") == 2
