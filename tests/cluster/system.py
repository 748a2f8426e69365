"""The whole system on a Redis Cluster: the BigCommerce and ERP simulators (threads), two edge processes
(``pricing-edge serve``) and two workers (``pricing-edge worker``) as real subprocesses, every one of them
configured only by ``PRICING_EDGE_*`` variables with a ``redis+cluster://`` URL — as a merchant runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, erp_sim_app
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from tests.cluster.local_cluster import LocalCluster
from tests.e2e.orders_system import OrderSystem, order_settings
from tests.support.polling import wait_until
from tests.support.redis_server import free_port
from tests.support.servers import serve

# While a failover makes Redis unreachable, an add-to-cart passes only where the last known stock covers
# the quantity this many times: above any stock the tests contest, so scarce stock is never promised blind.
STRICT_REDIS_DOWN_FACTOR = 100


@dataclass(frozen=True)
class Endpoint:
    base_url: str


@dataclass
class ClusterSystem:
    cluster: LocalCluster
    orders: OrderSystem  # BigCommerce's webhooks go to the first edge
    edges: list[str]
    workers: list[str]
    fixtures: dict[str, Any]
    logs: Path

    def buyer(self, customer_id: int | None) -> dict[str, Any]:
        return next(b for b in self.fixtures["buyers"] if b["customer_id"] == customer_id)

    def graphql(self, edge: str, query: str, customer_id: int | None = 1,
                variables: dict[str, Any] | None = None, timeout: float = 30) -> httpx.Response:
        return httpx.post(edge + "/graphql", json={"query": query, "variables": variables or {}},
                          headers=self.buyer(customer_id)["headers"], timeout=timeout)

    def log_tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(self.logs.glob("*.log")))


def settings_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """Every setting as the ``PRICING_EDGE_*`` variable a process reads it from."""
    return {**settings.to_env(), **{f"PRICING_EDGE_{k.upper()}": v for k, v in overrides.items()}}


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path, health: str) -> Iterator[subprocess.Popen[bytes]]:
    """A ``pricing-edge`` subprocess, ready once ``health`` answers 200; killed and reaped on exit."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    with open(log, "ab") as out:
        child = subprocess.Popen([sys.executable, "-m", "pricing_edge.cli", *command], env={**base_env, **env},
                                 stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(health) or child.poll() is not None, timeout=60,
                   what=f"{command[0]} to answer {health}")
        assert child.poll() is None, log.read_text()
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def cluster_system(workdir: Path) -> Iterator[ClusterSystem]:
    cluster = LocalCluster().start()
    with ExitStack() as stack:
        stack.callback(cluster.stop)
        edge_ports, worker_ports = [free_port(), free_port()], [free_port(), free_port()]
        bc_port, erp_port = free_port(), free_port()
        settings = replace(
            order_settings(Settings.from_env({}), workdir), redis_url=cluster.url, redis_prefix="pe:",
            upstream_url=f"http://127.0.0.1:{bc_port}/graphql", admin_url=f"http://127.0.0.1:{bc_port}",
            erp_url=f"http://127.0.0.1:{erp_port}", events_url=f"http://127.0.0.1:{edge_ports[0]}/events/erp",
            worker_url=f"http://127.0.0.1:{worker_ports[0]}", bc_rate_limit="100000/30",
            redis_down_stock_factor=STRICT_REDIS_DOWN_FACTOR)
        bigcommerce = stack.enter_context(serve(bigcommerce_sim_app(settings), bc_port))
        erp = stack.enter_context(serve(erp_sim_app(settings), erp_port))
        edges = [f"http://127.0.0.1:{port}" for port in edge_ports]
        workers = [f"http://127.0.0.1:{port}" for port in worker_ports]
        for n, port in enumerate(edge_ports):
            env = settings_env(settings, schema_cache=str(workdir / f"schema-{n}.json"))
            stack.enter_context(process(["serve", "--port", str(port), "--log-level", "warning"], env,
                                        workdir / f"edge-{n}.log", f"{edges[n]}/readyz"))
        for n, port in enumerate(worker_ports):
            stack.enter_context(process(["worker", "--port", str(port), "--log-level", "warning"],
                                        settings_env(settings), workdir / f"worker-{n}.log", f"{workers[n]}/healthz"))
        orders = OrderSystem(settings, build_dataset(settings.seed), bigcommerce, erp,
                             Endpoint(edges[0]), workers[0])  # type: ignore[arg-type]
        orders.register_hooks()
        fixtures = demo_fixtures(build_dataset(settings.seed), DemoLayout(edge_ports[0]), settings)
        yield ClusterSystem(cluster, orders, edges, workers, fixtures, workdir)
