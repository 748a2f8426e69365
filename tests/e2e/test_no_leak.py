"""Property: whatever the interleaving of buyers' queries and ERP price events, a buyer only ever
receives a price that was, at some moment, its own price list's price — never another scope's.

Event prices encode their price list in the last two digits (``n.0<list>``), so a value from
another list is recognisable wherever it shows up.
"""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import httpx

from pricing_edge.sim.dataset import build_dataset
from tests.e2e.conftest import System, shared_redis_system

BUYERS = ["1", "2", "5", "guest"]
LIST_QUERY = """query Compare($ids: [Int!]) { site { products(entityIds: $ids) { edges { node {
  entityId prices { price { value } } } } } } }"""
ONE_QUERY = "query One($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"
HISTORY: dict[tuple[int, int], set[Decimal]] = {}


@pytest.fixture(scope="module")
def leak_system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("leak")), "leak")


actions = st.lists(
    st.one_of(
        st.tuples(st.just("query"), st.sampled_from(BUYERS), st.integers(0, 5), st.booleans()),
        st.tuples(st.just("event"), st.sampled_from(BUYERS), st.integers(0, 5), st.integers(1, 999)),
        st.tuples(st.just("fault"), st.sampled_from(["erp", "bigcommerce"]), st.integers(0, 1), st.booleans()),
    ),
    min_size=3, max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions)
def test_no_buyer_ever_sees_another_scopes_price(leak_system: System, steps: list[tuple]) -> None:  # type: ignore[type-arg]
    system = leak_system
    products = system.fixtures["products"][:6]
    list_of = {b: system.buyer(b)["price_list_id"] for b in BUYERS}
    history = HISTORY  # every price each list has had, across examples (the ERP's state persists)
    bigcommerce = build_dataset(system.settings.seed).bc_prices
    for product in products:
        for buyer in BUYERS:
            prices = history.setdefault((list_of[buyer], product["entity_id"]), set())
            prices.add(Decimal(product["expected_price"][buyer]))
            # While the ERP cannot be asked, a record never read shows BigCommerce's own (lagging)
            # value — for the buyer's own price list: degraded, never another scope's.
            lagging = bigcommerce.get(list_of[buyer], product["variants"][0]["sku"], "USD")
            assert lagging is not None
            prices.add(lagging.effective_price)

    def run(step: tuple) -> list[tuple[str, int, Decimal]]:  # type: ignore[type-arg]
        kind, buyer, index, extra = step
        if kind == "fault":  # an outage starts or ends mid-sequence: answers degrade, never leak
            base = system.erp.base_url if buyer == "erp" else system.bigcommerce.base_url
            if extra:
                httpx.post(base + "/_sim/faults", json={"down_seconds": 30}, timeout=30)
            else:
                httpx.delete(base + "/_sim/faults", timeout=30)
            return []
        product = products[index]
        if kind == "event":
            price = Decimal(f"{extra}.{list_of[buyer]:02d}")
            history[(list_of[buyer], product["entity_id"])].add(price)
            system.change_price(price_list_id=list_of[buyer], sku=product["variants"][0]["sku"], currency="USD",
                                price=str(price), sale_price=None)
            return []
        ids = [p["entity_id"] for p in products] if extra else [product["entity_id"]]
        return [(buyer, pid, value) for pid, value in _seen(system, buyer, ids)]

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            observations = [o for result in pool.map(run, steps) for o in result]
    finally:
        for base in (system.erp.base_url, system.bigcommerce.base_url):
            httpx.delete(base + "/_sim/faults", timeout=30)
    for buyer, product_id, value in observations:
        assert value in history[(list_of[buyer], product_id)], (
            f"buyer {buyer} (price list {list_of[buyer]}) saw {value} for product {product_id}, "
            f"which its price list never had: {sorted(history[(list_of[buyer], product_id)])}")


def _seen(system: System, buyer: str, ids: list[int]) -> list[tuple[int, Decimal]]:
    """The prices a buyer is shown (nothing when an outage leaves the edge no answer to give)."""
    query, variables = (ONE_QUERY, {"id": ids[0]}) if len(ids) == 1 else (LIST_QUERY, {"ids": ids})
    response = httpx.post(system.edge_url, json={"query": query, "variables": variables},
                          headers=system.buyer(buyer)["headers"], timeout=30)
    assert response.status_code in (200, 503), response.text
    data = response.json().get("data")
    if response.status_code == 503 or not data:
        return []
    if len(ids) == 1:
        node = data["site"]["product"]
        return [(node["entityId"], Decimal(str(node["prices"]["price"]["value"])))] if node else []
    edges = data["site"]["products"]["edges"]
    return [(e["node"]["entityId"], Decimal(str(e["node"]["prices"]["price"]["value"]))) for e in edges]
