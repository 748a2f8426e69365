"""The tax rate behind BigCommerce's two values, and BigCommerce's rounding of a taxed price."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain.tax import currency_places, rate_between, with_tax

D = Decimal


def test_the_simplest_rate_that_reproduces_bigcommerces_rounding_is_chosen() -> None:
    assert rate_between(D("9.99"), D("10.99")) == D("0.1")  # 10.989 rounds to 10.99; 10.99/9.99 - 1 is 0.1001…
    assert rate_between(D("100.00"), D("108.25")) == D("0.0825")
    assert rate_between(D("19.99"), D("19.99")) == D("0")  # a tax-free zone (or an exempt class)
    assert rate_between(D("0"), D("1.00")) is None and rate_between(D("0"), D("0")) is None  # nothing to learn


@given(st.decimals(D("0.01"), D("99999"), places=2), st.sampled_from([D("0.1"), D("0.2"), D("0.0825"), D("0.19"),
                                                                      D("0.07"), D("0.21"), D("0.0625")]))
def test_the_recovered_rate_taxes_any_other_price_as_bigcommerce_would(exclusive: Decimal, rate: Decimal) -> None:
    inclusive = with_tax(exclusive, rate)
    found = rate_between(exclusive, inclusive)
    assert found is not None and with_tax(exclusive, found) == inclusive
    if exclusive >= D("100"):  # large enough that the rounding pins the rate down exactly
        assert found == rate


def test_rounding_is_half_up_to_the_currencys_places() -> None:
    assert with_tax(D("10.05"), D("0.1")) == D("11.06")  # 11.055 → 11.06
    assert currency_places("USD") == 2 and currency_places("EUR") == 2 and currency_places("XYZ") == 2
