"""The worker's loops end when cancelled, whatever they are doing: a flow runner stuck in a slow ERP call,
runners idling while the router wakes them (the race that used to swallow the cancellation and hang a
shutdown), a router blocked on its stream; and ``stop()`` lets the message in hand finish, then ends."""
from __future__ import annotations

import asyncio
from typing import Any

from pricing_edge.store.base import Store
from pricing_edge.worker.engine import EngineSettings, FlowRunner, RetryPolicy
from pricing_edge.worker.messages import Message
from pricing_edge.worker.metrics import WorkerMetrics
from pricing_edge.worker.router import Router
from tests.support.polling import async_wait_until
from tests.support.stuck import STOPS_WITHIN, StuckErp, cancel_once

FAST = EngineSettings(concurrency=4, lease_ms=5000, idle_poll_seconds=0.005,
                      retry=RetryPolicy(max_attempts=3, base_seconds=0.1, cap_seconds=0.4))


class ErpFlow:
    """Handles each message with one ERP call (a price lookup), as the order flow posts a sales order."""

    name = "stuck"

    def __init__(self, erp: StuckErp | None = None) -> None:
        self.erp = erp
        self.started: list[str] = []
        self.finished: list[str] = []
        self.release = asyncio.Event()

    def route(self, source: str, kind: str, data: dict[str, Any]) -> str | None:
        return f"order:{data['id']}" if kind == "store/order/created" else None

    async def handle(self, message: Message, token: str) -> None:
        self.started.append(message.id)
        if self.erp is not None:
            await self.erp.adapter.get_prices(2, "USD", ["PE-10000"])
        else:
            await self.release.wait()
        self.finished.append(message.id)

    async def failed(self, message: Message, reason: str, final: bool) -> None:
        return None


def message(n: int) -> bytes:
    return Message(f"m{n}", "stuck", f"order:{n}", "store/order/created", "bigcommerce", {"id": n},
                   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0).encode()


async def test_a_flow_runner_stuck_in_a_slow_erp_call_stops_when_cancelled(store: Store, stuck_erp: StuckErp) -> None:
    queue, flow = store.work_queue(), ErpFlow(stuck_erp)
    await queue.enqueue("stuck", "order:1", message(1))
    runner = asyncio.create_task(FlowRunner(flow, queue, WorkerMetrics(), FAST).run(), name="runner")
    await async_wait_until(lambda: _started(flow), what="the handler to be waiting on the ERP")
    stopped = await cancel_once(runner)
    assert stopped.cancelled and flow.finished == []
    assert (await queue.counts("stuck")).dead_letters == 0  # cut short is not failed: its lease brings it back


async def test_idle_runners_woken_all_the_time_still_stop_at_the_first_cancellation(store: Store) -> None:
    """The router sets the shared wakeup after every hand-over; a cancellation landing as it is set was
    swallowed by ``asyncio.wait_for`` on Python 3.11 and the runner looped on for ever."""
    queue = store.work_queue()
    for _ in range(30):
        wakeup = asyncio.Event()
        runner = asyncio.create_task(FlowRunner(ErpFlow(), queue, WorkerMetrics(), FAST, wakeup).run())

        async def keep_waking(wakeup: asyncio.Event = wakeup) -> None:
            while True:
                wakeup.set()
                await asyncio.sleep(0)

        waker = asyncio.create_task(keep_waking())
        await asyncio.sleep(0.02)
        await cancel_once(runner)
        waker.cancel()


async def test_stop_lets_the_message_in_hand_finish_and_takes_no_more(store: Store) -> None:
    queue, flow = store.work_queue(), ErpFlow()
    for n in range(3):
        await queue.enqueue("stuck", f"order:{n}", message(n))
    runner = FlowRunner(flow, queue, WorkerMetrics(), EngineSettings(concurrency=1, idle_poll_seconds=0.01))
    task = asyncio.create_task(runner.run())
    await async_wait_until(lambda: _started(flow), what="the first message to be in hand")
    runner.stop()
    flow.release.set()
    await asyncio.wait_for(task, STOPS_WITHIN)
    assert flow.finished == flow.started and len(flow.finished) == 1
    assert (await queue.counts("stuck")).depth == 2


async def test_a_router_blocked_on_its_streams_stops_when_cancelled_or_asked(store: Store) -> None:
    queue = store.work_queue()
    for ask in ("cancel", "stop"):
        router = Router(store, queue, [ErpFlow()], WorkerMetrics(), dedup_ttl=60, lease_ms=3000)
        task = asyncio.create_task(router.run(), name=f"router-{ask}")
        await asyncio.sleep(0.2)  # reading its streams (blocked up to a second at a time); no outcome to poll
        assert not task.done()
        if ask == "cancel":
            await cancel_once(task)
        else:
            router.stop()
            await asyncio.wait_for(task, STOPS_WITHIN)


async def _started(flow: ErpFlow) -> bool:
    return bool(flow.started)
