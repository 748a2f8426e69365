"""The leak check fails a run whose test leaves a process running — and kills that process — and lets
a test that stops its processes pass. Each case is a real pytest run of its own (pytester)."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

LEAKY = """
    import subprocess, sys

    def test_starts_a_server_and_forgets_it():
        subprocess.Popen([sys.executable, "-c", "import time; print('sleeper'); time.sleep(600)"])
"""
TIDY = """
    import subprocess, sys

    def test_starts_a_server_and_stops_it():
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        process.terminate()
        process.wait(timeout=10)
"""
ORPHANING = """
    import subprocess, sys

    PARENT = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
              "print('spawned', flush=True); time.sleep(600)")

    def test_kills_a_parent_and_leaves_its_child():
        parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE)
        assert parent.stdout.readline() == b"spawned\\n"
        parent.kill()
        parent.wait(timeout=10)
        parent.stdout.close()
"""


def run_inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str) -> pytest.RunResult:
    """A pytest run of ``source`` in a directory of its own, with the leak check loaded by name."""
    pytester.makepyfile(test_inner=textwrap.dedent(source))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    return pytester.runpytest_subprocess("-p", "tests.support.leaks", "-p", "no:cacheprovider", "-q",
                                         timeout=120)


def sleepers() -> list[psutil.Process]:
    """Inner runs' processes still alive anywhere on the machine (they would be this test's doing)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any("time.sleep(600)" in part for part in cmdline):
            found.append(process)
    return found


def test_a_test_that_leaves_a_process_running_fails_the_run_and_the_process_is_killed(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_inner(pytester, monkeypatch, LEAKY)
    assert result.ret != 0
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_starts_a_server_and_forgets_it left 1 process(es) running (now killed)*",
                                 "*time.sleep(600)*"])
    assert sleepers() == []


def test_a_process_orphaned_by_its_killed_parent_is_caught_too(pytester: pytest.Pytester,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_inner(pytester, monkeypatch, ORPHANING)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*test_kills_a_parent_and_leaves_its_child left 1 process(es) running*"])
    assert sleepers() == []


def test_a_test_that_stops_its_processes_passes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_inner(pytester, monkeypatch, TIDY)
    assert result.ret == 0
    result.assert_outcomes(passed=1)
