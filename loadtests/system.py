"""The system under test, started as the production shape: each part its own process on a free port.

- Redis: ``--redis-url`` / ``PRICING_EDGE_REDIS_URL``, else the local one on 6379, else a
  ``redis-server`` started here; either way under a key prefix of this run's own, deleted at the end.
- BigCommerce simulator (``pricing-edge sim bigcommerce``, its default 150 ms latency), ERP simulator
  (``pricing-edge sim erp``, events to the edge), the edge (``pricing-edge serve --workers N``, N = cores:
  uvicorn with uvloop and httptools, access log off — README "Running the edge in production"), and
  the limit baseline (``python -m loadtests.limit_app``, the same uvicorn settings). With ``with_worker``
  (``--with-worker``) a sync worker too (``pricing-edge worker``), as production runs one beside the edge;
  without it nothing consumes the worker's streams and nothing is pushed into BigCommerce.

Every process is started in a session of its own, so stopping one stops its uvicorn workers too; stop()
runs on any exit, Ctrl+C included.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import httpx
import redis

from pricing_edge.config import Settings
from pricing_edge.demo import demo_settings
from pricing_edge.runtime import free_port
from pricing_edge.sim.fixtures import DemoLayout
from pricing_edge.store.redis_chores import answers as redis_answers
from pricing_edge.store.redis_chores import delete_prefix

LOCAL_REDIS = "redis://localhost:6379/0"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)  # its own session: the process and its workers
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()


class System:
    """``with System(...) as system:`` — everything started, and stopped on the way out."""

    def __init__(self, *, workdir: Path | None = None, redis_url: str | None = None, workers: int | None = None,
                 bc_latency_ms: float | None = None, log_level: str = "warning", sim_skus: int | None = None,
                 with_worker: bool = False) -> None:
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="pricing-edge-bench-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workers = workers or os.cpu_count() or 1
        self.log_level = log_level
        self.requested_redis = redis_url or os.environ.get("PRICING_EDGE_REDIS_URL")
        self.prefix = f"pe-bench-{uuid.uuid4().hex[:8]}:"
        self.ports = {"edge": free_port(), "bigcommerce": free_port(), "erp": free_port(), "limit": free_port()}
        self.with_worker = with_worker  # production's shape: a sync worker beside the edge (off by default)
        if with_worker:
            self.ports["worker"] = free_port()
        layout = DemoLayout(self.ports["edge"])
        base = Settings.from_env()
        if sim_skus is not None:  # the simulators' catalog size (scale): the price lists the edge is told follow it
            base = replace(base, sim_skus=sim_skus)
        self.settings = replace(
            demo_settings(base, layout),
            upstream_url=f"http://127.0.0.1:{self.ports['bigcommerce']}/graphql",
            erp_url=f"http://127.0.0.1:{self.ports['erp']}",
            admin_url=f"http://127.0.0.1:{self.ports['bigcommerce']}",
            schema_cache=str(self.workdir / "upstream-schema.json"),
            bc_latency_ms=base.bc_latency_ms if bc_latency_ms is None else bc_latency_ms,
            redis_prefix=self.prefix)
        self.redis_url = ""
        self.processes: dict[str, Process] = {}
        self._redis_dir: str | None = None
        self.startup_s: dict[str, float] = {}  # spawn to answering, per process (the simulators' start-up)
        self._spawned_at: dict[str, float] = {}

    # --- URLs -----------------------------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def edge_url(self) -> str:
        return self.url("edge")

    @property
    def bigcommerce_url(self) -> str:
        return self.url("bigcommerce")

    @property
    def erp_url(self) -> str:
        return self.url("erp")

    @property
    def limit_url(self) -> str:
        return self.url("limit")

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> System:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
        env.update({
            "PRICING_EDGE_REDIS_URL": self.redis_url, "PRICING_EDGE_REDIS_PREFIX": self.prefix,
            "PRICING_EDGE_UPSTREAM_URL": s.upstream_url, "PRICING_EDGE_ERP_URL": s.erp_url,
            "PRICING_EDGE_ADMIN_URL": s.admin_url, "PRICING_EDGE_EVENT_SECRET": s.event_secret or "",
            "PRICING_EDGE_EVENTS_URL": f"{self.edge_url}/events/erp",
            "PRICING_EDGE_PRICE_LISTS": s.to_env()["PRICING_EDGE_PRICE_LISTS"], "PRICING_EDGE_DEFAULT_PRICE_LIST": str(s.default_price_list),
            "PRICING_EDGE_SCHEMA_CACHE": s.schema_cache, "PRICING_EDGE_SEED": str(s.seed),
            "PRICING_EDGE_SIM_SKUS": str(s.sim_skus),
            "PRICING_EDGE_BC_LATENCY_MS": str(s.bc_latency_ms), "PRICING_EDGE_ERP_LATENCY_MS": str(s.erp_latency_ms),
            # the load generator stands for the proxy in front of the edge (abuse: clients by True-Client-IP)
            "PRICING_EDGE_TRUSTED_PROXIES": "127.0.0.1/32",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                        os.environ.get("PYTHONPATH")])),
        })
        # Pass through the user's own tuning of the edge (TTLs, budgets), never the layout set above.
        for key, value in os.environ.items():
            if key.startswith("PRICING_EDGE_") and key not in env:
                env[key] = value
        return env

    def start(self) -> None:
        self.start_simulators()
        cli = [sys.executable, "-m", "pricing_edge.cli"]
        level = ["--log-level", self.log_level]
        self._spawn("edge", [*cli, "serve", "--port", str(self.ports["edge"]), "--workers", str(self.workers), *level])
        self._wait_http("edge", self.edge_url + "/readyz", ok_only=True)
        if self.with_worker:
            self._spawn("worker", [*cli, "worker", "--port", str(self.ports["worker"]), *level])
            self._wait_http("worker", self.url("worker") + "/healthz", ok_only=True)

    def start_simulators(self) -> None:
        """Redis and both simulators (the ERP's events to the edge's URL), answering."""
        self._start_redis()
        cli = [sys.executable, "-m", "pricing_edge.cli"]
        level = ["--log-level", self.log_level]
        self._spawn("bigcommerce", [*cli, "sim", "bigcommerce", "--port", str(self.ports["bigcommerce"]),
                                    "--latency-ms", str(self.settings.bc_latency_ms), *level])
        self._spawn("erp", [*cli, "sim", "erp", "--port", str(self.ports["erp"]), "--events-url",
                            f"{self.edge_url}/events/erp", *level])
        self._wait_http("bigcommerce", self.bigcommerce_url + "/graphql")
        self._wait_http("erp", self.erp_url + "/healthz")

    def warm_store(self, timeout: float = 300) -> dict[str, Any]:
        """``pricing-edge warm``: every assigned price list and all stock into Redis, as production would."""
        done = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "warm"], env=self.env(), check=True,
                              capture_output=True, timeout=timeout)
        import orjson

        report: dict[str, Any] = orjson.loads(done.stdout)
        return report

    def start_limit(self, responses: Path) -> None:
        self._spawn("limit", [sys.executable, "-m", "loadtests.limit_app", "--port", str(self.ports["limit"]),
                              "--workers", str(self.workers), "--responses", str(responses),
                              "--log-level", self.log_level])
        self._wait_http("limit", self.limit_url + "/healthz", ok_only=True)

    def pids(self, name: str) -> list[int]:
        process = self.processes.get(name)
        return [process.pid] if process else []

    def stop(self) -> None:
        for name in reversed([n for n in self.processes if n != "redis"]):
            self.processes.pop(name).stop()
        if self.redis_url:
            with contextlib.suppress(redis.RedisError, OSError):
                delete_prefix(self.redis_url, self.prefix)
        if "redis" in self.processes:
            self.processes.pop("redis").stop()
        if self._redis_dir:
            shutil.rmtree(self._redis_dir, ignore_errors=True)

    def logs(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # --- helpers --------------------------------------------------------------------------------

    def _start_redis(self) -> None:
        if self.requested_redis:
            if not redis_answers(self.requested_redis):
                raise RuntimeError(f"Redis at {self.requested_redis} does not answer PING")
            self.redis_url = self.requested_redis
            return
        if redis_answers(LOCAL_REDIS):
            self.redis_url = LOCAL_REDIS
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("no Redis: set PRICING_EDGE_REDIS_URL, run one on localhost:6379 or install redis-server")
        port = free_port()
        self._redis_dir = tempfile.mkdtemp(prefix="pricing-edge-bench-redis-")
        self._spawn("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--dir", self._redis_dir])
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while not redis_answers(self.redis_url):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer within 10 s")
            time.sleep(0.05)

    def _spawn(self, name: str, argv: list[str]) -> None:
        self._spawned_at[name] = time.monotonic()
        log = (self.workdir / f"{name}.log").open("ab")
        popen = subprocess.Popen(argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=Path(__file__).resolve().parents[1], start_new_session=True)
        self.processes[name] = Process(name, popen, log)

    def _wait_http(self, name: str, url: str, *, ok_only: bool = False, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if not process.alive():
                raise RuntimeError(f"{name} exited during start-up:\n{self.logs(name)}")
            try:
                status = httpx.get(url, timeout=2).status_code
                if not ok_only or status == 200:
                    self.startup_s[name] = round(time.monotonic() - self._spawned_at[name], 2)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer {url} within {timeout} s:\n{self.logs(name)}")
