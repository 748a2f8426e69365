"""Worker processes that each listen on a socket of their own (``SO_REUSEPORT``), so the kernel spreads
connections across them.

uvicorn's supervisor binds one socket in the parent and every worker accepts from it. The kernel wakes the
waiters on that one queue last-in first-out, so a burst of connections — a load balancer's keep-alive pool
opening, or a load generator's — mostly lands on whichever worker is awake: in the benchmarks one edge worker
served 90% of the requests while the other idled, and a process's tail latency was set by the busy one. With a
listening socket per worker in one ``SO_REUSEPORT`` group the kernel hands each new connection to a socket by a
hash of its addresses (Linux), evenly. uvicorn has no option for it (encode/uvicorn PR 2472 is open), so the
supervisor is still uvicorn's (``Multiprocess``: health checks, restarts, signals); only its socket list holds a
``Listener`` instead of a socket — a placeholder that each worker, unpickling it, turns into a socket of its own.
Elsewhere (not Linux, or an ephemeral port, which would differ per worker) it is uvicorn's shared socket.
"""
from __future__ import annotations

import contextlib
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger("uvicorn.error")


def supported(port: int) -> bool:
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT") and port != 0


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` in the port's ``SO_REUSEPORT`` group (the server listens on it). A bind
    that fails ends the worker as a failed start, which stops uvicorn's supervisor instead of restarting it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        logger.error("cannot listen on %s:%d: %s", host, port, exc)
        sock.close()
        sys.exit(STARTUP_FAILURE)
    return sock


class Listener:
    """Stands in uvicorn's socket list in the supervisor; each worker unpickles it as ``listen(host, port)``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return listen, (self.host, self.port)


def run_workers(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """``uvicorn.run(app, factory=True, workers=workers, ...)`` with a listening socket per worker where the
    platform spreads connections across them (see the module's docstring)."""
    if workers < 2 or not supported(port):
        uvicorn.run(app, factory=True, host=host, port=port, workers=workers, **options)
        return
    config = uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, **options)
    logger.info("Uvicorn running on http://%s:%d, a listening socket per worker (SO_REUSEPORT)", host, port)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: the supervisor has stopped its workers
        Multiprocess(config, sockets=[Listener(host, port)]).run()  # type: ignore[list-item]
