"""``pricing-edge serve --workers N`` gives each worker a listening socket of its own in one ``SO_REUSEPORT``
group, so connections opened together — a load balancer's pool, a load generator's — are spread across the
workers instead of piling onto the one that happened to be awake (``pricing_edge/reuse_port.py``)."""
from __future__ import annotations

import pickle
import socket
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, erp_sim_app
from pricing_edge.ops.instance import HEADER
from pricing_edge.reuse_port import Listener, supported
from pricing_edge.sim.fixtures import DemoLayout
from tests.support.polling import wait_until
from tests.support.processes import cli_env, cli_process, sigterm_and_wait
from tests.support.redis_server import free_port
from tests.support.servers import serve

pytestmark = pytest.mark.skipif(not supported(1), reason="SO_REUSEPORT spreads connections on Linux only")

CONNECTIONS = 40


def test_a_worker_unpickles_the_listener_as_a_socket_of_its_own_in_the_port_s_group() -> None:
    port = free_port()
    first, second = (pickle.loads(pickle.dumps(Listener("127.0.0.1", port))) for _ in range(2))
    with first, second:  # two sockets bound to one port: only a SO_REUSEPORT group allows that
        for sock in (first, second):
            assert isinstance(sock, socket.socket)
            assert sock.getsockname() == ("127.0.0.1", port)
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1


def _instance_of(sock: socket.socket) -> str:
    """Which worker answers on this connection (the instance header of a ``/healthz``)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before the answer's head: {head!r}"
        head += chunk
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return next(line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith(HEADER + ":"))


def test_connections_opened_together_are_spread_across_the_workers(
        redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    port = free_port()
    settings = replace(demo_settings(Settings.from_env({}), DemoLayout(port)), bc_latency_ms=0, erp_latency_ms=0)
    with serve(bigcommerce_sim_app(settings)) as bigcommerce, serve(erp_sim_app(settings)) as erp:
        env = cli_env({"redis_url": redis_url, "redis_prefix": redis_prefix, "event_secret": settings.event_secret,
                       "upstream_url": bigcommerce.base_url + "/graphql", "erp_url": erp.base_url,
                       "price_lists": settings.to_env()["PRICING_EDGE_PRICE_LISTS"],
                       "default_price_list": settings.default_price_list, "schema_cache": tmp_path / "schema.json"})
        log = tmp_path / "serve.log"
        with cli_process(["serve", "--port", str(port), "--workers", "2"], env, log) as edge:
            seen: set[str] = set()

            def both_workers_serve() -> bool:  # each worker is up once a connection has reached it
                assert edge.poll() is None, log.read_text()
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                        seen.add(_instance_of(sock))
                except OSError:
                    return False
                return len(seen) == 2

            wait_until(both_workers_serve, timeout=60, what="both workers to answer")
            sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(CONNECTIONS)]
            try:
                served = Counter(_instance_of(sock) for sock in sockets)
            finally:
                for sock in sockets:
                    sock.close()
                sigterm_and_wait(edge, timeout=30)  # the supervisor stops its workers
    assert len(served) == 2 and min(served.values()) >= CONNECTIONS // 5, served  # a fair coin: ≥ 8 in 40 each
