"""Tax-inclusive prices from tax-exclusive ones, the way BigCommerce shows them on the storefront.

BigCommerce computes ``prices(includeTax: true)`` from its own price and the shopper's tax zone; it
does not publish the rate. The edge asks for both values of the same product (inclusive and
exclusive), recovers the rate, and applies it to the buyer's ERP price:

- **the rate** is the simplest one (fewest decimal places, up to six: 0.1, 0.0825, 0.19375…) that turns
  BigCommerce's exclusive value into its inclusive value under the rounding below; if none does, the
  exact quotient is used. A zero exclusive value tells nothing: no rate (the upstream's value stands);
- **the rounding** is BigCommerce's: each value (price, sale, base, retail, MAP) is taxed on its own and
  rounded half up to the currency's decimal places (two for USD and EUR).
"""
from __future__ import annotations

from decimal import Decimal

from pricing_edge.domain.money import CURRENCY_FORMATS, quantize

MAX_RATE_PLACES = 6


def currency_places(currency: str) -> int:
    found = CURRENCY_FORMATS.get(currency)
    return found.decimal_places if found else 2


def with_tax(value: Decimal, rate: Decimal, places: int = 2) -> Decimal:
    return quantize(value * (Decimal(1) + rate), places)


def rate_between(exclusive: Decimal, inclusive: Decimal, places: int = 2) -> Decimal | None:
    """The tax rate that makes ``inclusive`` of ``exclusive`` (see the module doc), or None if unknowable."""
    if exclusive <= 0 or inclusive < 0:
        return None
    exact = inclusive / exclusive - Decimal(1)
    for rate_places in range(0, MAX_RATE_PLACES + 1):
        candidate = quantize(exact, rate_places)
        if candidate >= 0 and with_tax(exclusive, candidate, places) == inclusive:
            return candidate.normalize() if candidate else Decimal(0)
    return exact
