"""The engine over both stores, with a flow that records what it is asked to do: per-entity order,
parallel entities, retries that do not block others, dead letters by failure class."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pricing_edge.erp.errors import ErpRejected, ErpUnavailable
from pricing_edge.store.base import Store
from pricing_edge.store.work_queue import WorkQueue
from pricing_edge.worker.engine import EngineSettings, FlowRunner, RetryPolicy
from pricing_edge.worker.messages import Message
from pricing_edge.worker.metrics import WorkerMetrics
from tests.support.polling import async_wait_until

FAST = EngineSettings(concurrency=4, lease_ms=5000, idle_poll_seconds=0.02,
                      retry=RetryPolicy(max_attempts=3, base_seconds=0.1, cap_seconds=0.4, give_up_after_seconds=60))


class RecordingFlow:
    name = "test"

    def __init__(self, fail: Callable[[Message, int], BaseException | None] = lambda m, n: None) -> None:
        self.fail = fail
        self.handled: list[tuple[str, int]] = []
        self.calls: dict[str, int] = {}
        self.active: set[str] = set()
        self.overlaps = 0
        self.max_parallel = 0
        self.failures: list[tuple[str, bool]] = []

    def route(self, source: str, kind: str, data: dict[str, Any]) -> str | None:
        return None

    async def handle(self, message: Message, token: str) -> None:
        assert message.entity not in self.active, f"{message.entity} handled twice at once"
        self.active.add(message.entity)
        self.max_parallel = max(self.max_parallel, len(self.active))
        try:
            self.calls[message.id] = self.calls.get(message.id, 0) + 1
            await asyncio.sleep(0.005)
            error = self.fail(message, self.calls[message.id])
            if error is not None:
                raise error
            self.handled.append((message.entity, int(message.data["seq"])))
        finally:
            self.active.discard(message.entity)

    async def failed(self, message: Message, reason: str, final: bool) -> None:
        self.failures.append((message.id, final))


def message(entity: str, seq: int) -> bytes:
    return Message(f"{entity}#{seq}", "test", entity, "test.event", "test", {"seq": seq},
                   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0).encode()


@contextlib.asynccontextmanager
async def running(flow: RecordingFlow, queue: WorkQueue, metrics: WorkerMetrics) -> AsyncIterator[None]:
    task = asyncio.create_task(FlowRunner(flow, queue, metrics, FAST).run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def queue(store: Store) -> WorkQueue:
    return store.work_queue()


async def test_each_entity_in_order_and_different_entities_in_parallel(queue: WorkQueue) -> None:
    flow, metrics = RecordingFlow(), WorkerMetrics()
    for seq in range(6):
        for entity in ("order:1", "order:2", "order:3"):
            await queue.enqueue("test", entity, message(entity, seq))
    async with running(flow, queue, metrics):
        await async_wait_until(lambda: _done(flow, 18), what="18 messages handled")
    for entity in ("order:1", "order:2", "order:3"):
        assert [seq for e, seq in flow.handled if e == entity] == list(range(6))
    assert flow.max_parallel > 1


async def _done(flow: RecordingFlow, n: int) -> bool:
    return len(flow.handled) >= n


async def test_a_transient_failure_retries_with_backoff_without_holding_up_other_entities(queue: WorkQueue) -> None:
    def erp_down_twice(m: Message, call: int) -> BaseException | None:
        return ErpUnavailable("erp: connect refused") if m.id == "order:slow#0" and call <= 2 else None

    flow, metrics = RecordingFlow(erp_down_twice), WorkerMetrics()
    await queue.enqueue("test", "order:slow", message("order:slow", 0))
    await queue.enqueue("test", "order:slow", message("order:slow", 1))
    for seq in range(5):
        await queue.enqueue("test", "order:fast", message("order:fast", seq))
    async with running(flow, queue, metrics):
        await async_wait_until(lambda: _done(flow, 7), what="all handled")
    assert [seq for e, seq in flow.handled if e == "order:slow"] == [0, 1]  # its later message waited its turn
    first_slow = flow.handled.index(("order:slow", 0))
    assert [e for e, _ in flow.handled[:first_slow]].count("order:fast") == 5  # the others went ahead
    assert flow.calls["order:slow#0"] == 3
    assert flow.failures == [("order:slow#0", False), ("order:slow#0", False)]
    assert (await queue.counts("test")).dead_letters == 0


async def test_a_permanent_failure_is_dead_lettered_at_once_as_needing_attention(queue: WorkQueue) -> None:
    def rejected(m: Message, call: int) -> BaseException | None:
        return ErpRejected("erp: HTTP 422: unknown item 'NOPE'") if m.data["seq"] == 0 else None

    flow, metrics = RecordingFlow(rejected), WorkerMetrics()
    await queue.enqueue("test", "order:1", message("order:1", 0))
    await queue.enqueue("test", "order:1", message("order:1", 1))
    async with running(flow, queue, metrics):
        await async_wait_until(lambda: _done(flow, 1), what="the next message handled")
    assert flow.calls["order:1#0"] == 1
    ((_, fields),) = await queue.dead_letters("test", 10)
    assert fields["class"] == b"needs-attention"
    assert b"unknown item 'NOPE'" in fields["reason"]
    assert Message.decode(fields["message"]).entity == "order:1"


async def test_an_unexpected_error_is_poison_after_the_attempt_limit(queue: WorkQueue) -> None:
    flow, metrics = RecordingFlow(lambda m, n: KeyError("surprise")), WorkerMetrics()
    await queue.enqueue("test", "order:1", message("order:1", 0))
    async with running(flow, queue, metrics):
        letters = await async_wait_until(lambda: queue.dead_letters("test", 10), what="a dead letter")
    assert flow.calls["order:1#0"] == FAST.retry.max_attempts
    fields = letters[0][1]
    assert fields["class"] == b"poison" and b"KeyError" in fields["reason"]
    assert flow.failures[-1] == ("order:1#0", True) and [f for _, f in flow.failures].count(True) == 1
    assert Message.decode(fields["message"]).attempts == FAST.retry.max_attempts


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)
    assert [policy.backoff(n, rng=lambda: 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert [policy.backoff(n, rng=lambda: 1.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert policy.backoff(30, rng=lambda: 1.0) == 60.0
    assert policy.backoff(30, rng=lambda: 0.0) == 30.0  # never an immediate retry
