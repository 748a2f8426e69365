"""The store's channels, their currencies and its price-list assignments (customer group × channel → price
list), as BigCommerce's ``channels.v3.yml`` and ``price_lists.v3.yml`` describe them.

The storefront prices a buyer by these assignments: the group's assignment on the request's channel, else the
channel-wide one (an assignment without a customer group), else the store's default list. A channel is reached
the way BigCommerce reaches it: its own storefront host, ``store-{store_hash}-{channel_id}.…``; any other host
is the default channel (1). Seeded: channel 1 (USD, EUR enabled) and channel 2 (EUR only), each with the
dataset's group assignments.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pricing_edge.sim.admin.http import AdminError, require_int
from pricing_edge.sim.dataset import CHANNEL_ID, CURRENCIES, DEFAULT_CURRENCY, STORE_NAME, Dataset

ASSIGNMENT_SCOPE = "store/priceList/assignment/updated"
MAX_BATCH = 25  # BigCommerce's batch limit for price-list assignments
SECOND_CHANNEL_ID = 2
_ASSIGNMENT_FIELDS = frozenset({"price_list_id", "customer_group_id", "channel_id"})


@dataclass
class Channel:
    id: int
    name: str
    default_currency: str
    currencies: tuple[str, ...]
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def view(self) -> dict[str, Any]:
        stamp = self.created.isoformat(timespec="seconds").replace("+00:00", "Z")
        return {"id": self.id, "name": self.name, "type": "storefront", "platform": "bigcommerce", "status": "active",
                "is_enabled": True, "is_visible": True, "is_listable_from_ui": True, "external_id": "",
                "date_created": stamp, "date_modified": stamp,
                "icon_url": "https://s3.amazonaws.com/bc-channel-platform/bigcommerce.svg"}

    def currency_view(self) -> dict[str, Any]:
        return {"channel_id": self.id, "enabled_currencies": list(self.currencies),
                "default_currency": self.default_currency}


@dataclass(frozen=True)
class Assignment:
    id: int
    price_list_id: int
    customer_group_id: int | None  # None: every customer of the channel without an assignment of its own
    channel_id: int

    def view(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "price_list_id": self.price_list_id, "channel_id": self.channel_id}
        if self.customer_group_id is not None:
            shown["customer_group_id"] = self.customer_group_id
        return shown


class ChannelBook:
    def __init__(self, dataset: Dataset, store_hash: str) -> None:
        self.dataset = dataset
        self.store_hash = store_hash
        self.channels = {CHANNEL_ID: Channel(CHANNEL_ID, STORE_NAME, DEFAULT_CURRENCY, CURRENCIES),
                         SECOND_CHANNEL_ID: Channel(SECOND_CHANNEL_ID, f"{STORE_NAME} EU", "EUR", ("EUR",))}
        self._ids = itertools.count(1)
        self.assignments: dict[int, Assignment] = {}
        for channel_id in self.channels:
            for group in dataset.customer_groups:
                self._add(group.price_list_id, group.id, channel_id)

    # --- what the storefront asks ---------------------------------------------------------------------
    def channel_for_host(self, host: str) -> int | None:
        """``store-{hash}-{n}.…`` → n (None when n is not a channel); any other host → the default channel."""
        match = re.match(rf"store-{re.escape(self.store_hash)}-(\d{{1,9}})\.", host.lower())
        if match is None:
            return CHANNEL_ID
        channel_id = int(match.group(1))
        return channel_id if channel_id in self.channels else None

    def price_list_for(self, group_id: int | None, channel_id: int) -> int:
        channel_wide = None
        for a in self.assignments.values():
            if a.channel_id == channel_id:
                if a.customer_group_id is not None and a.customer_group_id == group_id:
                    return a.price_list_id
                if a.customer_group_id is None:
                    channel_wide = a.price_list_id
        return channel_wide if channel_wide is not None else self.dataset.default_price_list_id

    # --- the REST Admin API ---------------------------------------------------------------------------
    def channel(self, channel_id: int) -> Channel:
        found = self.channels.get(channel_id)
        if found is None:
            raise AdminError(404, "The requested channel was not found.")
        return found

    def select(self, filters: dict[str, list[int]]) -> list[Assignment]:
        def keep(a: Assignment) -> bool:
            return all(getattr(a, "id" if name == "id" else name) in wanted for name, wanted in filters.items())
        return [a for a in self.assignments.values() if keep(a)]

    def create(self, body: Any) -> list[tuple[str, dict[str, Any]]]:
        """A batch (≤ 25), all checked before any is kept: one bad item and nothing changes (422)."""
        if not isinstance(body, list) or not body:
            raise AdminError(422, "The request body must be a non-empty array of price list assignments.")
        if len(body) > MAX_BATCH:
            raise AdminError(422, f"At most {MAX_BATCH} price list assignments can be created at once.")
        wanted = [self._checked(item, f"[{n}].") for n, item in enumerate(body)]
        taken = {(a.customer_group_id, a.channel_id) for a in self.assignments.values()}
        for n, (_, group, channel) in enumerate(wanted):
            if (group, channel) in taken:
                raise AdminError(422, f"Item [{n}]: customer group {group} already has a price list on channel "
                                      f"{channel}.", field=f"[{n}].customer_group_id")
            taken.add((group, channel))
        return [self._event(self._add(*item)) for item in wanted]

    def upsert(self, price_list_id: int, body: Any) -> tuple[Assignment, tuple[str, dict[str, Any]]]:
        if not isinstance(body, dict):
            raise AdminError(422, "The request body must be a JSON object.")
        for name in ("customer_group_id", "channel_id"):
            if name not in body:
                raise AdminError(422, f"The field '{name}' is required.", field=name)
        _, group, channel = self._checked({**body, "price_list_id": price_list_id}, "", missing=404)
        old = next((a for a in self.assignments.values()
                    if a.customer_group_id == group and a.channel_id == channel), None)
        if old is not None:
            self.assignments[old.id] = Assignment(old.id, price_list_id, group, channel)
            return self.assignments[old.id], self._event(self.assignments[old.id])
        created = self._add(price_list_id, group, channel)
        return created, self._event(created)

    def delete(self, filters: dict[str, list[int]]) -> list[tuple[str, dict[str, Any]]]:
        if not filters:
            raise AdminError(422, "Give at least one filter (id, price_list_id, customer_group_id, channel_id).")
        gone = self.select(filters)
        for a in gone:
            del self.assignments[a.id]
        return [self._event(a) for a in gone]

    # --- inside -----------------------------------------------------------------------------------------
    def _add(self, price_list_id: int, group: int | None, channel_id: int) -> Assignment:
        assignment = Assignment(next(self._ids), price_list_id, group, channel_id)
        self.assignments[assignment.id] = assignment
        return assignment

    @staticmethod
    def _event(a: Assignment) -> tuple[str, dict[str, Any]]:
        data = {"price_list_id": a.price_list_id, "channel_id": a.channel_id}
        if a.customer_group_id is not None:
            data["customer_group_id"] = a.customer_group_id
        return ASSIGNMENT_SCOPE, data

    def _checked(self, item: Any, where: str, missing: int = 422) -> tuple[int, int | None, int]:
        if not isinstance(item, dict):
            raise AdminError(422, f"Item {where or 'the body'} must be a JSON object.")
        unknown = set(item) - _ASSIGNMENT_FIELDS
        if unknown:
            raise AdminError(422, f"The field '{where}{sorted(unknown)[0]}' is not a price list assignment field.",
                             field=f"{where}{sorted(unknown)[0]}")
        try:
            price_list = require_int(item.get("price_list_id"), f"{where}price_list_id", minimum=1)
            group = (None if item.get("customer_group_id") is None
                     else require_int(item["customer_group_id"], f"{where}customer_group_id", minimum=0))
            channel = require_int(item.get("channel_id", CHANNEL_ID), f"{where}channel_id", minimum=1)
        except AdminError as exc:
            raise AdminError(422, exc.message, field=exc.message.split("'")[1]) from None
        if all(p.id != price_list for p in self.dataset.price_lists):
            raise AdminError(422, f"Price list {price_list} does not exist.", field=f"{where}price_list_id")
        if group is not None and self.dataset.group(group) is None:
            raise AdminError(missing, f"Customer group {group} does not exist.", field=f"{where}customer_group_id")
        if channel not in self.channels:
            raise AdminError(missing, f"Channel {channel} does not exist.", field=f"{where}channel_id")
        return price_list, group, channel
