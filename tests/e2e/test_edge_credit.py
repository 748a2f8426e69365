"""`customer { b2bCredit }`: the buyer's own company's credit, with the conservative on-account rule."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from pricing_edge.config import Settings
from pricing_edge.sim.dataset import build_dataset
from tests.e2e.conftest import System, start_system
from tests.support.clock import ManualClock
from tests.support.polling import wait_until

CREDIT = """query($total: BigDecimal) { customer { entityId
  b2bCredit(orderTotal: $total) { status availableCredit { value currencyCode } onAccountAllowed asOf stale } } }"""


@pytest.fixture
def credit_system(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    settings = replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, credit_ttl=1.0,
                       credit_max_age=3.0, breaker_threshold=3, breaker_reset=2.0)
    # A 1 s TTL judged by a clock that moves only when a test says: fresh stays fresh on a loaded machine.
    yield from start_system(settings, tmp_path, ManualClock())


def credit(system: System, customer_id: int, total: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {system.settings.impersonation_token}", "X-Bc-Customer-Id": str(customer_id)}
    body = httpx.post(system.edge_url, json={"query": CREDIT, "variables": {"total": total}}, headers=headers,
                      timeout=30).json()
    assert "errors" not in body, body
    return body["data"]["customer"]["b2bCredit"]


def test_fresh_credit_with_room_allows_on_account_and_over_the_room_does_not(credit_system: System) -> None:
    company = build_dataset(credit_system.settings.seed).company(1)
    assert company is not None and company.status == "ok"
    available = company.credit_limit - company.balance
    answer = credit(credit_system, 1, str(available))
    assert answer["status"] == "ok" and answer["onAccountAllowed"] is True and answer["stale"] is False
    assert Decimal(str(answer["availableCredit"]["value"])) == available
    assert credit(credit_system, 1, str(available + Decimal("0.01")))["onAccountAllowed"] is False


def test_an_account_on_hold_is_not_allowed(credit_system: System) -> None:
    answer = credit(credit_system, 4, "1.00")  # customer 4 belongs to company 4, on credit hold
    assert answer["status"] == "hold" and answer["onAccountAllowed"] is False


def test_stale_beyond_its_limit_with_the_erp_down_is_not_allowed(credit_system: System) -> None:
    assert credit(credit_system, 2, "1.00")["onAccountAllowed"] is True
    assert httpx.post(credit_system.erp.base_url + "/_sim/faults", json={"down_seconds": 60}).status_code == 200
    assert isinstance(credit_system.clock, ManualClock)
    credit_system.clock.advance(3600)  # an hour later: past the 1 s TTL and the 3 s last-good limit
    try:
        stale = wait_until(lambda: (a := credit(credit_system, 2, "1.00"))["stale"] and a, timeout=20,
                           what="the credit record to go stale")
        assert stale["status"] == "ok" and stale["asOf"]
        wait_until(lambda: credit(credit_system, 2, "1.00")["onAccountAllowed"] is False, timeout=20,
                   what="the credit record to age past its limit while the ERP is down")
    finally:
        httpx.delete(credit_system.erp.base_url + "/_sim/faults")
    wait_until(lambda: credit(credit_system, 2, "1.00")["onAccountAllowed"] is True, timeout=30,
               what="on-account checkout to be allowed again once the ERP answers")


def test_existing_customer_queries_are_unaffected_and_guests_have_no_credit(credit_system: System) -> None:
    plain = credit_system.query("{ customer { entityId customerGroupId } }", "1")
    assert plain["data"]["customer"] == credit_system.upstream("{ customer { entityId customerGroupId } }",
                                                               "1")["data"]["customer"]
    guest = credit_system.query("{ customer { b2bCredit { status } } }", "guest")
    assert guest["data"]["customer"] is None
