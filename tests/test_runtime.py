"""Stopping within a bound whatever a task does: repeated cancellation for a task that swallows one,
a deadline for a task that ignores every one (reported with where it was stuck), loops that end on
their stop flag, and — the last resort — a process that exits with every thread's stack."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time

import pytest

from pricing_edge.runtime import HARD_EXIT_CODE, Grace, cancel_and_wait, run_loops


async def swallows_one_cancellation(ticks: list[int]) -> None:
    swallowed = False
    while True:
        try:
            await asyncio.sleep(0.01)
            ticks.append(1)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed = True  # as asyncio.wait_for does on 3.11 when its inner await completes meanwhile


async def ignores_cancellation(started: asyncio.Event) -> None:
    started.set()
    while True:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.01)


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again_until_it_stops() -> None:
    ticks: list[int] = []
    task = asyncio.create_task(swallows_one_cancellation(ticks))
    while not ticks:  # running
        await asyncio.sleep(0.01)
    assert await cancel_and_wait([task], timeout=10) == []
    assert task.cancelled()


async def test_a_task_that_ignores_cancellation_is_left_at_the_deadline_and_reported_with_its_stack(
        caplog: pytest.LogCaptureFixture) -> None:
    running = asyncio.Event()
    task = asyncio.create_task(ignores_cancellation(running), name="stubborn")
    await running.wait()
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        stragglers = await cancel_and_wait([task], timeout=0.5)
    assert stragglers == [task] and time.monotonic() - started < 5
    assert "stubborn did not stop within 0.5s" in caplog.text and "ignores_cancellation" in caplog.text
    task.get_coro().close()  # (the test's own clean-up: it would otherwise run for ever)


async def test_loops_end_on_their_stop_flag_even_if_every_cancellation_is_ignored() -> None:
    stopping = asyncio.Event()

    async def loop() -> None:
        while not stopping.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    runner = asyncio.create_task(run_loops([loop(), loop()], stop=stopping.set, timeout=5))
    await asyncio.sleep(0.05)
    runner.cancel()
    done, _ = await asyncio.wait([runner], timeout=10)
    assert done and runner.cancelled()


async def test_a_failing_loop_stops_the_others_and_its_error_comes_out() -> None:
    stopped = []

    async def fails() -> None:
        raise KeyError("bug")

    async def waits() -> None:
        await asyncio.Event().wait()

    with pytest.raises(KeyError):
        await run_loops([fails(), waits()], stop=lambda: stopped.append(True), timeout=5)
    assert stopped == [True]


def test_the_grace_is_shared_between_requests_loops_and_the_last_resort() -> None:
    grace = Grace(10)
    assert (grace.drain, grace.tasks) == (5, 2.5) and grace.drain + grace.tasks < grace.seconds
    with pytest.raises(ValueError, match="positive"):
        Grace(0)


def test_a_process_whose_shutdown_hangs_exits_at_its_deadline_with_every_stack() -> None:
    script = ("import time; from pricing_edge.runtime import arm_exit_deadline\n"
              "arm_exit_deadline(0.5, 'SIGTERM')\n"
              "def stuck_in_shutdown():\n    time.sleep(120)\n"
              "stuck_in_shutdown()\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == HARD_EXIT_CODE and time.monotonic() - started < 30
    assert "still running 0.5s after SIGTERM" in result.stderr
    assert "stuck_in_shutdown" in result.stderr  # where it was stuck


def test_start_up_objects_are_frozen_out_of_the_collector_after_its_garbage_is_collected() -> None:
    # In a process of its own: freezing this test process would keep its later garbage cycles forever.
    script = """
import gc, weakref
from pricing_edge.runtime import freeze_start_up_objects

class Node:
    pass

garbage = Node(); garbage.me = garbage; gone = weakref.ref(garbage); del garbage  # a cycle nobody holds
kept = {"schema": [1, 2, 3]}
freeze_start_up_objects()
assert gone() is None, "garbage cycles are collected before the freeze, not frozen with it"
assert gc.get_freeze_count() > 0
assert not any(o is kept for o in gc.get_objects()), "what start-up built is out of the collector's reach"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_after_the_freeze_full_collections_are_rarer_but_old_garbage_cycles_are_still_collected() -> None:
    # In a process of its own, as above. A cycle that reached the oldest generation is freed by an
    # automatic full collection (no gc.collect() call): the thresholds make those rarer, never absent.
    script = """
import collections, gc, weakref
from pricing_edge.runtime import GC_THRESHOLDS, freeze_start_up_objects

class Node:
    pass

freeze_start_up_objects()
assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[2] > 10
old = Node(); old.me = old; gone = weakref.ref(old)
gc.collect(1)  # survived the middle generation: it now lives in the oldest one
del old
made, kept = 0, collections.deque(maxlen=20_000)  # cache entries: kept a while, then replaced
while gone() is not None and made < 5_000_000:
    entry = Node(); entry.me = entry
    kept.append(entry)
    made += 1
assert gone() is None, f"an old garbage cycle outlived {made} allocations"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
