"""Real servers on free ports: an ASGI app under uvicorn in a background thread."""
from __future__ import annotations

import asyncio
import inspect
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

STOP_REQUESTS_WITHIN = 2  # seconds a stopping test server waits for requests in flight
STOPPED_WITHIN = 30.0


class ServerThread:
    """uvicorn servers in one background thread and event loop, stopped on exit. Usually one app;
    several (``also``) when they must share one loop, as the demo's edge and worker share an
    embedded store."""

    def __init__(self, app: ASGIApp, port: int | None = None, also: Sequence[tuple[ASGIApp, int]] = ()) -> None:
        # No port asked for: the server gets a socket already bound to one the kernel chose, so no other test
        # can take that port between choosing it and binding it (a free port chosen, then bound, could).
        self.socket = None if port else bound_socket()
        self.port = port or self.socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.servers = [uvicorn.Server(uvicorn.Config(a, host="127.0.0.1", port=p, log_level="warning",
                                                      lifespan="on", access_log=False,
                                                      timeout_graceful_shutdown=STOP_REQUESTS_WITHIN))
                        for a, p in [(app, self.port), *also]]
        self.server = self.servers[0]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

        async def serve_all() -> None:
            first = [self.socket] if self.socket is not None else None
            await asyncio.gather(*(server.serve(sockets=first if server is self.server else None)
                                   for server in self.servers))

        self.loop.run_until_complete(serve_all())

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(server.started for server in self.servers):
                return
            if not self.thread.is_alive():
                raise RuntimeError(f"server on port {self.port} exited during start-up")
            time.sleep(0.02)
        raise RuntimeError(f"server on port {self.port} did not start within {timeout}s")

    def stop(self) -> None:
        """Stop and wait: requests still running get ``STOP_REQUESTS_WITHIN`` seconds, the app's shutdown
        its own bound; a server still running after ``STOPPED_WITHIN`` is a bug, reported here."""
        for server in self.servers:
            server.should_exit = True
        self.thread.join(timeout=STOPPED_WITHIN)
        if self.thread.is_alive():
            raise RuntimeError(f"the server on port {self.port} did not stop within {STOPPED_WITHIN}s")


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to a port of the kernel's choosing on ``host``, for uvicorn to listen on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@contextmanager
def serve(app: ASGIApp, port: int | None = None, also: Sequence[tuple[ASGIApp, int]] = ()) -> Iterator[ServerThread]:
    """``with serve(app) as server: httpx.get(server.base_url + "/healthz")``"""
    server = ServerThread(app, port, also)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def client(server: ServerThread, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=30.0, **kwargs)  # type: ignore[arg-type]


def on_loop(server: ServerThread, work: Callable[[], Any]) -> Any:
    """``work()`` — awaited, if it returns an awaitable — on the server's own event loop, in its thread: what a
    test changes in a running server's state does not race what the server is doing."""

    async def run() -> Any:
        result = work()
        return await result if inspect.isawaitable(result) else result

    assert server.loop is not None, "the server is not running"
    return asyncio.run_coroutine_threadsafe(run(), server.loop).result(STOPPED_WITHIN)
