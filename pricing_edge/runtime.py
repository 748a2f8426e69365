"""Running several ASGI apps (edge, worker, simulators) in one process, as the demo does."""
from __future__ import annotations

import asyncio
import errno
import signal
import socket
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp


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


def free_port() -> int:
    """A TCP port nobody listens on right now (for test servers and benchmark runs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def server_config(app: ASGIApp, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on")


async def serve_all(apps: Sequence[Served], log_level: str = "warning") -> None:
    """Serve every app on its own port until SIGINT/SIGTERM; a failing start stops the others."""
    servers = [_SharedSignalServer(server_config(s.app, s.host, s.port, log_level)) for s in apps]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def cancel_and_wait(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Stop background tasks at shutdown and wait until each has finished its cleanup."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def run(apps: Sequence[Served], log_level: str = "warning") -> None:
    asyncio.run(serve_all(apps, log_level))
