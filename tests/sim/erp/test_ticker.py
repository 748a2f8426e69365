"""The ticker keeps the ERP moving, reproducibly in content, through the same change path as a manual change."""
from __future__ import annotations

from typing import Any

import httpx

from pricing_edge.intake import envelope
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.sim.erp.conftest import FAST_RETRIES
from tests.support.receiver import Receiver
from tests.support.polling import wait_until
from tests.support.servers import ServerThread, serve


def ticks(seed: int, count: int) -> list[dict[str, Any]]:
    with serve(create_app(build_dataset(seed), latency_ms=0)) as erp:
        changes: list[dict[str, Any]] = httpx.post(f"{erp.base_url}/_sim/ticker/tick", json={"count": count},
                                                   timeout=30).json()["changes"]
        return changes


def test_ticker_changes_are_deterministic_for_a_seed() -> None:
    first, second, other = ticks(7, 25), ticks(7, 25), ticks(8, 25)
    assert first == second
    assert first != other
    kinds = {change["type"] for change in first}
    assert kinds == {"com.pricingedge.price.changed", "com.pricingedge.stock.changed"}


def test_ticker_runs_from_the_lifespan_and_stops(receiver: tuple[Receiver, ServerThread], secret: str) -> None:
    rec, receiver_server = receiver
    app = create_app(build_dataset(7), events_url=receiver_server.base_url + "/events/erp", event_secret=secret,
                     latency_ms=0, ticker_rate=50, delivery=FAST_RETRIES)
    with serve(app) as erp, httpx.Client(base_url=erp.base_url, timeout=30) as client:
        wait_until(lambda: len(rec.received()) >= 5, what="ticker events at the receiver")
        stopped = client.post("/_sim/ticker", json={"rate": 0}).json()
        assert stopped["rate"] == 0
        emitted = client.get("/_sim/events").json()["emitted"]
        assert emitted == client.get("/_sim/ticker").json()["changes"] >= 5
        for delivery in rec.received()[:5]:
            envelope.verify(delivery.headers, delivery.body, secret)
            envelope.parse(delivery.body)
        restarted = client.post("/_sim/ticker", json={"rate": 100}).json()
        assert restarted["rate"] == 100
        wait_until(lambda: client.get("/_sim/ticker").json()["changes"] > emitted, what="the restarted ticker")
        client.post("/_sim/ticker", json={"rate": 0})


def test_ticker_rate_is_validated() -> None:
    with serve(create_app(build_dataset(7), latency_ms=0)) as erp, httpx.Client(base_url=erp.base_url) as client:
        for body in ({"rate": -1}, {"rate": "fast"}, {"rate": 10_000}, {"speed": 1}, [1]):
            response = client.post("/_sim/ticker", json=body)
            assert response.status_code == 400, body
        assert client.post("/_sim/ticker/tick", json={"count": 0}).status_code == 400
        assert client.get("/_sim/ticker").json() == {"rate": 0, "changes": 0}
