"""Re-projected answers are exactly what a from-scratch compute gives (issue 20): after any sequence of ERP
price and stock events, silent changes, reservation changes and TTL expiries, the kept answer — its changed
owned fields re-projected into its stored bytes (edge/holes.py, edge/reprojection.py) — is byte for byte the
answer the edge computes anew for the same document (the same query under another operation name: its own
skeleton from BigCommerce, overlay, flags).

A property test over real HTTP: hypothesis draws the changes, for any SKU of the category, in any buyer's
price list: events (prices with or without a sale price, stock at either location), each through the ERP
simulator's signed event, the intake, the cache updater and the invalidation channel; silent changes (the
ERP's value changes, or is set to what it already was, and nothing says so); and cart reservations taken,
changed or gone (shown stock is after reservations; no event says so either). A burst may end with every
record past its TTL: then every kept answer is renewed from its records as they are now — only the fields
whose values changed projected again — and the edge is let settle (every answer fresh again). Then every
buyer's answer (each buyer is on another price list) is compared with a fresh compute. Records and answers are
judged by one clock that stands still but for a step of 0.1 s before each burst (so records are learned at
different times, and ``asOf`` must stay the oldest's) and those expiries: nothing turns stale while the
machine is slow. A burst that changes a reservation ends with an expiry: a kept answer shows reservations as
of its last renewal, by design, until its records are renewed.
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
from tests.support.servers import on_loop

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
    """A standing clock that a test moves in small steps, well within every TTL (it says how far it went), and
    past every TTL at once. Its wall time starts hours behind the real now: the records an event carries are
    stamped with the real time when written, and must never look older than the ones the edge reads itself."""

    advanced = 0.0

    def __init__(self) -> None:
        super().__init__(wall_behind=4 * 3600)

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        self.advanced += seconds

    def expire(self, seconds: float) -> None:
        super().advance(seconds)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    clock = Steps()
    # The catalog part outlives every expiry the examples make (each a minute): kept answers are re-projected
    # throughout, never computed anew because their skeleton ended.
    settings = replace(patient_settings(), upstream_timeout=30.0, catalog_ttl=24 * 3600.0)
    for started in start_system(settings, tmp_path_factory.mktemp("re"), clock):
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


Step = tuple[str, int, int, int, bool]
change = st.one_of(
    st.tuples(st.sampled_from(["price", "silent price"]), st.integers(0, 30), st.sampled_from([1, 2, 3]),
              st.integers(100, 99_999), st.booleans()),
    st.tuples(st.sampled_from(["stock", "silent stock"]), st.integers(0, 30), st.sampled_from([1, 2]),
              st.integers(0, 40), st.booleans()),
    st.tuples(st.just("same"), st.integers(0, 30), st.sampled_from([1, 2, 3]), st.just(0), st.booleans()),
    st.tuples(st.just("reserve"), st.integers(0, 30), st.just(0), st.integers(0, 6), st.booleans()),
)
burst = st.tuples(st.lists(change, min_size=1, max_size=3), st.booleans())  # its changes; then expire?
HOLDER = "hypothesis-cart"


def apply(system: System, known: list[str], step: Step) -> bool:
    """Make one change; whether an event says so (the edge hears of it)."""
    kind, index, where, amount, flag = step
    sku = known[index % len(known)]
    erp = system.erp.server.config.app.state.erp
    if kind == "reserve":  # a cart's hold taken, changed, or gone (released, or expired: the same to what is shown)
        reservations = parts(system).graphql.cart_path.guard.reservations
        on_loop(system.edge, lambda: reservations.adjust(sku, HOLDER, amount, None))
        return False
    if kind == "same":  # a record renewed with the value it had: stock, or a price if flag
        if flag:
            current = on_loop(system.erp, lambda: erp.state.dataset.prices.get(where, sku, "USD"))
            on_loop(system.erp, lambda: erp.state.change_price({"price_list_id": where, "sku": sku, "currency": "USD",
                                                                "price": str(current.price)}))
        else:
            current = on_loop(system.erp, lambda: erp.state.dataset.stock[(sku, 1)])
            on_loop(system.erp, lambda: erp.state.change_stock({"sku": sku, "location_id": 1,
                                                                "on_hand": current.on_hand}))
        return False
    if kind.endswith("price"):
        value = f"{amount // 100}.{amount % 100:02d}"
        cents = amount * 9 // 10
        sale = f"{cents // 100}.{cents % 100:02d}" if flag else None
        body: dict[str, Any] = {"price_list_id": where, "sku": sku, "currency": "USD", "price": value,
                                "sale_price": sale}
    else:
        body = {"sku": sku, "location_id": where, "on_hand": amount, "backorder": flag and amount == 0}
    if kind.startswith("silent"):  # the ERP's value changes and nothing says so: seen once the record is renewed
        on_loop(system.erp, lambda: (erp.state.change_price if kind.endswith("price") else erp.state.change_stock)(body))
        return False
    response = httpx.post(f"{system.erp.base_url}/_sim/changes/{kind}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return True


def fresh(body: bytes) -> bool:
    return b'"stale":true' not in body


def expire(system: System, clock: Steps) -> None:
    """Every record past its TTL (and every kept answer past its lifetime): each buyer's answer is renewed from
    the records as they are now, until it is fresh again — then no record is due, and none is being read."""
    clock.expire(max(system.settings.price_ttl, system.settings.stock_ttl) + 1)
    for buyer in BUYERS:
        wait_until(lambda b=buyer: fresh(ask(system, b)), timeout=60,  # type: ignore[misc]
                   what="the renewed records to renew the answer")
    records = parts(system).records
    wait_until(lambda: all(task.done() for task in records.background()), timeout=30, what="the refreshes to end")


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(burst, min_size=1, max_size=3))
def test_a_reprojected_answer_is_the_answer_computed_from_scratch(system: System,
                                                                  steps: list[tuple[list[Step], bool]]) -> None:
    responses, metrics = parts(system).responses, parts(system).metrics
    clock = system.clock
    assert isinstance(clock, Steps)
    known = skus(system)
    for buyer in BUYERS:
        assert ask(system, buyer) == from_scratch(system, buyer)  # kept (with holes), and right to begin with
    reprojected = metrics.value("pricing_edge_answer_reprojections_total", {"outcome": "kept"})
    heard = False  # an event or an expiry: the kept answers must have been re-projected
    for changes, expiring in steps:  # no request between a burst's changes: they coalesce in the kept answers
        if clock.advanced < 3.0:  # records learned later than the others: the answer's asOf must stay the oldest's
            clock.advance(0.1)
        for step in changes:
            generation = responses.generation
            if apply(system, known, step):
                heard = True
                wait_until(lambda g=generation: responses.generation > g, timeout=30,  # type: ignore[misc]
                           what="the edge to hear the event")
        if expiring or any(step[0] == "reserve" for step in changes):
            heard = True
            expire(system, clock)
        for buyer in BUYERS:
            assert ask(system, buyer) == from_scratch(system, buyer), (buyer, changes, expiring)
    after = metrics.value("pricing_edge_answer_reprojections_total", {"outcome": "kept"})
    assert after > reprojected or not heard  # the kept answers were re-projected, not recomputed

