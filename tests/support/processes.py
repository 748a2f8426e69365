"""The real commands as child processes: ``pricing-edge serve|worker|demo`` with an environment of the
test's own, output kept in a log file, always stopped (killed if need be) when the test ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pricing_edge.runtime import free_port_block

__all__ = ["cli_env", "cli_process", "demo_process", "free_port_block", "sigterm_and_wait"]


def cli_env(settings: Mapping[str, object]) -> dict[str, str]:
    """This process's environment without any ``PRICING_EDGE_*`` of the developer's, plus ``settings``
    (``{"redis_url": ...}`` becomes ``PRICING_EDGE_REDIS_URL``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    env.update({f"PRICING_EDGE_{name.upper()}": str(value) for name, value in settings.items() if value is not None})
    return env


@contextmanager
def cli_process(args: list[str], env: Mapping[str, str], log_path: Path, command: Sequence[str] = (),
                cwd: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """``pricing-edge ARGS`` running; killed on the way out if the test has not stopped it. ``command`` is
    how to run pricing-edge (default: this checkout's, with this interpreter)."""
    program = list(command) or [sys.executable, "-m", "pricing_edge.cli"]
    with open(log_path, "ab") as log:
        process = subprocess.Popen([*program, *args], env=dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def sigterm_and_wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[float, int | None]:
    """Send SIGTERM; (seconds until the process exited, its exit status) — status None if it was still
    running after ``timeout`` (it is left running for the caller's cleanup to kill)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.monotonic() - started, None
    return time.monotonic() - started, status


@contextmanager
def demo_process(env: Mapping[str, str], log_path: Path, attempts: int = 3, command: Sequence[str] = (),
                 cwd: Path | None = None) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``pricing-edge demo`` up and ready on a block of four free ports: (process, edge port). Another test
    may take one of the four between the check and the bind; then it is tried again on another block."""
    from tests.support.polling import wait_until

    for _ in range(attempts):
        port = free_port_block(4)
        with cli_process(["demo", "--port", str(port)], env, log_path, command, cwd) as demo:
            wait_until(lambda: _ready(f"http://127.0.0.1:{port}") or demo.poll() is not None, timeout=120,
                       what="the demo to start")
            if demo.poll() is None:
                yield demo, port
                return
        if "already in use" not in log_path.read_text():  # uvicorn's bind, or the CLI's own check
            raise AssertionError(f"the demo exited during start-up:\n{log_path.read_text()}")
    raise AssertionError(f"the demo found no free ports in {attempts} tries:\n{log_path.read_text()}")


def _ready(base_url: str) -> bool:
    import httpx

    try:
        return httpx.get(base_url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
