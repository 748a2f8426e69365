"""The contract suite's fixtures: one simulated ERP per connector face (shared by the module), a
fresh adapter per test, and the simulator's state as the truth to compare with."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from pricing_edge.erp.protocol import ErpAdapter
from tests.erp.connectors import FACES, Face, running_face


@pytest.fixture(scope="module", params=FACES)
def face(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Face]:
    # a small server page, so every collection read crosses pages
    with running_face(request.param, tmp_path_factory.mktemp(request.param), page_size=400) as running:
        yield running


@pytest.fixture
async def erp(face: Face) -> AsyncIterator[ErpAdapter]:
    adapter = face.adapter()
    yield adapter
    await adapter.aclose()
