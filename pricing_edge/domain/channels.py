"""What the edge needs to know of each channel it serves, as BigCommerce holds it: customer group → price list
(``/v3/pricelists/assignments``), the channel's enabled currencies and default currency
(``/v3/channels/currency-assignments``). Pure: rows in, checked setups out; a bad row is an error naming it,
and then nothing of the batch is used (the caller keeps what it had).

A channel-wide assignment (no customer group) is the channel's default list; without one, the configured
default list. A group with no assignment of its own gets that default: never another group's list.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pricing_edge.domain.scope import PriceListAssignments, Scope

_CURRENCY = re.compile(r"[A-Z]{3}")


class ChannelDataError(ValueError):
    """BigCommerce's assignment or currency data cannot be used as it is: the message names the row."""


@dataclass(frozen=True)
class ChannelSetup:
    channel_id: int
    assignments: PriceListAssignments
    default_currency: str
    currencies: tuple[str, ...]

    def scope(self, customer_group_id: int | None, customer_id: int | None = None,
              company_id: int | None = None) -> Scope:
        return self.assignments.scope(self.channel_id, customer_group_id, self.default_currency, customer_id,
                                      company_id)

    def to_json(self) -> dict[str, Any]:
        return {"channel_id": self.channel_id, "by_group": {str(g): pl for g, pl in self.assignments.by_group.items()},
                "default_price_list_id": self.assignments.default_price_list_id,
                "default_currency": self.default_currency, "currencies": list(self.currencies)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ChannelSetup:
        """A setup kept earlier (``to_json``); anything else is a ChannelDataError."""
        try:
            by_group = {int(g): _id(pl, "price_list_id") for g, pl in dict(raw["by_group"]).items()}
            currencies = tuple(_currency(c) for c in raw["currencies"])
            return cls(_id(raw["channel_id"], "channel_id"),
                       PriceListAssignments(by_group, _id(raw["default_price_list_id"], "default_price_list_id")),
                       _currency(raw["default_currency"]), currencies)
        except (KeyError, TypeError, ValueError) as exc:
            raise ChannelDataError(f"a kept channel setup is not usable: {exc}") from None


def _id(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ChannelDataError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.upper()):
        raise ChannelDataError(f"a currency must be a three-letter ISO 4217 code, got {value!r}")
    return value.upper()


def channel_setups(channel_ids: Iterable[int], assignment_rows: Iterable[Any], currency_rows: Iterable[Any], *,
                   default_price_list_id: int, fallback_currency: str) -> dict[int, ChannelSetup]:
    """Every served channel's setup from BigCommerce's rows (rows of other channels are ignored). A channel
    without currency assignments inherits the store's settings in BigCommerce: ``fallback_currency`` then."""
    served = set(channel_ids)
    by_channel: dict[int, dict[int, int]] = {c: {} for c in served}
    channel_default: dict[int, int] = {}
    for n, row in enumerate(assignment_rows):
        if not isinstance(row, Mapping):
            raise ChannelDataError(f"price-list assignment #{n} is not an object: {row!r}")
        try:
            channel = _id(row.get("channel_id"), "channel_id")
            price_list = _id(row.get("price_list_id"), "price_list_id")
            group = row.get("customer_group_id")
            group = None if group is None else _id(group, "customer_group_id", minimum=0)
        except ChannelDataError as exc:
            raise ChannelDataError(f"price-list assignment #{n} ({dict(row)!r}): {exc}") from None
        if channel not in served:
            continue
        target = channel_default if group is None else by_channel[channel]
        key = channel if group is None else group
        if key in target and target[key] != price_list:
            raise ChannelDataError(f"price-list assignment #{n}: channel {channel} has two price lists for "
                                   f"{'its customers' if group is None else f'customer group {group}'}")
        target[key] = price_list
    currencies = channel_currencies(currency_rows)
    return {c: ChannelSetup(c, PriceListAssignments(by_channel[c], channel_default.get(c, default_price_list_id)),
                            *currencies.get(c, (fallback_currency, (fallback_currency,))))
            for c in sorted(served)}


def channel_currencies(currency_rows: Iterable[Any]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Channel → (default currency, enabled currencies) from ``/v3/channels/currency-assignments`` rows."""
    currencies: dict[int, tuple[str, tuple[str, ...]]] = {}
    for n, row in enumerate(currency_rows):
        if not isinstance(row, Mapping):
            raise ChannelDataError(f"currency assignment #{n} is not an object: {row!r}")
        try:
            channel = _id(row.get("channel_id"), "channel_id")
            enabled = tuple(_currency(c) for c in row.get("enabled_currencies") or ())
            default = _currency(row.get("default_currency"))
        except ChannelDataError as exc:
            raise ChannelDataError(f"currency assignment #{n} ({dict(row)!r}): {exc}") from None
        if default not in enabled:
            raise ChannelDataError(f"currency assignment #{n}: the default currency {default} of channel {channel} "
                                   f"is not one of its enabled currencies {list(enabled)}")
        currencies[channel] = (default, enabled)
    return currencies


def sold_currencies(currency_rows: Iterable[Any]) -> tuple[str, ...]:
    """Every currency the store sells in: those enabled on any of its channels (sorted; empty when BigCommerce
    named none, and the caller falls back to its configuration)."""
    return tuple(sorted({c for _, enabled in channel_currencies(currency_rows).values() for c in enabled}))
