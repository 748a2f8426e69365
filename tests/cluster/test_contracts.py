"""The store, work queue, ledger and reservation contracts, on a real Redis Cluster: the very tests the
embedded store and one Redis pass (``tests/store``), collected here again with this package's ``store``
fixture — a cluster store — so every operation runs against three masters, keys spread over them."""
from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from tests.store import test_ledger, test_reservations, test_store, test_work_queue

pytestmark = pytest.mark.redis
CONTRACT_FIXTURES = {"store", "queue", "reservations"}


def _contract_tests(module: ModuleType) -> dict[str, object]:
    """A module's tests that take a store, queue or reservations (the tests of one Redis's own details
    stay there), and the fixtures those need."""
    found: dict[str, object] = {"queue": test_work_queue.queue}
    for name, value in vars(module).items():
        if (name.startswith("test_") and callable(value)
                and CONTRACT_FIXTURES & set(inspect.signature(value).parameters)):
            found[name] = value
    return found


for _module in (test_store, test_work_queue, test_ledger, test_reservations):
    globals().update(_contract_tests(_module))
