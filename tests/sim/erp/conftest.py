"""Fixtures for the ERP simulator tests: a fresh dataset per test, the sim served over real HTTP,
and a tiny event receiver (a real server too) that records what it is sent."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pricing_edge.intake import envelope
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import DeliveryPolicy, create_app
from tests.support.receiver import Receiver
from tests.support.servers import ServerThread, serve

FAST_RETRIES = DeliveryPolicy(max_attempts=200, first_backoff=0.02, max_backoff=0.2, timeout=5.0)


@pytest.fixture
def secret() -> str:
    return envelope.generate_secret()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, ServerThread]]:
    rec = Receiver()
    with serve(rec.app()) as server:
        yield rec, server


@pytest.fixture
def erp(receiver: tuple[Receiver, ServerThread], secret: str) -> Iterator[ServerThread]:
    """The simulated ERP (seed 7, no added latency) sending its events to ``receiver``."""
    _, receiver_server = receiver
    app = create_app(build_dataset(7), events_url=receiver_server.base_url + "/events/erp", event_secret=secret,
                     latency_ms=0, delivery=FAST_RETRIES)
    with serve(app) as server:
        yield server


@pytest.fixture
def erp_client(erp: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=erp.base_url, timeout=30.0) as client:
        yield client
