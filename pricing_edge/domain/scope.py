"""What a cached answer depends on: never the individual buyer, so buyers in one group share entries.

Price scope: (channel, price list — from the customer group and the channel —, currency). The
customer group is part of the key too, because BigCommerce's catalog visibility follows the group:
two groups on one price list may see different products. Credit is scoped to the company.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

GUEST_GROUP_ID = 0


@dataclass(frozen=True)
class Scope:
    channel_id: int
    customer_group_id: int
    price_list_id: int
    currency: str
    customer_id: int | None = None  # who asked; never part of a shared key
    company_id: int | None = None

    @cached_property
    def key(self) -> str:
        """The shared-cache key: everything that changes a priced catalog answer, nothing personal (made once
        per scope: a held scope is asked for it on every cached answer)."""
        return f"c{self.channel_id}:g{self.customer_group_id}:pl{self.price_list_id}:{self.currency}"

    @property
    def visibility_key(self) -> str:
        """What BigCommerce's catalog answer (before our overlay) depends on."""
        return f"c{self.channel_id}:g{self.customer_group_id}"


@dataclass(frozen=True)
class PriceListAssignments:
    """BigCommerce price-list assignments for one channel: customer group → price list, else the default."""

    by_group: Mapping[int, int]
    default_price_list_id: int

    def price_list_for(self, customer_group_id: int | None) -> int:
        if customer_group_id is None:
            return self.by_group.get(GUEST_GROUP_ID, self.default_price_list_id)
        return self.by_group.get(customer_group_id, self.default_price_list_id)

    @classmethod
    def parse(cls, text: str, default_price_list_id: int) -> PriceListAssignments:
        """``"0:1,1:2,2:3"`` — group:price list pairs (group 0 is the guest group)."""
        pairs: dict[int, int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            group, sep, price_list = item.partition(":")
            if not sep or not group.strip().isdigit() or not price_list.strip().isdigit():
                raise ValueError(f"price-list assignment {item!r} is not group:price_list")
            pairs[int(group)] = int(price_list)
        return cls(pairs, default_price_list_id)

    def scope(self, channel_id: int, customer_group_id: int | None, currency: str, customer_id: int | None = None,
              company_id: int | None = None) -> Scope:
        group = GUEST_GROUP_ID if customer_group_id is None else customer_group_id
        return Scope(channel_id, group, self.price_list_for(customer_group_id), currency, customer_id, company_id)
