"""BigCommerce's REST rate limit in the simulator: a fixed window per store, its headers on every REST
answer, 429 with the reset and ``X-Retry-After`` over quota, a fresh quota when the window resets, and
nothing of it on ``/graphql`` or ``/_sim``."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pricing_edge.config import DEMO_STOREFRONT_TOKEN
from pricing_edge.sim.admin import FixedWindow
from pricing_edge.sim.dataset import Dataset
from tests.sim.admin.support import Sim, make_app
from tests.support.polling import wait_until
from tests.support.servers import serve

LIMIT_HEADERS = ("x-rate-limit-requests-left", "x-rate-limit-requests-quota", "x-rate-limit-time-window-ms",
                 "x-rate-limit-time-reset-ms")


@pytest.fixture
def limited(dataset: Dataset) -> Iterator[Sim]:
    app = make_app(dataset, rate_limit=(3, 30.0))
    with serve(app) as server:
        yield Sim(server, app)


def test_every_rest_answer_carries_the_limit_and_the_fourth_request_is_429(limited: Sim) -> None:
    with limited.rest() as rest:
        answers = [rest.get("/v2/order_statuses"), rest.get("/v2/orders/777"), rest.get("/v3/hooks")]
        assert [a.status_code for a in answers] == [200, 404, 200]
        assert [a.headers["x-rate-limit-requests-left"] for a in answers] == ["2", "1", "0"]
        for answer in answers:
            assert {h: answer.headers[h] for h in LIMIT_HEADERS[1:3]} == {
                "x-rate-limit-requests-quota": "3", "x-rate-limit-time-window-ms": "30000"}
            assert 0 < int(answer.headers["x-rate-limit-time-reset-ms"]) <= 30000
        over_v2, over_v3 = rest.get("/v2/orders"), rest.get("/v3/hooks")
    for over in (over_v2, over_v3):
        assert over.status_code == 429
        assert over.headers["x-rate-limit-requests-left"] == "0"
        reset_ms = int(over.headers["x-rate-limit-time-reset-ms"])
        assert 0 < reset_ms <= 30000
        assert int(over.headers["x-retry-after"]) == -(-reset_ms // 1000)
    assert over_v2.json()[0]["status"] == 429 and "rate limit" in over_v2.json()[0]["message"]
    assert over_v3.json()["status"] == 429 and "rate limit" in over_v3.json()["title"]
    described = httpx.get(limited.server.base_url + "/_sim/rate-limit").json()
    assert (described["allowed"], described["rejected"], described["left"]) == (3, 2, 0)


def test_graphql_and_sim_routes_are_not_limited(limited: Sim) -> None:
    base = limited.server.base_url
    for _ in range(5):
        graphql = httpx.post(base + "/graphql", json={"query": "{ site { settings { storeName } } }"},
                             headers={"Authorization": f"Bearer {DEMO_STOREFRONT_TOKEN}"})
        assert graphql.status_code == 200
        assert "x-rate-limit-requests-left" not in graphql.headers
        assert httpx.get(base + "/_sim/webhooks").status_code == 200
    with limited.rest() as rest:
        assert rest.get("/v2/order_statuses").headers["x-rate-limit-requests-left"] == "2"


def test_a_new_window_brings_a_new_quota(limited: Sim) -> None:
    base = limited.server.base_url
    set_limit = httpx.post(base + "/_sim/rate-limit", json={"quota": 2, "window_ms": 300})
    assert set_limit.status_code == 200 and set_limit.json()["quota"] == 2
    with limited.rest() as rest:
        assert [rest.get("/v2/order_statuses").status_code for _ in range(3)] == [200, 200, 429]
        wait_until(lambda: rest.get("/v2/order_statuses").status_code == 200, what="the window to reset")
    assert limited.admin.limiter.windows >= 2


@pytest.mark.parametrize("body", [{"quota": 0}, {"quota": "many"}, {"window_ms": -5}, {"window_seconds": 7200},
                                  {"window_ms": 100, "window_seconds": 1}, {"burst": 3}])
def test_bad_rate_limit_settings_are_refused(limited: Sim, body: dict[str, object]) -> None:
    response = httpx.post(limited.server.base_url + "/_sim/rate-limit", json=body)
    assert response.status_code == 400 and response.json()["error"]
    assert limited.admin.limiter.quota == 3 and limited.admin.limiter.window == 30.0


def test_the_fixed_window_counts_per_window() -> None:
    now = [100.0]
    window = FixedWindow(2, 10.0, clock=lambda: now[0])
    assert [window.take().allowed for _ in range(3)] == [True, True, False]
    now[0] += 9.5
    denied = window.take()
    assert (denied.allowed, denied.left, denied.reset_ms) == (False, 0, 500)
    assert denied.headers()["X-Retry-After"] == "1"
    now[0] += 0.5
    fresh = window.take()
    assert (fresh.allowed, fresh.left, fresh.reset_ms) == (True, 1, 10_000)
