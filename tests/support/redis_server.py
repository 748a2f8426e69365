"""A real Redis for integration tests: the configured one, the local one, or one we start.

Order: ``PRICING_EDGE_TEST_REDIS_URL``; else ``redis://localhost:6379`` if it answers; else a
``redis-server`` from PATH on a free port, stopped at the end of the session.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

INSTALL_HINT = (
    "No Redis for the integration tests: set PRICING_EDGE_TEST_REDIS_URL, run one on localhost:6379, "
    "or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def delete_prefix(url: str, prefix: str) -> None:
    """Remove every key a test wrote under its prefix."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


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
