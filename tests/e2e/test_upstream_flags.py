"""``degraded`` names BigCommerce on every path it could not be asked (issue 19): with BigCommerce down, a
page whose catalog part is still fresh is answered — but the buyer's token, due for its check again, is
vouched for only by its last good check, and the answer says so."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pricing_edge.config import Settings
from tests.e2e.conftest import System, start_system
from tests.support.polling import wait_until

PRICE = "query($id: Int!) { site { product(entityId: $id) { entityId prices { price { value } } } } }"


@pytest.fixture
def system(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    yield from start_system(replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix,
                                    buyer_ttl=1.0, price_ttl=1.0, stock_ttl=1.0, catalog_ttl=300.0), tmp_path)


def test_a_token_only_last_good_verified_is_flagged_upstream(system: System) -> None:
    product = system.fixtures["products"][3]
    guest = system.buyer("guest")["headers"]

    def ask() -> httpx.Response:
        answer = httpx.post(system.edge_url, json={"query": PRICE, "variables": {"id": product["entity_id"]}},
                            headers=guest, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer

    assert ask().json()["extensions"]["pricingEdge"]["degraded"] == []
    faults = system.bigcommerce.base_url + "/_sim/faults"
    httpx.post(faults, json={"down_seconds": 120}).raise_for_status()
    try:
        def flagged() -> bool:
            answer = ask()
            pricing = answer.json()["extensions"]["pricingEdge"]
            return "upstream" in pricing["degraded"] and pricing["stale"] and \
                answer.headers.get("X-Pricing-Edge-Stale") == "1"

        wait_until(flagged, timeout=30, what="the answer to name BigCommerce as not asked")
    finally:
        httpx.delete(faults).raise_for_status()

    def clear() -> bool:
        return "upstream" not in ask().json()["extensions"]["pricingEdge"]["degraded"]

    wait_until(clear, timeout=30, what="the flag to clear once BigCommerce answers again")
