"""A real Redis for integration tests, of the test run's own: never a developer's data.

``PRICING_EDGE_TEST_REDIS_URL`` when set (CI with a Redis service, a developer's choice); else a
``redis-server`` from PATH on a free port, one per test process (each xdist worker has its own),
stopped at the end. Keys live under per-test prefixes that name the test process
(:func:`session_namespace`), so the end-of-run check can tell this run's leftovers from anyone else's.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from pricing_edge.runtime import free_port
from pricing_edge.store.redis_chores import answers, delete_prefix

__all__ = ["INSTALL_HINT", "RedisProcess", "answers", "delete_prefix", "free_port", "keys_left", "new_prefix",
           "session_namespace", "test_redis_url"]

INSTALL_HINT = (
    "No Redis for the integration tests: install redis-server (Debian/Ubuntu: apt-get install redis-server; "
    "macOS: brew install redis) or set PRICING_EDGE_TEST_REDIS_URL to a Redis the tests may write to."
)
_NAMESPACE = f"pe-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:6]}"


def session_namespace() -> str:
    """The start of every key prefix this test process hands out (worker id + a random part)."""
    return _NAMESPACE


def new_prefix(name: str = "") -> str:
    """A fresh key prefix under this process's namespace: ``pe-test-gw1-3fa2c1-orders-9b0e…:``."""
    return f"{_NAMESPACE}-{name + '-' if name else ''}{uuid.uuid4().hex[:10]}:"


def keys_left(url: str, match: str = "*", limit: int = 20) -> list[str]:
    """Up to ``limit`` keys matching ``match`` at ``url`` (for the end-of-run leak check)."""
    client = redis.Redis.from_url(url)
    try:
        found = []
        for key in client.scan_iter(match=match, count=1000):
            found.append(key.decode(errors="replace"))
            if len(found) >= limit:
                break
        return found
    finally:
        client.close()


class RedisProcess:
    """A ``redis-server`` child process we own: can be stopped and restarted on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="pricing-edge-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 15.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        os.makedirs(self._dir, exist_ok=True)  # stop() removed it; a restart gets a fresh one
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
            if self._proc.poll() is not None:
                break
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
        shutil.rmtree(self._dir, ignore_errors=True)


@contextmanager
def test_redis_url() -> Iterator[str]:
    """The configured Redis, or a ``redis-server`` of this test process's own for as long as it runs."""
    configured = os.environ.get("PRICING_EDGE_TEST_REDIS_URL")
    if configured:
        if not answers(configured):
            raise RuntimeError(f"PRICING_EDGE_TEST_REDIS_URL={configured} does not answer PING")
        yield configured
        return
    with own_redis_server() as server:
        yield server.url


@contextmanager
def own_redis_server() -> Iterator[RedisProcess]:
    """A started ``redis-server`` of the caller's own (to stop, restart or reconfigure), stopped at the end."""
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()
