"""The worker's queue, in memory and in a real Redis: per-entity order, leases, retries, dead letters."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pricing_edge.store.base import Store
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, WORKER_GROUP
from pricing_edge.store.work_queue import WorkQueue, now_ms
from tests.support.polling import async_wait_until

FLOW = "orders"


@pytest.fixture
async def queue(store: Store) -> AsyncIterator[WorkQueue]:
    await store.ensure_group(BIGCOMMERCE_INTAKE, WORKER_GROUP)
    yield store.work_queue()


async def intake(store: Store, n: int) -> list[str]:
    ids = []
    for i in range(n):
        entry = await store.append_once(BIGCOMMERCE_INTAKE, f"d{i}", {"body": b"%d" % i}, 60)
        assert entry is not None
        ids.append(entry)
    await store.read_group(BIGCOMMERCE_INTAKE, WORKER_GROUP, "router", 100, 0)
    return ids


async def route(queue: WorkQueue, entity: str, body: bytes, entry_id: str) -> bool:
    return await queue.route(FLOW, entity, body, dedup_key=entry_id, dedup_ttl_seconds=60,
                             stream=BIGCOMMERCE_INTAKE, group=WORKER_GROUP, entry_id=entry_id)


async def test_routing_acknowledges_the_intake_entry_once_and_queues_it_once(store: Store, queue: WorkQueue) -> None:
    (entry,) = await intake(store, 1)
    assert await route(queue, "order:1", b"first", entry) is True
    assert await route(queue, "order:1", b"first", entry) is False  # a router that died before acking
    assert await queue.queued(FLOW, "order:1") == [b"first"]
    assert await store.claim_stale(BIGCOMMERCE_INTAKE, WORKER_GROUP, "other", 0, 10) == []  # nothing pending
    assert await store.trim_acknowledged(BIGCOMMERCE_INTAKE) == 1


async def test_one_entity_is_leased_to_one_taker_and_its_messages_come_in_order(store: Store, queue: WorkQueue) -> None:
    entries = await intake(store, 3)
    for entry, body in zip(entries, [b"created", b"updated", b"shipped"], strict=True):
        await route(queue, "order:7", body, entry)
    first = await queue.take(FLOW, "a", 5000)
    assert first is not None and first.body == b"created"
    assert await queue.take(FLOW, "b", 5000) is None  # leased: nobody else gets order 7
    assert await queue.complete(first)
    seen = []
    while (taken := await queue.take(FLOW, "b", 5000)) is not None:
        seen.append(taken.body)
        assert await queue.complete(taken)
    assert seen == [b"updated", b"shipped"]
    assert (await queue.counts(FLOW)).depth == 0


async def test_a_retry_delays_only_its_own_entity(store: Store, queue: WorkQueue) -> None:
    await queue.enqueue(FLOW, "order:1", b"one")
    await queue.enqueue(FLOW, "order:2", b"two")
    taken = await queue.take(FLOW, "a", 5000)
    assert taken is not None and taken.entity == "order:1"
    assert await queue.retry(taken, b"one, attempt 2", now_ms() + 60_000)
    other = await queue.take(FLOW, "a", 5000)
    assert other is not None and other.entity == "order:2"
    assert await queue.take(FLOW, "a", 5000) is None  # order 1 waits for its retry
    counts = await queue.counts(FLOW)
    assert (counts.retrying, counts.in_flight, counts.depth) == (1, 1, 2)
    assert await queue.queued(FLOW, "order:1") == [b"one, attempt 2"]


async def test_an_expired_lease_hands_the_entity_to_the_next_taker(store: Store, queue: WorkQueue) -> None:
    await queue.enqueue(FLOW, "order:1", b"one")
    crashed = await queue.take(FLOW, "crashed", 1)  # a 1 ms lease: the holder "dies"
    assert crashed is not None
    taken = await async_wait_until(lambda: queue.take(FLOW, "next", 5000), what="the lease to run out")
    assert taken.body == b"one"
    assert not await queue.complete(crashed)  # the dead holder's late ack changes nothing
    assert await queue.complete(taken)
    assert (await queue.counts(FLOW)).depth == 0


async def test_dead_letters_can_be_listed_replayed_and_dropped(store: Store, queue: WorkQueue) -> None:
    await queue.enqueue(FLOW, "order:1", b"poison")
    await queue.enqueue(FLOW, "order:1", b"next")
    taken = await queue.take(FLOW, "a", 5000)
    assert taken is not None
    dlq_id = await queue.dead_letter(taken, {"reason": b"unknown SKU", "message": b"poison"})
    assert dlq_id is not None
    assert (await queue.counts(FLOW)).dead_letters == 1
    assert [fields["reason"] for _, fields in await queue.dead_letters(FLOW, 10)] == [b"unknown SKU"]
    assert await queue.queued(FLOW, "order:1") == [b"next"]  # the entity goes on
    assert await queue.replay_dead_letter(FLOW, dlq_id, "order:1", b"poison again")
    assert not await queue.replay_dead_letter(FLOW, dlq_id, "order:1", b"poison again")  # once only
    assert await queue.queued(FLOW, "order:1") == [b"next", b"poison again"]
    assert (await queue.counts(FLOW)).dead_letters == 0
    again = await queue.take(FLOW, "a", 5000)
    assert again is not None
    second = await queue.dead_letter(again, {"reason": b"x"})
    assert second is not None and await queue.drop_dead_letter(FLOW, second)
    assert await queue.dead_letters(FLOW, 10) == []


async def test_lag_is_measured_from_the_oldest_queued_message(store: Store, queue: WorkQueue) -> None:
    before = now_ms()
    await queue.enqueue(FLOW, "order:1", b"a")
    await queue.enqueue(FLOW, "order:2", b"b")
    counts = await queue.counts(FLOW)
    assert counts.entities == 2 and counts.oldest_enqueued_ms is not None
    assert before <= counts.oldest_enqueued_ms <= now_ms()


async def test_a_named_lease_has_one_holder(store: Store, queue: WorkQueue) -> None:
    assert await queue.hold_lease("router:x", "a", 5000)
    assert await queue.hold_lease("router:x", "a", 5000)  # renewal
    assert not await queue.hold_lease("router:x", "b", 5000)


async def test_the_queued_messages_of_an_entity_can_be_read_head_first_up_to_a_limit(store: Store,
                                                                                    queue: WorkQueue) -> None:
    for body in (b"a", b"b", b"c"):
        await queue.enqueue(FLOW, "prices:demo", body)
    assert await queue.queued(FLOW, "prices:demo", 2) == [b"a", b"b"]
    assert await queue.queued(FLOW, "prices:demo") == [b"a", b"b", b"c"]
