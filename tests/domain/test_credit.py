"""A company's credit record: available credit is limit less balance, never negative; a hold is a status."""
from __future__ import annotations

from decimal import Decimal

from pricing_edge.domain.credit import CREDIT_STATUSES, CreditRecord
from pricing_edge.domain.customers import CustomerRecord


def test_available_credit() -> None:
    assert CreditRecord(1, Decimal("1000.00"), Decimal("250.50"), "ok", 3).available_credit == Decimal("749.50")


def test_available_credit_never_negative() -> None:
    assert CreditRecord(1, Decimal("100"), Decimal("250"), "ok").available_credit == Decimal(0)


def test_a_credit_note_adds_to_available() -> None:
    assert CreditRecord(1, Decimal("100"), Decimal("-20"), "ok").available_credit == Decimal("120")


def test_hold_is_reported_not_folded_into_available() -> None:
    held = CreditRecord(4, Decimal("100"), Decimal("20"), "hold")
    assert held.on_hold and held.available_credit == Decimal("80")
    assert not CreditRecord(4, Decimal("100"), Decimal("20"), "ok").on_hold
    assert CREDIT_STATUSES == ("ok", "hold")


def test_customer_record_defaults_mean_none() -> None:
    record = CustomerRecord(5)
    assert (record.customer_group_id, record.company_id, record.version) == (None, None, 0)


# --- the conservative on-account rule ----------------------------------------------------------

from pricing_edge.domain.credit import on_account_allowed  # noqa: E402


def _line(status: str = "ok", limit: str = "1000.00", balance: str = "400.00") -> CreditRecord:
    return CreditRecord(7, Decimal(limit), Decimal(balance), status, version=1)  # type: ignore[arg-type]


def test_an_account_on_hold_is_never_allowed_on_account() -> None:
    assert not on_account_allowed(_line("hold"), None, age_seconds=0, max_age_seconds=60, erp_reachable=True)


def test_fresh_credit_with_room_is_allowed_and_over_the_room_is_not() -> None:
    assert on_account_allowed(_line(), Decimal("600.00"), age_seconds=1, max_age_seconds=60, erp_reachable=True)
    assert not on_account_allowed(_line(), Decimal("600.01"), age_seconds=1, max_age_seconds=60, erp_reachable=True)


def test_stale_beyond_its_limit_with_the_erp_down_is_not_allowed() -> None:
    assert not on_account_allowed(_line(), Decimal("1"), age_seconds=61, max_age_seconds=60, erp_reachable=False)
    assert on_account_allowed(_line(), Decimal("1"), age_seconds=59, max_age_seconds=60, erp_reachable=False)
    assert not on_account_allowed(None, None, age_seconds=None, max_age_seconds=60, erp_reachable=True)


def test_the_placement_rule_holds_on_hold_over_limit_and_unknown_credit() -> None:
    from pricing_edge.domain.credit import placement_hold

    room = CreditRecord(1, Decimal("1000.00"), Decimal("900.00"), "ok")
    assert placement_hold(room, Decimal("100.00")) is None  # exactly the available credit: posted
    assert "exceeds the available credit 100.00" in str(placement_hold(room, Decimal("100.01")))
    assert "on hold" in str(placement_hold(CreditRecord(1, Decimal("1000"), Decimal("0"), "hold"), Decimal("1")))
    assert "no credit line" in str(placement_hold(None, Decimal("1")))
    owes_more = CreditRecord(1, Decimal("100"), Decimal("150"), "ok")  # over its limit already: nothing available
    assert placement_hold(owes_more, Decimal("0.01")) is not None
