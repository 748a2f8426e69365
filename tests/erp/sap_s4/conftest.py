"""An S/4HANA face per test module, and the adapter opened through the registry like production."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.erp.connectors import Face, running_face


@pytest.fixture(scope="module")
def face(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Face]:
    with running_face("s4hana", tmp_path_factory.mktemp("s4hana")) as running:
        yield running
