from decimal import Decimal

import pytest

from pricing_edge.domain.money import MoneyError, format_money, to_decimal


def test_decimal_strings_keep_every_digit() -> None:
    assert to_decimal("1234.5678") == Decimal("1234.5678")
    assert str(to_decimal("19.90")) == "19.90"


@pytest.mark.parametrize("bad", [19.9, True, "abc", "NaN", "Infinity", None, [1]])
def test_floats_and_junk_are_refused(bad: object) -> None:
    with pytest.raises(MoneyError):
        to_decimal(bad)


def test_formats_follow_the_store_currency_display() -> None:
    assert format_money(Decimal("1234.5"), "USD") == "$1,234.50"
    assert format_money(Decimal("1234567.891"), "EUR") == "1.234.567,89 €"
    assert format_money(Decimal("-5"), "USD") == "-$5.00"
    assert format_money(Decimal("0.005"), "USD") == "$0.01"
