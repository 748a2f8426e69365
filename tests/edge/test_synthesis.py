"""A prices-only answer built from the catalog index (``edge/synthesis.py``) is kept with holes like any other
(issue 20): an ERP event re-projects it — the new value shown, nothing computed anew — and it ends when the
index would no longer build it (the product no longer known as shown to the scope), then is computed anew.

The edge, both simulators over real HTTP, and one standing clock for the kept answers and the catalog index,
moved only by the test: what is counted is computes, re-projections and syntheses, never time.
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import System, patient_settings, start_system
from tests.support.clock import ManualClock
from tests.support.polling import wait_until

LEARN = "query($id: Int!) { site { product(entityId: $id) { name prices { price { value } } } } }"
PROBE = """query Probe($id: Int!) { site { product(entityId: $id) { entityId
  prices { price { value } } inventory { aggregated { availableToSell } } } } }"""


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    clock = ManualClock()
    for started in start_system(patient_settings(), tmp_path, clock):
        edge = parts(started)
        edge.responses.clock, edge.responses.wall_ms = clock.monotonic, clock.wall_ms
        edge.graphql.index.clock = clock.monotonic  # what the index knows ends by the same clock
        yield started


def parts(system: System) -> Any:
    return system.edge.server.config.app.state.parts


def count(system: System, name: str, **labels: str) -> float:
    return float(parts(system).metrics.value(name, labels))


def computed(system: System) -> float:
    return count(system, "pricing_edge_answers_computed_total")


def synthesized(system: System) -> float:
    return count(system, "pricing_edge_synthesized_answers_total")


def price(answer: dict[str, Any]) -> Decimal:
    return Decimal(str(answer["data"]["site"]["product"]["prices"]["price"]["value"]))


def test_a_synthesized_answer_is_reprojected_after_an_event_not_computed_anew(system: System) -> None:
    product = system.fixtures["products"][6]
    variables = {"id": product["entity_id"]}
    system.query(LEARN, "guest", variables)  # BigCommerce shows the product to the guest's scope
    first = system.query(PROBE, "guest", variables)
    assert synthesized(system) == 1
    before = computed(system)
    assert system.query(PROBE, "guest", variables) == first  # kept
    assert computed(system) == before
    new = price(first) + Decimal("1.25")
    system.change_price(price_list_id=system.buyer("guest")["price_list_id"], sku=product["sku"], currency="USD",
                        price=str(new), sale_price=None)
    shown = wait_until(lambda: (a := system.query(PROBE, "guest", variables)) and price(a) == new and a,
                       timeout=30, what="the event's price in the kept synthesized answer")
    assert not shown["extensions"]["pricingEdge"]["stale"]
    assert computed(system) == before and synthesized(system) == 1  # re-projected: never built anew
    assert count(system, "pricing_edge_answer_reprojections_total", outcome="kept") >= 1
    assert shown == system.query(PROBE, "guest", variables)  # and kept again


def test_a_synthesized_answer_ends_when_the_index_no_longer_knows_its_product_as_shown(system: System) -> None:
    product = system.fixtures["products"][6]
    variables = {"id": product["entity_id"]}
    system.query(LEARN, "guest", variables)
    system.query(PROBE, "guest", variables)
    assert synthesized(system) == 1
    before = computed(system)
    clock = system.clock
    assert isinstance(clock, ManualClock)
    clock.advance(system.settings.catalog_ttl + 1)  # the scope's showing of it is over: unknown to the index
    upstream = count(system, "pricing_edge_upstream_calls_total", purpose="query", outcome="ok")
    system.query(PROBE, "guest", variables)
    assert computed(system) == before + 1  # computed anew, not re-projected from what the index no longer says
    assert count(system, "pricing_edge_upstream_calls_total", purpose="query", outcome="ok") == upstream + 1
