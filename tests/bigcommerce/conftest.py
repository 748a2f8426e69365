"""Fixtures for the REST Admin client's tests: the BigCommerce simulator served over real HTTP behind a
recorder of every exchange (so the client's own requests can be checked against the vendor's spec)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette

from pricing_edge.sim.dataset import Dataset, build_dataset
from tests.sim.admin.support import Recorder, Sim, make_app
from tests.support.servers import serve


@dataclass
class RecordedSim(Sim):
    recorder: Recorder


def served(dataset: Dataset, **overrides: object) -> Iterator[RecordedSim]:
    app: Starlette = make_app(dataset, **overrides)
    recorder = Recorder(app)
    with serve(recorder) as server:
        yield RecordedSim(server, app, recorder)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return build_dataset()


@pytest.fixture
def sim(dataset: Dataset) -> Iterator[RecordedSim]:
    yield from served(dataset)
