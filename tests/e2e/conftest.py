"""The whole read path over real HTTP: BigCommerce simulator, ERP simulator (sending signed events
to the edge), and the edge on a real Redis (or the embedded store), each on its own free port."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from pricing_edge.clock import SYSTEM_CLOCK, Clock
from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, edge_app, erp_sim_app
from pricing_edge.demo import pristine_dataset
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from tests.support.clock import ManualClock
from tests.support.redis_server import delete_prefix, free_port, new_prefix
from tests.support.servers import ServerThread, serve


@dataclass
class System:
    settings: Settings
    fixtures: dict[str, Any]
    edge: ServerThread
    bigcommerce: ServerThread
    erp: ServerThread
    clock: Clock = SYSTEM_CLOCK

    @property
    def edge_url(self) -> str:
        return self.edge.base_url + "/graphql"

    def buyer(self, key: str) -> dict[str, Any]:
        return next(b for b in self.fixtures["buyers"] if (str(b["customer_id"]) if b["customer_id"] else "guest") == key)

    def query(self, query: str, buyer: str = "guest", variables: dict[str, Any] | None = None,
              url: str | None = None) -> dict[str, Any]:
        response = httpx.post(url or self.edge_url, json={"query": query, "variables": variables or {}},
                              headers=self.buyer(buyer)["headers"], timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def upstream(self, query: str, buyer: str = "guest", variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.query(query, buyer, variables, url=self.bigcommerce.base_url + "/graphql")

    def change_price(self, **change: Any) -> dict[str, Any]:
        response = httpx.post(self.erp.base_url + "/_sim/changes/price", json=change, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def patient_settings() -> Settings:
    """Default settings for a test of behaviour, not of budgets: a loaded machine is not an outage, so an
    ERP read gets 10 s and BigCommerce 30 s before an answer degrades (a test of the budgets sets its own)."""
    return replace(Settings.from_env({}), erp_budget_ms=10_000.0, upstream_budget_ms=30_000.0)


def start_system(settings: Settings, tmp_path: Path, clock: Clock = SYSTEM_CLOCK) -> Iterator[System]:
    """``clock``: what the edge judges freshness by (a ``tests.support.clock.ManualClock`` for TTL tests).
    Redis gets 10 s before it counts as down (unless the settings chose): a loaded machine is not an outage."""
    if settings.redis_timeout == Settings.redis_timeout:
        settings = replace(settings, redis_timeout=10.0)
    port = free_port()
    layout = DemoLayout(port)
    bc_port, erp_port = free_port(), free_port()
    settings = demo_settings(settings, layout)
    settings = replace(settings, upstream_url=f"http://127.0.0.1:{bc_port}/graphql", admin_url=f"http://127.0.0.1:{bc_port}",
                       erp_url=f"http://127.0.0.1:{erp_port}", schema_cache=str(tmp_path / "schema.json"),
                       bc_latency_ms=0.0, erp_latency_ms=0.0)
    fixtures = demo_fixtures(pristine_dataset(settings.seed), layout, settings)
    with serve(bigcommerce_sim_app(settings), bc_port) as bigcommerce, \
            serve(erp_sim_app(settings), erp_port) as erp, \
            serve(edge_app(settings, clock=clock), port) as edge:
        yield System(settings, fixtures, edge, bigcommerce, erp, clock)


def store_settings(request: pytest.FixtureRequest) -> Settings:
    """Default settings on the store a fixture is parametrised with: a real Redis under the test's own
    prefix, or the embedded store."""
    settings = patient_settings()
    if request.param == "redis":
        settings = replace(settings, redis_url=request.getfixturevalue("redis_url"),
                           redis_prefix=request.getfixturevalue("redis_prefix"))
    return settings


@pytest.fixture(params=["redis", "embedded"])
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[System]:
    yield from start_system(store_settings(request), tmp_path)


@pytest.fixture(name="redis_system")
def redis_system_fixture(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    """On Redis, freshness judged by a clock that stands still: what a test loads stays fresh however long
    loading took on a busy machine."""
    settings = replace(patient_settings(), redis_url=redis_url, redis_prefix=redis_prefix)
    yield from start_system(settings, tmp_path, ManualClock())


def module_system(request: pytest.FixtureRequest, workdir: Path, name: str) -> Iterator[System]:
    """For a module-scoped fixture parametrised ``["redis", "embedded"]``: one system per store shared by
    the module's tests (they must not disturb each other: read-only, or each on its own products)."""
    if request.param == "redis":
        yield from shared_redis_system(request.getfixturevalue("redis_url"), workdir, name)
    else:
        yield from start_system(replace(patient_settings(), upstream_timeout=30.0), workdir)


def shared_redis_system(redis_url: str, workdir: Path, name: str, **changes: Any) -> Iterator[System]:
    """A whole system on Redis under a prefix of its own, for a module to share; its keys removed after.
    ``changes``: settings to change (``erp_budget_ms=10_000`` where a loaded machine must not degrade answers)."""
    prefix = new_prefix(name)
    # Patient with the simulators: a module's worth of tests must not fail on one slow moment of a busy machine.
    settings = replace(patient_settings(), redis_url=redis_url, redis_prefix=prefix,
                       **({"upstream_timeout": 30.0} | changes))
    yield from start_system(settings, workdir)
    delete_prefix(redis_url, prefix)
