"""Fixtures for the REST Admin simulator's tests: one dataset per module (building it takes a moment), a
fresh simulator per test served over real HTTP (latency 0, fast webhook retries, a roomy rate limit),
and a webhook receiver on a free port."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from pricing_edge.sim.dataset import Dataset, build_dataset
from tests.sim.admin.support import Sim, make_app
from tests.support.receiver import Receiver
from tests.support.servers import ServerThread, serve


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """Read-only: orders, hooks and deliveries live in the app, not in the dataset."""
    return build_dataset()


@pytest.fixture
def sim(dataset: Dataset) -> Iterator[Sim]:
    app = make_app(dataset)
    with serve(app) as server:
        yield Sim(server, app)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, ServerThread]]:
    rec = Receiver()
    with serve(rec.app()) as server:
        yield rec, server
