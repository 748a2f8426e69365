"""A probe of what holds an edge process's event loop in one go (issue 20): put this folder on ``PYTHONPATH``
and set ``STALL_PROBE_DIR``; every uvicorn-served process (the load harness passes the environment through)
then writes ``stalls-<pid>.jsonl`` there, summed up by ``python -m loadtests.stalls DIR``:

- ``{"tracked": n, "types": [...]}`` every 10 s with ``STALL_PROBE_TYPES`` set: the objects a full collection
  would walk (not the frozen ones), by type — what makes its pause long;
- ``{"gc": generation, "cpu_ms": ..., "ms": ...}`` for every collection of generation 2, and of any younger
  one that took more than ``STALL_PROBE_MS`` (default 5) of CPU — from ``gc.callbacks``;
- ``{"step": task, "cpu_ms": ..., "gc_cpu_ms": ..., "stacks": [...]}`` for every step of a task (the run from
  one ``await`` that suspends to the next: nothing else runs on the loop meanwhile) that took more than
  ``STALL_PROBE_MS`` of CPU. A task factory wraps each task's coroutine to time its steps; a watchdog thread
  samples the main thread's stack while a step runs long (it gets the GIL at each switch interval), so the
  entry says where the time went. ``gc_cpu_ms``: the collections inside the step.

CPU time, not wall time: on a busy machine wall time is mostly waiting for a core. The probe costs a few
microseconds per step: measure with it, not latency.
"""
from __future__ import annotations

import os

_DIR = os.environ.get("STALL_PROBE_DIR")

if _DIR:
    import asyncio
    import collections
    import collections.abc
    import gc
    import json
    import sys
    import threading
    import time
    import traceback
    from typing import Any

    _LIMIT = float(os.environ.get("STALL_PROBE_MS", "5")) / 1000
    _out = open(os.path.join(_DIR, f"stalls-{os.getpid()}.jsonl"), "a", buffering=1)  # noqa: SIM115
    _gc_started = [0.0, 0.0]
    _gc_cpu = [0.0]  # CPU seconds collections took so far
    _by_gen = [[0, 0.0, 0.0] for _ in range(3)]  # per generation: collections, CPU ms in all, longest
    _running: list[float] = []  # the step under way: [wall start], empty between steps
    _stacks: list[list[str]] = []  # sampled during the step under way

    def _write(entry: dict[str, object]) -> None:
        _out.write(json.dumps(entry) + "\n")

    def _on_gc(phase: str, info: dict[str, int]) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if phase == "start":
            _gc_started[:] = [now, cpu]
            return
        pause, cpu_pause = now - _gc_started[0], cpu - _gc_started[1]
        _gc_cpu[0] += cpu_pause
        by_gen = _by_gen[info["generation"]]
        by_gen[0] += 1
        by_gen[1] += cpu_pause * 1000
        by_gen[2] = max(by_gen[2], cpu_pause * 1000)
        if info["generation"] == 2 or cpu_pause > _LIMIT:
            _write({"gc": info["generation"], "ms": round(pause * 1000, 2), "cpu_ms": round(cpu_pause * 1000, 2),
                    "collected": info["collected"], "at": round(time.time(), 3),
                    "by_generation": [[n, round(total, 1), round(most, 2)] for n, total, most in _by_gen]})

    class _Timed(collections.abc.Coroutine):
        """A task's coroutine, each step timed."""

        __slots__ = ("_coro",)

        def __init__(self, coro: Any) -> None:
            self._coro = coro

        def _step(self, method: Any, *args: Any) -> Any:
            cpu, gc_cpu = time.thread_time(), _gc_cpu[0]
            _running[:] = [time.perf_counter()]
            if _stacks:
                del _stacks[:]
            try:
                return method(*args)
            finally:
                _running.clear()
                took = time.thread_time() - cpu
                if took > _LIMIT:
                    _write({"step": getattr(self._coro, "__qualname__", repr(self._coro)),
                            "cpu_ms": round(took * 1000, 2), "gc_cpu_ms": round((_gc_cpu[0] - gc_cpu) * 1000, 2),
                            "stacks": list(_stacks), "at": round(time.time(), 3)})

        def send(self, value: Any) -> Any:
            return self._step(self._coro.send, value)

        def throw(self, *args: Any) -> Any:
            return self._step(self._coro.throw, *args)

        def close(self) -> Any:
            return self._coro.close()

        def __await__(self) -> Any:
            return self

        def __next__(self) -> Any:
            return self.send(None)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._coro, name)

    def _task_factory(loop: asyncio.AbstractEventLoop, coro: Any, context: Any = None) -> asyncio.Task[Any]:
        return asyncio.Task(_Timed(coro), loop=loop, context=context)

    def _census() -> None:
        """What a full collection would walk now (``STALL_PROBE_TYPES``: every 10 s)."""
        counts: collections.Counter[str] = collections.Counter(
            f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
        _write({"tracked": sum(counts.values()), "frozen": gc.get_freeze_count(), "types": counts.most_common(25),
                "at": round(time.time(), 3)})

    def _watch(main_id: int) -> None:
        """Samples the main thread's stack while a step has run longer than the limit."""
        census_at = time.monotonic() + 10
        while True:
            time.sleep(0.001)
            if os.environ.get("STALL_PROBE_TYPES") and time.monotonic() > census_at:
                census_at += 10
                _census()
            started = _running[0] if _running else None
            if started is not None and time.perf_counter() - started > _LIMIT and len(_stacks) < 20:
                frame = sys._current_frames().get(main_id)
                if frame is not None:
                    _stacks.append([f"{f.filename.rsplit('site-packages/', 1)[-1]}:{f.lineno} {f.name}"
                                    for f in traceback.extract_stack(frame)[-14:]])

    def _start() -> None:
        _write({"argv": " ".join(sys.argv)[-120:], "pid": os.getpid()})
        asyncio.get_running_loop().set_task_factory(_task_factory)
        threading.Thread(target=_watch, args=(threading.get_ident(),), daemon=True, name="stall-probe").start()

    gc.callbacks.append(_on_gc)
    import uvicorn.server

    _serve = uvicorn.server.Server.serve

    async def _probed_serve(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _start()
        return await _serve(self, *args, **kwargs)

    uvicorn.server.Server.serve = _probed_serve  # type: ignore[method-assign]
