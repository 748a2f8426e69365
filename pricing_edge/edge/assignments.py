"""Which price list and currency a buyer of each served channel gets, kept true to BigCommerce.

BigCommerce is the source: its price-list assignments and channel currency assignments are read at start,
every ``PRICING_EDGE_ASSIGNMENTS_REFRESH`` seconds, and soon after a ``store/priceList/assignment/updated``
webhook. The configuration (``PRICING_EDGE_PRICE_LISTS``, ``PRICING_EDGE_DEFAULT_PRICE_LIST``,
``PRICING_EDGE_CURRENCY``) is only the cold-start fallback, used until BigCommerce (or a kept copy) has answered.
Each good answer is kept in the store (Redis: every edge process and a restart share it). When BigCommerce is
unreachable, or answers data that cannot be used, the edge keeps what it had — the last good setup, or the kept
copy — never fails closed, and a group with no known list gets the channel's default list.

The channel of a request is BigCommerce's own way of naming one: the storefront endpoint of a channel is
``store-{store_hash}-{channel_id}.…``; a request whose Host is that of a served channel is that channel's, any
other the default channel's (``PRICING_EDGE_CHANNEL_ID``).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence

import orjson

from pricing_edge.bigcommerce import channels as bc_channels
from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceError
from pricing_edge.domain.channels import ChannelDataError, ChannelSetup, channel_setups, sold_currencies
from pricing_edge.domain.scope import PriceListAssignments, Scope
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
KEPT_KEY = "channels:setups"
KEPT_SECONDS = 90 * 24 * 3600.0  # far longer than any outage: the last good answer outlives it
MAX_SCOPES = 50_000  # buyers' scopes kept made; past it they are made anew (a few hundred bytes each)


class ChannelAssignments:
    """The buyer resolver's scope source: ``scope(channel, group, …)`` with the channel's current setup."""

    def __init__(self, store: Store, admin: BigCommerceAdmin | None, *, store_hash: str, channel_ids: Sequence[int],
                 default_channel: int, fallback: PriceListAssignments, fallback_currency: str,
                 every: float = 300.0) -> None:
        self.store = store
        self.admin = admin
        self.default_channel = default_channel
        self.channel_ids = tuple(dict.fromkeys([default_channel, *channel_ids]))
        self.fallback_currency = fallback_currency
        self.default_price_list_id = fallback.default_price_list_id
        self.every = every
        self.current: dict[int, ChannelSetup] = {
            c: ChannelSetup(c, fallback, fallback_currency, (fallback_currency,)) for c in self.channel_ids}
        self.source = "configuration"  # → "bigcommerce" or "kept" once either has answered
        self.last_error: str | None = None
        self.on_change: Callable[[], None] | None = None  # e.g. forget answers built for the old assignments
        self._host = re.compile(rf"store-{re.escape(store_hash.lower())}-(\d{{1,9}})\.")
        self._wake = asyncio.Event()
        self._scopes: dict[tuple[int, int | None, int | None, int | None], Scope] = {}

    # --- what a request asks ------------------------------------------------------------------------------
    def channel_for(self, headers: Mapping[str, str]) -> int:
        if len(self.current) == 1:  # one channel served: every request is its (no Host to parse)
            return self.default_channel
        match = self._host.match(headers.get("host", "").lower())
        channel = int(match.group(1)) if match else self.default_channel
        return channel if channel in self.current else self.default_channel

    def setup(self, channel_id: int) -> ChannelSetup:
        return self.current.get(channel_id) or self.current[self.default_channel]

    def scope(self, channel_id: int, customer_group_id: int | None, currency: str | None = None,
              customer_id: int | None = None, company_id: int | None = None) -> Scope:
        """The channel's default currency from BigCommerce (``currency`` is not used: it is the channel's).
        Made once per buyer and setup (a buyer's requests share one scope, and its ``key``)."""
        wanted = (channel_id, customer_group_id, customer_id, company_id)
        found = self._scopes.get(wanted)
        if found is None:
            if len(self._scopes) >= MAX_SCOPES:
                self._scopes.clear()
            found = self._scopes[wanted] = self.setup(channel_id).scope(customer_group_id, customer_id, company_id)
        return found

    # --- keeping it true --------------------------------------------------------------------------------
    def refresh_soon(self) -> None:
        """A webhook said the assignments changed: read them now rather than at the next tick."""
        self._wake.set()

    async def refresh(self) -> bool:
        """Read BigCommerce; True when its answer is now in use. On failure what the edge had stands (or the
        kept copy, if this process has had nothing from BigCommerce yet)."""
        if self.admin is None:
            return False
        try:
            assignments = await bc_channels.price_list_assignments(self.admin, self.channel_ids)
            currencies = await bc_channels.currency_assignments(self.admin)
            setups = channel_setups(self.channel_ids, assignments, currencies,
                                    default_price_list_id=self.default_price_list_id,
                                    fallback_currency=self.fallback_currency)
        except (BigCommerceError, ChannelDataError) as exc:
            self.last_error = str(exc)
            log.warning("price-list assignments not refreshed, keeping the %s ones: %s", self.source, exc)
            if self.source == "configuration":
                await self.load_kept()
            return False
        self.last_error = None
        self._use(setups, "bigcommerce")
        try:
            payload = orjson.dumps([s.to_json() for s in setups.values()])
            await self.store.set_value(KEPT_KEY, payload, KEPT_SECONDS)
        except StoreError as exc:
            log.warning("could not keep the price-list assignments in the store: %s", exc)
        return True

    async def load_kept(self) -> bool:
        """The last good setup any edge process kept (after a restart while BigCommerce is unreachable)."""
        kept = await kept_setups(self.store)
        if not kept:
            return False
        self._use({c: kept.get(c, self.current[c]) for c in self.channel_ids}, "kept")
        return True

    def _use(self, setups: Mapping[int, ChannelSetup], source: str) -> None:
        changed = dict(setups) != self.current
        self.current = dict(setups)
        self._scopes = {}  # made from the setups before
        self.source = source
        if changed and self.on_change is not None:
            self.on_change()

    async def run(self, stopping: Callable[[], bool]) -> None:
        """Refresh every ``every`` seconds, or sooner when woken, until stopping (the first read is at start)."""
        while not stopping():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)
            self._wake.clear()
            if not stopping():
                await self.refresh()


async def kept_setups(store: Store) -> dict[int, ChannelSetup]:
    """The channel setups an edge process last read from BigCommerce and kept in the store (none: empty)."""
    try:
        raw = await store.get_value(KEPT_KEY)
        if raw is None:
            return {}
        return {s.channel_id: s for s in (ChannelSetup.from_json(item) for item in orjson.loads(raw))}
    except (StoreError, ChannelDataError, orjson.JSONDecodeError, TypeError) as exc:
        log.warning("no usable kept price-list assignments: %s", exc)
        return {}


async def store_currencies(store: Store, admin: BigCommerceAdmin | None, fallback: Sequence[str]) -> list[str]:
    """The one answer to "which currencies does this store sell in", for the push into BigCommerce and for
    warming: every currency BigCommerce has enabled on any channel (its channel currency assignments). When
    BigCommerce cannot say (unreachable, unusable data, no channel names one), the currencies of the channel
    setups the edge kept in the store; only then ``fallback`` (``PRICING_EDGE_CURRENCIES``)."""
    if admin is not None:
        try:
            sold = sold_currencies(await bc_channels.currency_assignments(admin))
            if sold:
                return list(sold)
        except (BigCommerceError, ChannelDataError) as exc:
            log.warning("BigCommerce's channel currencies not read, using the kept ones or the configured: %s", exc)
    kept = sorted({c for setup in (await kept_setups(store)).values() for c in setup.currencies})
    return kept or list(fallback)
