"""SKUs read with no live cart reservation are not asked of the reservations store again for a while
(``edge/unreserved.py``, issue 20): shown stock still follows every reservation a message names at once, and
one no message names once the zero lapses.

The class on its own clock first; then the edge, both simulators over real HTTP and its store, with holds
taken in the store directly (no cart, so no message unless the test sends the one a cart's process would).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pricing_edge.edge.cache_updater import Invalidation
from pricing_edge.edge.unreserved import Unreserved
from pricing_edge.store.keys import INVALIDATION
from tests.e2e.conftest import System, patient_settings, start_system
from tests.support.clock import ManualClock
from tests.support.polling import wait_until
from tests.support.servers import on_loop


def test_only_zeros_are_known_and_only_for_the_trusted_time() -> None:
    clock = ManualClock()
    unreserved = Unreserved(clock.monotonic, trusted_for=1.0)
    unreserved.learn({"A": 0, "B": 3}, unreserved.generation, clock.monotonic())
    assert unreserved.known(["A", "B", "C"]) == {"A"}  # a live hold may expire silently: never kept
    clock.advance(0.9)
    assert unreserved.known(["A"]) == {"A"}
    clock.advance(0.2)
    assert unreserved.known(["A"]) == set()  # lapsed: asked again
    unreserved.learn({"A": 0}, unreserved.generation, clock.monotonic())
    unreserved.learn({"A": 2}, unreserved.generation, clock.monotonic())
    assert unreserved.known(["A"]) == set()  # a hold seen since: no longer known as free


def test_a_message_naming_a_sku_forgets_it_and_a_read_it_crossed_teaches_nothing() -> None:
    clock = ManualClock()
    unreserved = Unreserved(clock.monotonic)
    unreserved.learn({"A": 0, "B": 0}, unreserved.generation, clock.monotonic())
    started = unreserved.generation
    unreserved.forget(["A"])
    assert unreserved.known(["A", "B"]) == {"B"}
    unreserved.learn({"A": 0}, started, clock.monotonic())  # began before the message, answered after: maybe the old state
    assert unreserved.known(["A"]) == set()
    unreserved.clear()
    assert unreserved.known(["B"]) == set()


def test_past_its_bound_the_table_is_emptied_not_grown() -> None:
    clock = ManualClock()
    unreserved = Unreserved(clock.monotonic, max_skus=2)
    unreserved.learn({"A": 0, "B": 0, "C": 0}, unreserved.generation, clock.monotonic())
    unreserved.learn({"D": 0}, unreserved.generation, clock.monotonic())
    assert unreserved.known(["A", "B", "C", "D"]) == {"D"}


PAGE = """query Page($categoryId: Int!) { site { category(entityId: $categoryId) { products(first: 24) { edges {
  node { sku inventory { aggregated { availableToSell } } } } } } } }"""
HOLDER = "test-cart"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    yield from start_system(patient_settings(), tmp_path, ManualClock())


def parts(system: System) -> Any:
    return system.edge.server.config.app.state.parts


def shown(system: System) -> dict[str, int]:
    edges = system.query(PAGE, "guest", {"categoryId": system.fixtures["category_id"]})["data"]["site"]["category"][
        "products"]["edges"]
    return {e["node"]["sku"]: e["node"]["inventory"]["aggregated"]["availableToSell"] for e in edges}


def hold(system: System, sku: str, quantity: int) -> None:
    reservations = parts(system).graphql.cart_path.guard.reservations
    on_loop(system.edge, lambda: reservations.adjust(sku, HOLDER, quantity, None))


def test_a_hold_a_message_names_is_shown_at_once_and_one_none_names_once_the_zero_lapses(system: System) -> None:
    before = shown(system)
    sku = next(s for s, available in before.items() if available > 5)
    assert sku in parts(system).graphql.unreserved.known([sku])  # read with no hold: not asked again for a while
    hold(system, sku, 2)
    generation = parts(system).responses.generation
    store = parts(system).store
    on_loop(system.edge, lambda: store.publish(INVALIDATION, Invalidation(reserved=[sku]).encode()))  # the cart's
    wait_until(lambda: parts(system).responses.generation > generation, timeout=30, what="the edge to hear it")
    assert shown(system)[sku] == before[sku] - 2  # named: read from the store again
    hold(system, sku, 0)  # released: a lower total, whatever is known
    hold(system, sku, 3)  # taken again and, this time, named by no message
    assert shown(system)[sku] == before[sku] - 2  # kept answer: nothing said it changed
    clock = system.clock
    assert isinstance(clock, ManualClock)
    clock.advance(2 * system.settings.stock_ttl + 1)  # its records renewed: the zero it knew has long lapsed too
    renewed = wait_until(lambda: (s := shown(system)) and s[sku] == before[sku] - 3 and s, timeout=30,
                         what="the renewal to read the silent hold")
    assert renewed[sku] == before[sku] - 3
