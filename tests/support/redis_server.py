"""A real Redis for integration tests: the configured one, the local one, or one we start.

Order: ``PRICING_EDGE_TEST_REDIS_URL``; else ``redis://localhost:6379`` if it answers; else a
``redis-server`` from PATH on a free port, stopped at the end of the session.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


from pricing_edge.runtime import free_port
from pricing_edge.store.redis_chores import answers, delete_prefix

__all__ = ["INSTALL_HINT", "RedisProcess", "answers", "delete_prefix", "free_port", "test_redis_url"]

INSTALL_HINT = (
    "No Redis for the integration tests: set PRICING_EDGE_TEST_REDIS_URL, run one on localhost:6379, "
    "or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)."
)


class RedisProcess:
    """A ``redis-server`` child process we own: can be stopped and restarted on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="pricing-edge-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self.url):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout}s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


@contextmanager
def test_redis_url() -> Iterator[str]:
    configured = os.environ.get("PRICING_EDGE_TEST_REDIS_URL")
    if configured:
        if not answers(configured):
            raise RuntimeError(f"PRICING_EDGE_TEST_REDIS_URL={configured} does not answer PING")
        yield configured
        return
    if answers("redis://localhost:6379/0"):
        yield "redis://localhost:6379/0"
        return
    server = RedisProcess()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
