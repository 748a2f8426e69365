"""BigCommerce's assignment and currency rows → each served channel's setup: defaults, guests, other channels
ignored, and every unusable row a clear error naming it."""
from __future__ import annotations

from typing import Any

import pytest

from pricing_edge.domain.channels import ChannelDataError, ChannelSetup, channel_setups, sold_currencies

ROWS = [{"id": 1, "price_list_id": 1, "customer_group_id": 0, "channel_id": 1},
        {"id": 2, "price_list_id": 2, "customer_group_id": 1, "channel_id": 1},
        {"id": 3, "price_list_id": 7, "channel_id": 2},  # channel-wide: channel 2's default list
        {"id": 4, "price_list_id": 3, "customer_group_id": 1, "channel_id": 2},
        {"id": 5, "price_list_id": 9, "customer_group_id": 1, "channel_id": 3}]  # a channel not served
CURRENCIES = [{"channel_id": 1, "enabled_currencies": ["USD", "EUR"], "default_currency": "USD"},
              {"channel_id": 2, "enabled_currencies": ["EUR"], "default_currency": "EUR"}]


def setups(rows: list[Any] = ROWS, currencies: list[Any] = CURRENCIES, channels: tuple[int, ...] = (1, 2)) \
        -> dict[int, ChannelSetup]:
    return channel_setups(channels, rows, currencies, default_price_list_id=1, fallback_currency="USD")


def test_each_channel_gets_its_groups_lists_default_and_currency() -> None:
    found = setups()
    assert found[1].scope(1).price_list_id == 2 and found[1].scope(None).price_list_id == 1
    assert found[1].scope(42).price_list_id == 1  # no assignment: the configured default, never another's list
    assert found[2].scope(1).price_list_id == 3 and found[2].scope(42).price_list_id == 7
    assert (found[1].scope(1).currency, found[2].scope(1).currency) == ("USD", "EUR")
    assert found[2].scope(1).key.startswith("c2:g1:pl3:EUR")
    assert 3 not in found


def test_a_channel_without_currency_assignments_inherits_the_fallback() -> None:
    assert setups(currencies=[], channels=(1,))[1].default_currency == "USD"


def test_a_setup_survives_being_kept() -> None:
    for setup in setups().values():
        assert ChannelSetup.from_json(setup.to_json()) == setup


@pytest.mark.parametrize(("rows", "currencies", "named"), [
    ([{"price_list_id": "2", "customer_group_id": 1, "channel_id": 1}], CURRENCIES, "price-list assignment #0"),
    ([{"price_list_id": 2, "customer_group_id": -1, "channel_id": 1}], CURRENCIES, "customer_group_id"),
    ([*ROWS, {"price_list_id": 5, "customer_group_id": 1, "channel_id": 1}], CURRENCIES, "two price lists"),
    (["nonsense"], CURRENCIES, "not an object"),
    (ROWS, [{"channel_id": 1, "enabled_currencies": ["USD"], "default_currency": "EUR"}], "not one of its enabled"),
    (ROWS, [{"channel_id": 1, "enabled_currencies": ["US"], "default_currency": "US"}], "ISO 4217"),
])
def test_unusable_rows_are_clear_errors(rows: list[Any], currencies: list[Any], named: str) -> None:
    with pytest.raises(ChannelDataError, match=named):
        setups(rows, currencies)


def test_a_kept_setup_that_is_not_one_is_refused() -> None:
    with pytest.raises(ChannelDataError):
        ChannelSetup.from_json({"channel_id": 1, "by_group": {"1": "x"}})


def test_the_store_sells_in_every_currency_enabled_on_any_of_its_channels() -> None:
    only_on_two = [{"channel_id": 1, "enabled_currencies": ["USD"], "default_currency": "USD"},
                   {"channel_id": 2, "enabled_currencies": ["gbp", "EUR"], "default_currency": "EUR"}]
    assert sold_currencies(only_on_two) == ("EUR", "GBP", "USD")
    assert sold_currencies([]) == ()
    with pytest.raises(ChannelDataError, match="ISO 4217"):
        sold_currencies([{"channel_id": 1, "enabled_currencies": ["US"], "default_currency": "US"}])
