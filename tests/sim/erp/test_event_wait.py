"""``?wait_ms=N`` on a change and on ``GET /_sim/events/{id}``: the answer is held until the event is settled
(delivered, rejected, failed) — through the retries — or N ms have passed, so a test or the load harness
learns ``delivered_at`` with one request instead of polling the outbox."""
from __future__ import annotations

from contextlib import AbstractContextManager

import httpx

from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.sim.erp.conftest import FAST_RETRIES
from tests.support.receiver import Receiver
from tests.support.servers import ServerThread, serve

STOCK = {"sku": "PE-10000", "location_id": 1, "on_hand": 7}


def test_a_held_change_answers_once_delivered_through_the_retries(secret: str) -> None:
    rec = Receiver(status=202, script=[503, 503])
    with serve(rec.app()) as receiver, _erp(receiver, secret) as erp, httpx.Client(base_url=erp.base_url,
                                                                                     timeout=30.0) as client:
        answer = client.post("/_sim/changes/stock", params={"wait_ms": 20_000}, json=STOCK)
        assert answer.status_code == 200
        entry = answer.json()["event"]
        assert entry["status"] == "delivered" and entry["attempts"] == 3 and entry["delivered_at"]
        assert len(rec.received()) == 3


def test_without_wait_a_change_answers_after_the_first_attempt(secret: str) -> None:
    rec = Receiver(status=202, script=[503])
    with serve(rec.app()) as receiver, _erp(receiver, secret) as erp, httpx.Client(base_url=erp.base_url,
                                                                                     timeout=30.0) as client:
        entry = client.post("/_sim/changes/stock", json=STOCK).json()["event"]
        assert entry["status"] == "retrying" and entry["attempts"] == 1 and entry["delivered_at"] is None
        held = client.get(f"/_sim/events/{entry['id']}", params={"wait_ms": 20_000}).json()
        assert held["status"] == "delivered" and held["attempts"] == 2 and held["delivered_at"]


def test_a_held_read_answers_unsettled_when_its_time_is_up(secret: str) -> None:
    rec = Receiver(status=503)
    with serve(rec.app()) as receiver, _erp(receiver, secret) as erp, httpx.Client(base_url=erp.base_url,
                                                                                     timeout=30.0) as client:
        event_id = client.post("/_sim/changes/stock", json=STOCK).json()["event"]["id"]
        held = client.get(f"/_sim/events/{event_id}", params={"wait_ms": 100}).json()
        assert held["status"] == "retrying" and held["attempts"] >= 1
        rec.status = 401
        refused = client.get(f"/_sim/events/{event_id}", params={"wait_ms": 20_000}).json()
        assert refused["status"] == "rejected" and refused["last_status"] == 401


def test_a_bad_wait_is_refused_and_changes_nothing(erp_client: httpx.Client) -> None:
    before = erp_client.get("/api/v1/stock", params={"sku": "PE-10000", "location_id": 1}).json()
    emitted = erp_client.get("/_sim/events").json()["emitted"]
    for wait in ("-1", "soon", "60001"):
        answer = erp_client.post("/_sim/changes/stock", params={"wait_ms": wait}, json=STOCK)
        assert answer.status_code == 400 and answer.json()["field"] == "wait_ms"
    assert erp_client.get("/api/v1/stock", params={"sku": "PE-10000", "location_id": 1}).json() == before
    assert erp_client.get("/_sim/events").json()["emitted"] == emitted
    assert erp_client.get("/_sim/events/evt_nope", params={"wait_ms": "x"}).status_code == 400


def _erp(receiver: ServerThread, secret: str) -> AbstractContextManager[ServerThread]:
    app = create_app(build_dataset(7), events_url=receiver.base_url + "/events/erp", event_secret=secret,
                     latency_ms=0, delivery=FAST_RETRIES)
    return serve(app)
