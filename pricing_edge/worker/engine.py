"""Runs one flow's handler over its queue: lease an entity, handle its head message inside the
message's trace, then complete, retry with backoff, or dead-letter — as ``errors.classify`` says.

Several runners per flow (and per process) take different entities, so entities run in parallel
while each entity's messages stay strictly in order. A lease keeper renews the lease while a
handler works; if this process dies, the lease runs out and another runner retakes the message
(at-least-once: handlers are idempotent).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pricing_edge.backoff import Backoff, exponential
from pricing_edge.ops import tracing
from pricing_edge.runtime import run_loops
from pricing_edge.store.base import StoreError
from pricing_edge.store.work_queue import Taken, WorkQueue, now_ms
from pricing_edge.worker.errors import FailureClass, classify, describe, retry_after
from pricing_edge.worker.messages import Message, MessageError
from pricing_edge.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)


class Flow(Protocol):
    """One sync flow: which messages are its and for which entity, and how to handle one."""

    name: str

    def route(self, source: str, kind: str, data: dict[str, Any]) -> str | None:
        """The entity key (e.g. ``order:123``) for a message this flow handles, else None."""
        ...

    async def handle(self, message: Message, token: str) -> None: ...

    async def failed(self, message: Message, reason: str, final: bool) -> None:
        """Told of every failure (``final``: dead-lettered), e.g. to show it in the ledger."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # unexpected errors before a message is poison
    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    give_up_after_seconds: float = 24 * 3600.0  # transient failures for this long: dead-letter anyway

    def backoff(self, retries: int, rng: Callable[[], float] = random.random) -> float:
        """Exponential with equal jitter (``pricing_edge.backoff``): retries spread out without ever
        collapsing to an immediate retry."""
        return exponential(retries - 1, self.base_seconds, self.cap_seconds, rng)


@dataclass(frozen=True)
class EngineSettings:
    concurrency: int = 8
    lease_ms: int = 10_000
    idle_poll_seconds: float = 0.1
    retry: RetryPolicy = RetryPolicy()
    store_retry_first: float = 0.5  # backoff after a store error (Redis unreachable), per loop
    store_retry_cap: float = 5.0


class FlowRunner:
    def __init__(self, flow: Flow, queue: WorkQueue, metrics: WorkerMetrics, settings: EngineSettings,
                 wakeup: asyncio.Event | None = None) -> None:
        self.flow = flow
        self.queue = queue
        self.metrics = metrics
        self.settings = settings
        self.wakeup = wakeup or asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Until cancelled or :meth:`stop`: ``concurrency`` loops taking and handling entities."""
        names = [f"{self.flow.name}-{i}" for i in range(self.settings.concurrency)]
        await run_loops([self._loop(name) for name in names], stop=self.stop, names=names)

    def stop(self) -> None:
        """Take no more work: each loop ends after the message it is handling (cancel to end it sooner;
        a message cut short is retaken once its lease runs out)."""
        self._stopping.set()
        self.wakeup.set()

    async def _loop(self, name: str) -> None:
        backoff = Backoff(self.settings.store_retry_first, self.settings.store_retry_cap)
        while not self._stopping.is_set():
            try:
                taken = await self.queue.take(self.flow.name, f"{name}:{uuid.uuid4().hex}", self.settings.lease_ms)
            except StoreError as exc:
                delay = backoff.next_delay()
                log.warning("%s: cannot take work (%s); again in %.1fs", name, exc, delay)
                await asyncio.sleep(delay)
                continue
            if taken is None:
                backoff.reset()
                await self._idle()
                continue
            try:
                await self.process(taken)
                backoff.reset()
            except StoreError as exc:  # recording the outcome failed: the lease runs out, it is retried
                delay = backoff.next_delay()
                log.warning("%s: %s; again in %.1fs", name, exc, delay)
                await asyncio.sleep(delay)
            except Exception:  # noqa: BLE001 — a bug must not stop the flow for good: log it, go on
                log.exception("%s: unexpected error around %s", name, taken.entity)
                await asyncio.sleep(backoff.next_delay())

    async def _idle(self) -> None:
        if self._stopping.is_set():
            return
        self.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the event is
            # set (the router sets it often), and this loop would then never stop.
            async with asyncio.timeout(self.settings.idle_poll_seconds):
                await self.wakeup.wait()

    async def process(self, taken: Taken) -> None:
        try:
            message = Message.decode(taken.body)
        except MessageError as exc:
            await self._dead_letter(taken, None, FailureClass.POISON, describe(exc))
            return
        handled = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(taken, handled))
        started = time.perf_counter()
        try:
            # One span per attempt, a child of the routing span; the calls it makes are counted, so the
            # flow can tell the ledger which attempts touched the ERP.
            with tracing.span(f"{self.flow.name} {message.kind}", message.traceparent, kind=tracing.CONSUMER,
                              attributes={"pricing_edge.entity": message.entity,
                                          "pricing_edge.attempt": message.retries + 1}), tracing.counting_calls():
                log.info("handling %s %s for %s (attempt %d)", message.kind, message.id, message.entity,
                         message.retries + 1)
                try:
                    await self.flow.handle(message, taken.token)
                except Exception as exc:  # noqa: BLE001 — every failure is classified, none escapes
                    await self._failed(taken, message, exc)
                else:
                    await self._settle(self.queue.complete(taken), "ok")
        finally:
            handled.set()  # the keeper ends even if its cancellation were swallowed
            keeper.cancel()
            self.metrics.handle_seconds.labels(self.flow.name).observe(time.perf_counter() - started)

    async def _failed(self, taken: Taken, message: Message, exc: Exception) -> None:
        kind, reason, now = classify(exc), describe(exc), now_ms()
        tracing.failed(exc)
        failed = message.failed(reason, now, counts=kind is FailureClass.POISON)
        policy = self.settings.retry
        poison = kind is FailureClass.POISON and failed.attempts >= policy.max_attempts
        gave_up = (now - (failed.first_failure_ms or now)) / 1000 >= policy.give_up_after_seconds
        try:
            await self.flow.failed(message, reason, kind is FailureClass.PERMANENT or poison or gave_up)
        except Exception as note_error:  # noqa: BLE001 — noting a failure must not hide the failure
            log.warning("%s: could not note the failure of %s: %s", self.flow.name, message.id, note_error)
        if kind is FailureClass.PERMANENT:
            log.warning("%s %s needs attention: %s", message.kind, message.id, reason)
            await self._dead_letter(taken, failed, kind, reason)
        elif poison:
            log.error("%s %s is poison after %d attempts: %s", message.kind, message.id, failed.attempts, reason,
                      exc_info=exc)
            await self._dead_letter(taken, failed, kind, f"failed {failed.attempts} times; last: {reason}")
        elif gave_up:
            await self._dead_letter(taken, failed, FailureClass.POISON,
                                    f"still failing after {policy.give_up_after_seconds:.0f}s; last: {reason}")
        else:
            delay = retry_after(exc) or policy.backoff(failed.retries)
            log.warning("%s %s failed (%s), retry %d in %.2fs: %s", message.kind, message.id, kind, failed.retries,
                        delay, reason)
            await self._settle(self.queue.retry(taken, failed.encode(), now + int(delay * 1000)), "retry")

    async def _dead_letter(self, taken: Taken, message: Message | None, kind: FailureClass, reason: str) -> None:
        fields = {"class": kind.value.encode(), "reason": reason.encode(), "entity": taken.entity.encode(),
                  "flow": self.flow.name.encode(), "failed_at": str(now_ms()).encode(),
                  "message": message.encode() if message else taken.body}
        outcome = "needs_attention" if kind is FailureClass.PERMANENT else "dead_letter"
        await self._settle(self.queue.dead_letter(taken, fields), outcome)

    async def _settle(self, step: Any, outcome: str) -> None:
        """Record the outcome; a lost lease (another runner retook the entity) is logged, not fatal."""
        try:
            done = await step
        except StoreError as exc:
            log.error("%s: cannot record outcome %s: %s (the lease will expire and the message be retried)",
                      self.flow.name, outcome, exc)
            return
        if not done:
            log.warning("%s: lease lost before recording %s; another runner has the entity", self.flow.name, outcome)
        self.metrics.processed.labels(self.flow.name, outcome).inc()

    async def _keep_lease(self, taken: Taken, handled: asyncio.Event) -> None:
        interval = self.settings.lease_ms / 3000
        while not handled.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await handled.wait()
            if handled.is_set():
                return
            with contextlib.suppress(StoreError):
                if not await self.queue.renew(taken, self.settings.lease_ms):
                    return
