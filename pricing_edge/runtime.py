"""Running the processes: several ASGI apps in one (the demo, a simulator, ``serve``, ``worker``), and
stopping them within a bounded time whatever they are doing.

Shutdown has one budget, the *grace* (``PRICING_EDGE_SHUTDOWN_GRACE``, default 10 s, well under the 30 s
an orchestrator usually waits before SIGKILL). On SIGTERM or SIGINT: in-flight requests get half of it to
finish (then they are cancelled), background loops get a quarter to stop once cancelled (cancellation is
repeated, so one swallowed cancellation cannot hang the process), and if the process is still alive when
the whole grace has passed, it writes every thread's stack to stderr and exits with ``HARD_EXIT_CODE``:
an orchestrator would kill it anyway, this way the log says where it was stuck. That deadline is armed by
a plain signal handler at the signal itself, so it holds even if the event loop never runs again.
"""
from __future__ import annotations

import asyncio
import errno
import faulthandler
import gc
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Coroutine, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

DEFAULT_GRACE = 10.0
HARD_EXIT_CODE = 70  # EX_SOFTWARE: the shutdown did not finish within the grace period
RECANCEL_EVERY = 0.5  # seconds between repeated cancellations of a task that has not finished


@dataclass(frozen=True)
class Grace:
    """How the shutdown budget is shared out (see the module docstring)."""

    seconds: float = DEFAULT_GRACE

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError(f"the shutdown grace must be a positive number of seconds, not {self.seconds!r}")

    @property
    def drain(self) -> float:
        """In-flight requests may take this long to finish."""
        return self.seconds / 2

    @property
    def tasks(self) -> float:
        """Background loops may take this long to stop once cancelled."""
        return self.seconds / 4


@dataclass(frozen=True)
class Served:
    name: str
    app: ASGIApp
    port: int
    host: str = "127.0.0.1"


class _SharedSignalServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the group, so one Ctrl+C stops them all."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


# The cyclic collector's thresholds once serving (CPython's are 700, 10, 10). Measured over the events
# scenario (loadtests/stall_probe): with the defaults an edge process ran a full collection every ~5 s, each
# 52–71 ms of CPU in one go — the loop stalls behind plp's p99 — and each found next to nothing to free (0–95
# objects: what dies here dies by reference count). A full collection now waits for 100 middle ones instead
# of 10; young and middle ones are as CPython's (raising the first to 7,000 made young collections 5–12 ms and
# middle ones up to 40 ms).
GC_THRESHOLDS = (700, 10, 100)


def freeze_start_up_objects() -> None:
    """Take what start-up built (modules, the introspected schema, parsed documents) out of the cyclic
    collector's reach: it lives as long as the process, and every full collection walked it — an edge
    process paused 70–100 ms at a time under load (gc.callbacks, events scenario). Garbage first, then freeze;
    then the collector runs by ``GC_THRESHOLDS``: far fewer full collections, cycles still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def free_port() -> int:
    """A TCP port nobody listens on right now (for test servers and benchmark runs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(size: int, host: str = "127.0.0.1") -> int:
    """A port P with P..P+size-1 all free now (the demo's layout: edge, simulators and worker side by side)."""
    while True:
        port = free_port()
        if port + size < 65536 and all(port_is_free(host, port + k) for k in range(1, size)):
            return port


class PortInUse(OSError):
    """Something already listens where a server of ours would: found before anything starts."""

    def __init__(self, name: str, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} on {host} ({name}) is already in use")
        self.name, self.host, self.port = name, host, port

    def __str__(self) -> str:
        return str(self.strerror)


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could bind ``host:port`` now (as uvicorn binds: SO_REUSEADDR)."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def check_ports(listeners: Sequence[tuple[str, str, int]]) -> None:
    """Raise PortInUse for the first (name, host, port) already taken, so a command says so in one line
    before it starts anything (instead of a start-up that half happens and a page of tracebacks)."""
    for name, host, port in listeners:
        if not port_is_free(host, port):
            raise PortInUse(name, host, port)


def server_config(app: ASGIApp, host: str, port: int, log_level: str = "warning", *,
                  grace: Grace = Grace(), log_config: Any = uvicorn.config.LOGGING_CONFIG) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on",
                          timeout_graceful_shutdown=max(1, round(grace.drain)), log_config=log_config)


# -- the last resort ------------------------------------------------------------------------------
_deadline_lock = threading.RLock()  # reentrant: a signal handler may arm it while the main thread is in here
_deadline: threading.Timer | None = None


def arm_exit_deadline(seconds: float, why: str) -> None:
    """Exit the process ``seconds`` from now unless it has exited by itself (first call wins).

    Only process entry points call this (the CLI's commands), never code a test runs in its own process.
    """
    global _deadline
    with _deadline_lock:
        if _deadline is not None:
            return

        def expire() -> None:
            sys.stderr.write(f"pricing-edge: still running {seconds:.1f}s after {why}; the stacks of every "
                             f"thread follow, then exit {HARD_EXIT_CODE}\n")
            sys.stderr.flush()
            faulthandler.dump_traceback(all_threads=True)
            os._exit(HARD_EXIT_CODE)

        _deadline = threading.Timer(seconds, expire)
        _deadline.daemon = True
        _deadline.start()


def arm_exit_deadline_on_signal(seconds: float) -> None:
    """Put a plain handler before SIGINT's and SIGTERM's current ones (uvicorn's, in a supervisor's child) that
    arms the exit deadline at the signal, then hands it on: it holds even if the event loop never runs again.
    Only in the main thread (the only one Python delivers signals to), and only before a Python handler."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def arm_then(signum: int, frame: FrameType | None, previous: Callable[[int, FrameType | None], Any] = previous
                     ) -> None:
            arm_exit_deadline(seconds, signal.Signals(signum).name)
            previous(signum, frame)

        signal.signal(sig, arm_then)


class ExitDeadlineOnShutdown:
    """ASGI wrapper for an app a uvicorn supervisor runs in child processes (``serve --workers N``): once the
    child has started (uvicorn's signal handlers in place), a signal arms the whole grace as its exit deadline;
    a shutdown that begins without one arms the rest of the grace once the requests have drained."""

    def __init__(self, app: ASGIApp, grace: Grace) -> None:
        self.app = app
        self.grace = grace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                arm_exit_deadline_on_signal(self.grace.seconds)
            elif message["type"] == "lifespan.shutdown":
                arm_exit_deadline(self.grace.seconds - self.grace.drain, "the shutdown began")
            return message

        await self.app(scope, watched, send)

    def __getattr__(self, name: str) -> Any:  # app.state and friends, for whoever looks into the app
        return getattr(self.app, name)


# -- serving ------------------------------------------------------------------------------------------
async def serve_all(apps: Sequence[Served], log_level: str = "warning", *, grace: Grace = Grace(),
                    log_config: Any = uvicorn.config.LOGGING_CONFIG, exit_deadline: bool = True) -> None:
    """Serve every app on its own port until SIGINT/SIGTERM; a failing start stops the others.

    ``exit_deadline``: a signal also arms the process's exit deadline (the CLI; tests pass False)."""
    servers = [_SharedSignalServer(server_config(s.app, s.host, s.port, log_level, grace=grace,
                                                 log_config=log_config)) for s in apps]

    def stop(signum: int | None = None) -> None:
        for server in servers:
            if server.should_exit and signum is not None:
                server.force_exit = True  # a second signal: stop waiting for requests
            server.should_exit = True  # uvicorn's main loop looks at these flags every 0.1 s

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # A plain handler, not the loop's: Python runs it in the main thread between two bytecodes, so the
        # exit deadline is armed at the signal even while the event loop is starved or blocked (a loop's
        # handler runs only when the loop gets round to it: 12 s late, under load, against a 10 s grace).
        if exit_deadline:
            arm_exit_deadline(grace.seconds, f"{signal.Signals(signum).name}")
        stop(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: not set from Python


def run(apps: Sequence[Served], log_level: str = "warning", *, grace: Grace = Grace(),
        log_config: Any = uvicorn.config.LOGGING_CONFIG) -> None:
    """A process's main: serve until a signal, then stop within ``grace`` (see the module docstring)."""
    asyncio.run(serve_all(apps, log_level, grace=grace, log_config=log_config))


# -- background tasks -----------------------------------------------------------------------------
async def cancel_and_wait(tasks: Sequence[asyncio.Task[Any]], timeout: float = DEFAULT_GRACE / 4,
                          ) -> list[asyncio.Task[Any]]:
    """Stop background tasks and wait until each has finished its cleanup — for at most ``timeout``.

    One cancellation is not always enough on Python 3.11: ``asyncio.wait_for`` (redis-py uses it for
    every command) swallows a cancellation that arrives as its inner await completes, and the task
    runs on. So each task still running is cancelled again every ``RECANCEL_EVERY`` seconds — loops
    should also check a stop flag (see :func:`run_loops`). Being cancelled meanwhile does not cut
    this cleanup short (it is bounded anyway); the cancellation is passed on once it is done. Tasks
    still running at the deadline are logged with their stacks and returned; a task that had failed
    is logged too (it would otherwise go unnoticed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {task for task in tasks if not task.done()}
    interrupted = False
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_EVERY, remaining))
        except asyncio.CancelledError:
            interrupted = True
            pending = {task for task in pending if not task.done()}
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("background task %s had failed: %r", task.get_name(), task.exception())
    stragglers = [task for task in tasks if not task.done()]
    for task in stragglers:
        log.error("background task %s did not stop within %.1fs of being cancelled; left behind at:\n%s",
                  task.get_name(), timeout, _stack(task))
    if interrupted:
        raise asyncio.CancelledError
    return stragglers


async def run_loops(loops: Sequence[Coroutine[Any, Any, None]], *, stop: Callable[[], None],
                    timeout: float = DEFAULT_GRACE / 4, names: Sequence[str] = ()) -> None:
    """Run ``loops`` side by side until they end, one fails, or this is cancelled; then ``stop()`` them
    (their stop flag) and :func:`cancel_and_wait` them, within ``timeout``.

    Not an ``asyncio.TaskGroup``: on 3.11 a group cancels its children once, and a child whose
    cancellation was swallowed keeps the group (and the shutdown waiting on it) open for ever."""
    tasks = [asyncio.create_task(loop, name=names[i] if i < len(names) else None) for i, loop in enumerate(loops)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop()
        await cancel_and_wait(tasks, timeout)


def _stack(task: asyncio.Task[Any]) -> str:
    frames = task.get_stack()
    return "".join(f"  {f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}\n" for f in frames) or "  (no frames)\n"
