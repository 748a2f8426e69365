"""``pricing-edge serve``, ``worker`` and ``demo`` exit within their grace period after SIGTERM, whatever
they are doing: each is started as a real process with a loop stuck in a slow ERP call (and, for the
edge, a request still in flight), then sent the signal an orchestrator sends. And whatever the event loop
is doing: a process serving through ``runtime.run`` (what all three call) whose loop is blocked outright
still exits at its grace, because the exit deadline is armed at the signal, not when the loop runs."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_order, demo_settings, erp_sim_app, pristine_dataset
from pricing_edge.runtime import DEFAULT_GRACE, HARD_EXIT_CODE
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from tests.e2e.orders_system import order_system, worker_env
from tests.support.blocked_loop import BLOCKING
from tests.support.polling import wait_until
from tests.support.processes import cli_env, cli_process, demo_process, sigterm_and_wait
from tests.support.redis_server import free_port
from tests.support.servers import serve

PRICE = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"
STUCK = {"latency_ms": 120_000}  # every ERP call takes two minutes...
PATIENT = {"erp_timeout": 300, "upstream_timeout": 300}  # ...and nobody gives up on it


def test_the_default_grace_is_well_under_what_an_orchestrator_waits() -> None:
    assert Settings.from_env({}).shutdown_grace == DEFAULT_GRACE <= 15  # Kubernetes waits 30 s, then SIGKILL


def ready(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_exits_within_its_grace_with_erp_reads_stuck_and_a_request_in_flight(
        redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    port = free_port()
    settings = replace(demo_settings(Settings.from_env({}), DemoLayout(port)), bc_latency_ms=0, erp_latency_ms=0)
    with serve(bigcommerce_sim_app(settings)) as bigcommerce, serve(erp_sim_app(settings)) as erp:
        assert httpx.post(erp.base_url + "/_sim/faults", json=STUCK).status_code == 200
        env = cli_env({"redis_url": redis_url, "redis_prefix": redis_prefix, "event_secret": settings.event_secret,
                       "upstream_url": bigcommerce.base_url + "/graphql", "erp_url": erp.base_url,
                       "price_lists": settings.to_env()["PRICING_EDGE_PRICE_LISTS"], "default_price_list": settings.default_price_list,
                       "schema_cache": tmp_path / "schema.json", "warm_at_start": 1, **PATIENT})
        with cli_process(["serve", "--port", str(port), "--log-level", "info"], env, tmp_path / "serve.log") as edge:
            wait_until(lambda: ready(f"http://127.0.0.1:{port}") or edge.poll() is not None, timeout=60,
                       what="the edge to start")
            assert edge.poll() is None, (tmp_path / "serve.log").read_text()
            # Warming is stuck in the ERP; so is this request's read-through, which goes on after its answer.
            product = build_dataset(settings.seed).products[0]
            answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": PRICE, "variables": {
                "id": product.id}}, headers={"Authorization": f"Bearer {settings.storefront_token}"}, timeout=30)
            assert answer.json()["extensions"]["pricingEdge"]["degraded"] == ["erp"]
            with socket.create_connection(("127.0.0.1", port)) as slow_client:  # a request never finished
                slow_client.sendall(b"POST /graphql HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n"
                                    b"Content-Length: 1000\r\n\r\n{\"query\": ")
                elapsed, status = sigterm_and_wait(edge, timeout=DEFAULT_GRACE + 20)
        log = (tmp_path / "serve.log").read_text()
        assert status == 0, f"exit status {status} after {elapsed:.1f}s\n{log}"
        assert elapsed < DEFAULT_GRACE, log


def test_worker_exits_within_its_grace_while_an_order_waits_on_the_erp_and_the_order_still_posts_once(
        redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, bc_rate_limit="100000/30")
    with order_system(settings, tmp_path, worker="none") as system:
        # The ERP commits the order at once and then holds its reply: the worker is stuck in the call.
        system.erp_sim("/sales-orders/hold-replies", {"seconds": 300})
        env = worker_env(replace(system.settings, **PATIENT))
        port = system.worker_url.rsplit(":", 1)[1]
        with cli_process(["worker", "--port", port], env, tmp_path / "worker.log") as worker:
            wait_until(lambda: _healthy(system.worker_url) or worker.poll() is not None, timeout=60,
                       what="the worker to start")
            (sku,) = system.skus(1)
            order = system.create_order(1, [system.line(sku, 1, 1)])
            (committed,) = wait_until(lambda: system.erp_orders(system.reference(order["id"])),
                                      what="the ERP to commit the order (the worker now waits for its reply)")
            elapsed, status = sigterm_and_wait(worker, timeout=DEFAULT_GRACE + 20)
        log = (tmp_path / "worker.log").read_text()
        assert status == 0, f"exit status {status} after {elapsed:.1f}s\n{log}"
        assert elapsed < DEFAULT_GRACE, log
        # The message cut short comes back to the next worker, which finds the order by its reference.
        system.erp_sim("/sales-orders/hold-replies", {"seconds": 0})
        with cli_process(["worker", "--port", port], env, tmp_path / "worker-2.log") as second:
            wait_until(lambda: _healthy(system.worker_url) or second.poll() is not None, timeout=60,
                       what="the second worker to start")
            assert system.wait_synced(order["id"], timeout=60)["erp_id"] == committed["number"]
            assert len(system.erp_orders(system.reference(order["id"]))) == 1
            assert sigterm_and_wait(second, timeout=DEFAULT_GRACE + 20)[1] == 0


def test_demo_exits_within_its_grace_while_its_worker_waits_on_the_erp(tmp_path: Path) -> None:
    env = cli_env({"bc_latency_ms": 0, "schema_cache": tmp_path / "schema.json", **PATIENT})
    with demo_process(env, tmp_path / "demo.log") as (demo, port):
        fixtures = demo_fixtures(pristine_dataset(Settings.from_env({}).seed), DemoLayout(port), Settings.from_env({}))
        assert httpx.post(fixtures["erp_url"] + "/_sim/sales-orders/hold-replies", json={"seconds": 300},
                          timeout=30).status_code == 200
        order = httpx.post(fixtures["admin_url"] + "/v2/orders", json=demo_order(fixtures),
                           headers={"X-Auth-Token": fixtures["admin_token"]}, timeout=30).json()
        reference = f"BC-demo-{order['id']}"
        wait_until(lambda: httpx.get(fixtures["erp_url"] + "/api/v1/sales-orders", params={"reference": reference},
                                     timeout=30).json()["items"], timeout=60,
                   what="the ERP to commit the demo order (the worker now waits for its reply)")
        elapsed, status = sigterm_and_wait(demo, timeout=DEFAULT_GRACE + 20)
    log = (tmp_path / "demo.log").read_text()
    assert status == 0, f"exit status {status} after {elapsed:.1f}s\n{log}"
    assert elapsed < DEFAULT_GRACE, log


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


BLOCKED_GRACE = 2.0


@contextmanager
def blocked_loop_process(port: int, log_path: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``tests/support/blocked_loop.py`` running: its ``/block`` blocks an event loop for two minutes."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "tests.support.blocked_loop", str(port), str(BLOCKED_GRACE),
                                    *args], stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[1],
                                   start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):  # the supervisor's children too, whatever became of it
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.mark.parametrize(("how", "workers"), [("sleep", None), ("spin", None), ("sleep", "2")])
def test_a_process_whose_event_loop_is_blocked_still_exits_at_its_grace(how: str, workers: str | None,
                                                                       tmp_path: Path) -> None:
    """``workers``: served as ``serve --workers N`` serves, a supervisor whose child gets the signal from it."""
    port, log_path = free_port(), tmp_path / "blocked.log"
    with blocked_loop_process(port, log_path, *(["--workers", workers] if workers else [])) as process:
        wait_until(lambda: ready(f"http://127.0.0.1:{port}") or process.poll() is not None, timeout=60,
                   what="the process to start")
        assert process.poll() is None, log_path.read_text()
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(f"GET /block?how={how} HTTP/1.1\r\nHost: blocked\r\n\r\n".encode())
            wait_until(lambda: BLOCKING in log_path.read_text(), timeout=60,
                       what="the request to block the event loop")
            # The loop would handle the signal only in two minutes; the orchestrator waits the grace period.
            elapsed, status = sigterm_and_wait(process, timeout=BLOCKED_GRACE + 20)
    log = log_path.read_text()
    assert status == (0 if workers else HARD_EXIT_CODE), f"exit status {status} after {elapsed:.1f}s\n{log}"
    assert f"still running {BLOCKED_GRACE:.1f}s after SIGTERM" in log and "in block" in log  # where it was stuck
    assert elapsed < BLOCKED_GRACE + 10, log  # at the grace, with a margin for a loaded machine
