"""Faults a test or a person drives by hand: ``POST /_sim/faults`` (outage, added latency, errors),
``DELETE`` to clear; bad fault requests are refused with a 400 naming the problem; ``/_sim/faults``
itself is never faulted, so a fault can always be cleared."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette

from pricing_edge.sim.dataset import Dataset
from tests.sim.storefront import documents as docs
from tests.sim.storefront.helpers import guest, make_app
from tests.support.polling import async_wait_until
from tests.support.servers import serve


@pytest.fixture
def app(dataset: Dataset) -> Starlette:
    """A simulator of this test's own (the shared ``client`` fixture talks to it): faults are the app's state."""
    return make_app(dataset)


async def ask(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/graphql", json={"query": docs.STORE_SETTINGS}, headers=guest())


async def test_an_outage_answers_503_until_it_is_cleared_over_real_http(app: Starlette) -> None:
    with serve(app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
            assert (await ask(http)).status_code == 200
            set_ = await http.post("/_sim/faults", json={"down_seconds": 30})
            assert set_.status_code == 200
            assert 29 < set_.json()["down_seconds"] <= 30

            down = await ask(http)
            assert down.status_code == 503
            assert down.json()["status"] == 503
            assert (await http.get("/healthz")).status_code == 503
            assert (await http.get("/_sim/faults")).json()["down_seconds"] > 0

            cleared = await http.delete("/_sim/faults")
            assert cleared.status_code == 200
            assert cleared.json()["down_seconds"] == 0
            back = await ask(http)
            assert back.status_code == 200
            assert back.json()["data"]["site"]["settings"]["storeHash"] == "pe-demo"


async def test_an_outage_ends_by_itself_when_its_seconds_are_up(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_sim/faults", json={"down_seconds": 2})).status_code == 200
    assert (await ask(client)).status_code == 503

    async def answered() -> bool:
        return (await ask(client)).status_code == 200

    await async_wait_until(answered, timeout=15, interval=0.1, what="the 2-second outage to end")
    assert (await client.get("/_sim/faults")).json()["down_seconds"] == 0


async def test_error_rate_1_fails_every_request_with_500_and_0_stops(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_sim/faults", json={"error_rate": 1})).status_code == 200
    statuses = {(await ask(client)).status_code for _ in range(5)}
    assert statuses == {500}
    assert (await client.post("/_sim/faults", json={"error_rate": 0})).status_code == 200
    assert (await ask(client)).status_code == 200


async def test_added_latency_delays_each_answer_by_at_least_that_much(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_sim/faults", json={"latency_ms": 250})).json()["latency_ms"] == 250
    started = time.monotonic()
    response = await ask(client)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.25


async def test_the_normal_latency_is_configurable_and_applies_to_every_answer(dataset: Dataset) -> None:
    slow = make_app(dataset, latency_ms=200)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=slow), base_url="http://bigcommerce.test",
                                 timeout=30.0) as client:
        assert (await client.get("/_sim/faults")).json()["base_latency_ms"] == 200
        started = time.monotonic()
        assert (await ask(client)).status_code == 200
        assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(("body", "named"), [
    (b'{"down_secs": 30}', "down_secs"),
    (b'{"latency_ms": -5}', "latency_ms"),
    (b'{"down_seconds": -1}', "down_seconds"),
    (b'{"error_rate": 2}', "error_rate"),
    (b'{"error_rate": "half"}', "error_rate"),
    (b'{"latency_ms": true}', "latency_ms"),
    (b"down for a bit", "JSON"),
    (b"[30]", "JSON object"),
])
async def test_a_bad_fault_request_is_a_400_naming_the_problem_and_changes_nothing(
        client: httpx.AsyncClient, body: bytes, named: str) -> None:
    response = await client.post("/_sim/faults", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert named in response.json()["error"]
    state = (await client.get("/_sim/faults")).json()
    assert (state["down_seconds"], state["latency_ms"], state["error_rate"]) == (0, 0, 0)
    assert (await ask(client)).status_code == 200


async def test_the_fault_api_itself_is_never_faulted(client: httpx.AsyncClient) -> None:
    """Down, failing and slow all at once: the fault API still answers at once, so it can be cleared."""
    assert (await client.post("/_sim/faults", json={"down_seconds": 600, "error_rate": 1,
                                                 "latency_ms": 600_000})).status_code == 200
    # If /_sim were delayed by the added 10 minutes, these would time out (the ASGI transport has no
    # timeouts of its own, hence wait_for).
    state = await asyncio.wait_for(client.get("/_sim/faults"), timeout=10)
    assert state.status_code == 200
    assert state.json()["error_rate"] == 1 and state.json()["latency_ms"] == 600_000
    assert (await asyncio.wait_for(client.post("/_sim/faults", json={"error_rate": 0.5}), timeout=10)).status_code == 200
    assert (await asyncio.wait_for(client.delete("/_sim/faults"), timeout=10)).status_code == 200
    assert (await ask(client)).status_code == 200
