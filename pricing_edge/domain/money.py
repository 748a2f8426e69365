"""Money is Decimal end to end: parsing refuses floats, formatting follows the store's currency display."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class MoneyError(ValueError):
    """A value that is not a valid amount of money."""


def to_decimal(value: object) -> Decimal:
    """An exact Decimal from a string, int or Decimal; floats are refused (they already lost digits)."""
    if isinstance(value, (bool, float)):
        raise MoneyError(f"money must be a decimal string, not {type(value).__name__} {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise MoneyError(f"not a decimal amount: {value!r}") from exc
    else:
        raise MoneyError(f"money must be a decimal string, not {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return result


def quantize(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CurrencyFormat:
    """How a store displays one currency (BigCommerce's currency display settings)."""

    code: str
    token: str
    token_location: str = "left"  # "left" or "right"
    decimal_token: str = "."
    thousands_token: str = ","
    decimal_places: int = 2

    def format(self, value: Decimal) -> str:
        amount = quantize(abs(value), self.decimal_places)
        whole, _, fraction = f"{amount:f}".partition(".")
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        text = self.thousands_token.join(groups)
        if self.decimal_places:
            text = f"{text}{self.decimal_token}{fraction}"
        sign = "-" if value < 0 else ""
        if self.token_location == "right":
            return f"{sign}{text} {self.token}"
        return f"{sign}{self.token}{text}"


CURRENCY_FORMATS: dict[str, CurrencyFormat] = {
    "USD": CurrencyFormat("USD", "$"),
    "EUR": CurrencyFormat("EUR", "€", token_location="right", decimal_token=",", thousands_token="."),
    "GBP": CurrencyFormat("GBP", "£"),
}


def format_money(value: Decimal, currency: str) -> str:
    fmt = CURRENCY_FORMATS.get(currency) or CurrencyFormat(currency, currency + " ")
    return fmt.format(value)
