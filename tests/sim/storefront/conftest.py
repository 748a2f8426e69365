"""Fixtures for the storefront simulator's tests: one dataset and one simulator app per module
(latency 0, building a dataset takes a moment), and an ASGI client per test."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from pricing_edge.sim.dataset import Dataset, build_dataset
from tests.sim.storefront.helpers import make_app


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """Read-only in tests (carts and faults live in the app, not in the dataset)."""
    return build_dataset()


@pytest.fixture(scope="module")
def app(dataset: Dataset) -> Starlette:
    return make_app(dataset)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bigcommerce.test",
                                 timeout=30.0) as c:
        yield c
