"""Re-projected answers are exactly what a from-scratch compute gives (issue 20): after any sequence of ERP
price and stock events, the kept answer — its changed owned fields re-projected into its stored bytes
(edge/holes.py, edge/reprojection.py) — is byte for byte the answer the edge computes anew for the same
document (the same query under another operation name: its own skeleton from BigCommerce, overlay, flags).

A property test over real HTTP: hypothesis draws the events (prices with or without a sale price, stock at
either location, for any SKU of the category, in any buyer's price list); each goes through the ERP
simulator's signed event, the intake, the cache updater and the invalidation channel; once the edge heard it,
every buyer's answer (each buyer is on another price list, and every change is to a SKU of the page) is
compared with a fresh compute. Records and answers are judged by one clock that stands still but for a step of
0.1 s before each burst (so records are learned at different times, and ``asOf`` must stay the oldest's), well
within every TTL: nothing turns stale while the machine is slow.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import System, patient_settings, start_system
from tests.support.clock import ManualClock
from tests.support.polling import wait_until

PAGE = """query NAME($categoryId: Int!) { site { category(entityId: $categoryId) { entityId name
  products(first: 24) { edges { node { entityId name sku
    prices { price { value currencyCode } salePrice { value } basePrice { value formattedV2 }
      priceRange { min { value } max { value } } bulkPricing { minimumQuantity maximumQuantity
        ... on BulkPricingFixedPriceDiscount { price } ... on BulkPricingPercentageDiscount { percentOff } } }
    inventory { isInStock aggregated { availableToSell warningLevel } }
    variants(first: 5) { edges { node { entityId sku prices { price { value } salePrice { value } }
      inventory { isInStock aggregated { availableToSell }
        byLocation(first: 3) { edges { node { locationEntityId availableToSell isInStock } } } } } } }
  } } } } } }"""
BUYERS = ("guest", "1", "2")
scratch_names = itertools.count()


class Steps(ManualClock):
    """A standing clock that a test moves in small steps, well within every TTL (it says how far it went)."""

    advanced = 0.0

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        self.advanced += seconds


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    clock = Steps()
    for started in start_system(replace(patient_settings(), upstream_timeout=30.0), tmp_path_factory.mktemp("re"),
                                clock):
        parts(started).responses.clock = clock.monotonic  # answers judged by the same standing clock
        yield started


def parts(system: System) -> Any:
    return system.edge.server.config.app.state.parts


def ask(system: System, buyer: str, name: str = "Page") -> bytes:
    response = httpx.post(system.edge_url, json={"query": PAGE.replace("NAME", name),
                                                 "variables": {"categoryId": system.fixtures["category_id"]}},
                          headers=system.buyer(buyer)["headers"], timeout=30)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    assert ("x-pricing-edge-stale" in response.headers) == (b'"stale":true' in response.content)
    return response.content


def from_scratch(system: System, buyer: str) -> bytes:
    return ask(system, buyer, f"Scratch{next(scratch_names)}")


def skus(system: System) -> list[str]:
    """The SKUs the page shows (every variant of every product on it)."""
    page = orjson.loads(ask(system, "guest"))["data"]["site"]["category"]["products"]["edges"]
    return sorted({v["node"]["sku"] for p in page for v in p["node"]["variants"]["edges"]})


change = st.one_of(
    st.tuples(st.just("price"), st.integers(0, 30), st.sampled_from([1, 2, 3]), st.integers(100, 99_999),
              st.booleans()),
    st.tuples(st.just("stock"), st.integers(0, 30), st.sampled_from([1, 2]), st.integers(0, 40), st.booleans()),
)


def apply(system: System, known: list[str], step: tuple[str, int, int, int, bool]) -> None:
    kind, index, where, amount, flag = step
    sku = known[index % len(known)]
    if kind == "price":
        value = f"{amount // 100}.{amount % 100:02d}"
        cents = amount * 9 // 10
        sale = f"{cents // 100}.{cents % 100:02d}" if flag else None
        body: dict[str, Any] = {"price_list_id": where, "sku": sku, "currency": "USD", "price": value,
                                "sale_price": sale}
    else:
        body = {"sku": sku, "location_id": where, "on_hand": amount, "backorder": flag and amount == 0}
    response = httpx.post(f"{system.erp.base_url}/_sim/changes/{kind}", json=body, timeout=30)
    assert response.status_code == 200, response.text


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.lists(change, min_size=1, max_size=3), min_size=1, max_size=3))
def test_a_reprojected_answer_is_the_answer_computed_from_scratch(system: System,
                                                                  steps: list[list[tuple[str, int, int, int, bool]]]
                                                                  ) -> None:
    responses, metrics = parts(system).responses, parts(system).metrics
    clock = system.clock
    assert isinstance(clock, Steps)
    known = skus(system)
    for buyer in BUYERS:
        assert ask(system, buyer) == from_scratch(system, buyer)  # kept (with holes), and right to begin with
    reprojected = metrics.value("pricing_edge_answer_reprojections_total", {"outcome": "kept"})
    for burst in steps:  # no request between a burst's events: their invalidations coalesce in the kept answers
        if clock.advanced < 3.0:  # records learned later than the others: the answer's asOf must stay the oldest's
            clock.advance(0.1)
        for step in burst:
            generation = responses.generation
            apply(system, known, step)
            wait_until(lambda g=generation: responses.generation > g, timeout=30,  # type: ignore[misc]
                       what="the edge to hear the event")
        for buyer in BUYERS:
            assert ask(system, buyer) == from_scratch(system, buyer), (buyer, burst)
    after = metrics.value("pricing_edge_answer_reprojections_total", {"outcome": "kept"})
    assert after > reprojected  # the kept answers were re-projected, not recomputed

