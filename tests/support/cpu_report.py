"""Where the suite's CPU goes, a pytest plugin (``tests/conftest.py`` loads it; silent unless asked):
``pytest --cpu-report=N`` prints the N tests and the modules that used the most CPU time (user + system),
setup, call and teardown apart, the test process and its finished children (CLI commands, servers) together.
On this shared machine wall time is noise and CPU time is not: this is what a cheaper test is judged by.
(Under xdist each worker prints its own; a process still running at a phase's end is counted when reaped.)"""
from __future__ import annotations

import resource
from collections import defaultdict
from collections.abc import Generator

import pytest

_spent: dict[tuple[str, str], float] = defaultdict(float)  # (test id, phase) -> CPU seconds


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-report", type=int, default=0, metavar="N",
                     help="print the N tests and modules that used the most CPU time (0: no report)")


def _measure(item: pytest.Item, phase: str) -> Generator[None, None, None]:
    if not item.config.getoption("cpu_report"):
        yield
        return
    start = _cpu_seconds()
    try:
        yield
    finally:
        _spent[(item.nodeid, phase)] += _cpu_seconds() - start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _measure(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _measure(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    yield from _measure(item, "teardown")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    top = config.getoption("cpu_report")
    if not top or not _spent:
        return
    modules: dict[str, float] = defaultdict(float)
    for (nodeid, _), seconds in _spent.items():
        modules[nodeid.split("::")[0]] += seconds
    write = terminalreporter.write_line
    terminalreporter.section(f"CPU time (user + sys, children included): {sum(_spent.values()):.1f} s in tests")
    for (nodeid, phase), seconds in sorted(_spent.items(), key=lambda kv: -kv[1])[:top]:
        write(f"{seconds:8.2f}s {phase:8} {nodeid}")
    write("by module:")
    for module, seconds in sorted(modules.items(), key=lambda kv: -kv[1])[:top]:
        write(f"{seconds:8.2f}s {module}")
