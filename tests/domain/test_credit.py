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
