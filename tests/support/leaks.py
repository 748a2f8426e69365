"""The leak check, a pytest plugin (``tests/conftest.py`` loads it): a test that leaves a process
running fails, and so does a run whose fixtures leave one behind. Leftover processes are killed, so a
failing run still leaves the machine clean. (Redis keys: the ``redis_url`` fixture checks those.)

Everything the test process starts is watched, grandchildren too: on Linux the test process makes
itself a *child subreaper*, so a server's workers orphaned by a killed parent stay visible here.

A fixture of a wider scope that starts a process lazily, inside a test (``request.getfixturevalue``),
tells the check with :func:`outlives_the_test`.
"""
from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterable, Iterator

import psutil
import pytest

LINGER_SECONDS = 3.0  # a process told to stop just before the check may take this long to go
_PR_SET_CHILD_SUBREAPER = 36
_long_lived: set[int] = set()


def outlives_the_test(pid: int) -> None:
    """``pid`` belongs to a module- or session-wide fixture: not a leak of the test that started it."""
    _long_lived.add(pid)


def _become_subreaper() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def running_descendants() -> dict[int, psutil.Process]:
    """Processes below this one that are still running (zombies have finished: they do not count)."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                found[process.pid] = process
    return found


def describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid}: {' '.join(process.cmdline())[:300]}"
    except psutil.Error:
        return f"pid {process.pid}"


def still_running(processes: Iterable[psutil.Process], linger: float = LINGER_SECONDS) -> list[psutil.Process]:
    """Those of ``processes`` that have not exited within ``linger`` seconds."""
    _, alive = psutil.wait_procs(list(processes), timeout=linger)
    return [p for p in alive if _running(p)]


def stop(processes: Iterable[psutil.Process]) -> None:
    """SIGTERM, then SIGKILL what is left after a few seconds."""
    processes = list(processes)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=3)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=3)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _leaked(before: set[int], what: str) -> str | None:
    new = [p for pid, p in running_descendants().items() if pid not in before and pid not in _long_lived]
    if not new:
        return None
    alive = still_running(new)
    if not alive:
        return None
    lines = "\n".join(f"  {describe(p)}" for p in alive)
    stop(alive)
    return f"{what} left {len(alive)} process(es) running (now killed):\n{lines}"


def pytest_configure(config: pytest.Config) -> None:
    _become_subreaper()


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_by_the_run() -> Iterator[None]:
    before = set(running_descendants())
    yield
    _long_lived.clear()  # every fixture has been torn down by now: whatever still runs is a leak
    problem = _leaked(before, "the test run's fixtures")
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(autouse=True)
def _no_process_left_by_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    before = set(running_descendants())
    yield
    problem = _leaked(before, request.node.nodeid)
    if problem:
        pytest.fail(problem, pytrace=False)
