"""Which products a listing holds, as BigCommerce answers its non-price filters: every page of ids.

Kept per (visibility scope, filters, sort) in process and in the store for the catalog TTL, and for a
day after: an old one — past the TTL, or fetched before a catalog change (a product, category or brand
webhook at any edge) — is served while one refresh runs in the background, so only a listing never
seen waits for BigCommerce (and a refresh that fails leaves the old one). One fetch per listing at a
time (single flight); at most ``MAX_MEMBERS`` products. In process they are bounded by bytes
(``PRICING_EDGE_LISTING_CACHE_MB``, estimated once per listing), least recently used first; an evicted one is
read back from the store.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import TTLCache

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamUnavailable
from pricing_edge.edge.caching.bounded import BytesLRU
from pricing_edge.edge.caching.l1 import estimate
from pricing_edge.edge.single_flight import SingleFlight
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
PAGE = 50
MAX_MEMBERS = 20_000  # 400 upstream pages; a larger listing is answered by BigCommerce as it is
CATALOG_CHANGED = "catalog-changed"  # store value: epoch ms of the last catalog webhook any edge accepted
CHANGE_CHECK_SECONDS = 1.0
MAX_BYTES = 32 * 2**20  # about 200,000 products (a listing's member is ~150 bytes: its id, SKU and tuple)
ENTRY_OVERHEAD = 250  # the LRU's slot and order node, the key, the Membership and its time
LAST_GOOD_SECONDS = 86_400.0
MEMBERS_QUERY = """query _peMembers($filters: SearchProductsFiltersInput!, $sort: SearchProductsSortInput,
  $after: String) {
  site { search { searchProducts(filters: $filters, sort: $sort) {
    products(first: 50, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { entityId sku variants(first: 1) { edges { node { sku } } } } }
    } } } }
}"""


class ListingTooLarge(Exception):
    pass


class MembershipUnavailable(Exception):
    """BigCommerce could not be asked, and there is no earlier answer."""


class MembershipRefused(Exception):
    """BigCommerce answered the listing's filters with GraphQL errors (e.g. a rating filter with neither bound):
    the client's query is BigCommerce's to answer, errors and all."""


@dataclass(frozen=True)
class Membership:
    products: tuple[tuple[int, str], ...]  # (product id, the SKU whose price is the product's), BigCommerce's order
    fetched_ms: int

    def encode(self) -> bytes:
        return orjson.dumps({"p": self.products, "t": self.fetched_ms})

    @classmethod
    def decode(cls, raw: bytes) -> Membership:
        data = orjson.loads(raw)
        return cls(tuple((int(p), str(s)) for p, s in data["p"]), int(data["t"]))


def _now_ms() -> int:
    return int(time.time() * 1000)


def membership_key(visibility_key: str, filters: Mapping[str, Any], sort: str | None) -> str:
    digest = hashlib.sha256(orjson.dumps({"f": filters, "s": sort}, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
    return f"mb:{visibility_key}:{digest}"


class MembershipCache:
    def __init__(self, store: Store, upstream: StorefrontClient, ttl: float, size: int = 2_000,
                 metrics: EdgeMetrics | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.store = store
        self.metrics = metrics
        self.upstream = upstream
        self.ttl = ttl
        # Bounded by bytes, not listings: one listing may hold 20,000 products.
        self._l1: BytesLRU[str, Membership] = BytesLRU(max_bytes, lambda m: ENTRY_OVERHEAD + estimate(m.products),
                                                       metrics=metrics, name="listing_membership")
        self._too_large: TTLCache[str, bool] = TTLCache(maxsize=size, ttl=ttl)  # not asked again for a while
        self._flights: SingleFlight[Membership] = SingleFlight()
        self._changed_ms = 0
        self._changed_checked = 0.0
        self.fetches = 0  # upstream pages asked (for tests and metrics)

    async def get(self, visibility_key: str, filters: Mapping[str, Any], sort: str | None,
                  headers: Mapping[str, str]) -> Membership:
        key = membership_key(visibility_key, filters, sort)
        if key in self._too_large:
            raise ListingTooLarge(f"the listing holds more than {MAX_MEMBERS} products")
        changed = await self._catalog_changed_ms()
        found = self._l1.get(key)
        if found is None or not self._fresh(found, changed):
            stored = await self._stored(key)
            if stored is not None and (found is None or stored.fetched_ms > found.fetched_ms):
                self._l1.put(key, stored)
                found = stored
        if found is not None and self._fresh(found, changed):
            return found

        async def fetch() -> Membership:
            return await self._fetch(key, filters, sort, headers)

        if found is not None:  # old, or from before a catalog change: served while one refresh runs
            self._flights.start(key, fetch)
            return found
        try:
            return await self._flights.run(key, fetch)
        except UpstreamUnavailable as exc:
            raise MembershipUnavailable(str(exc)) from exc

    @property
    def bytes(self) -> int:
        """Estimated bytes of the memberships held in process."""
        return self._l1.bytes

    def count(self, outcome: str) -> None:
        """An upstream call of the listing merge: `pricing_edge_upstream_calls_total{purpose="listing"}`."""
        if self.metrics is not None:
            self.metrics.upstream_calls.labels("listing", outcome).inc()

    def _fresh(self, found: Membership, changed_ms: int) -> bool:
        return found.fetched_ms > changed_ms and _now_ms() - found.fetched_ms < self.ttl * 1000

    async def catalog_changed(self) -> None:
        """A product or category changed: every membership fetched before now is due."""
        self._changed_ms = _now_ms()
        self._changed_checked = time.monotonic()
        try:
            await self.store.set_value(CATALOG_CHANGED, str(self._changed_ms).encode(), LAST_GOOD_SECONDS)
        except StoreError as exc:
            log.warning("could not note a catalog change in the store: %s", exc)

    async def _catalog_changed_ms(self) -> int:
        if time.monotonic() - self._changed_checked < CHANGE_CHECK_SECONDS:
            return self._changed_ms
        self._changed_checked = time.monotonic()
        try:
            raw = await self.store.get_value(CATALOG_CHANGED)
        except StoreError:
            return self._changed_ms
        if raw:
            self._changed_ms = max(self._changed_ms, int(raw))
        return self._changed_ms

    async def _stored(self, key: str) -> Membership | None:
        try:
            raw = await self.store.get_value(key)
        except StoreError:
            return None
        return Membership.decode(raw) if raw else None

    async def _fetch(self, key: str, filters: Mapping[str, Any], sort: str | None,
                     headers: Mapping[str, str]) -> Membership:
        started = _now_ms()
        products: list[tuple[int, str]] = []
        after: str | None = None
        while True:
            variables: dict[str, Any] = {"filters": dict(filters), "sort": sort, "after": after}
            try:
                answer = await self.upstream.execute(MEMBERS_QUERY, variables, "_peMembers", headers)
            except UpstreamUnavailable:
                self.count("unavailable")
                raise
            self.fetches += 1
            self.count("ok" if answer.status == 200 else str(answer.status))
            body = answer.json() if answer.status == 200 else None
            if isinstance(body, dict) and body.get("errors") and not body.get("data"):
                raise MembershipRefused(f"BigCommerce refused the listing's filters: {answer.body[:200]!r}")
            if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
                raise MembershipUnavailable(f"BigCommerce answered the listing's membership with {answer.status}: "
                                            f"{answer.body[:200]!r}")
            connection = body["data"]["site"]["search"]["searchProducts"]["products"]
            for edge in connection["edges"]:
                node = edge["node"]
                variants = [v["node"]["sku"] for v in (node.get("variants") or {}).get("edges") or []]
                products.append((int(node["entityId"]), variants[0] if variants else node["sku"]))
            if len(products) > MAX_MEMBERS:
                self._too_large[key] = True
                raise ListingTooLarge(f"the listing holds more than {MAX_MEMBERS} products")
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        found = Membership(tuple(dict.fromkeys(products)), started)
        self._l1.put(key, found)
        try:
            await self.store.set_value(key, found.encode(), LAST_GOOD_SECONDS)
        except StoreError as exc:
            log.warning("could not keep a listing's membership in the store: %s", exc)
        return found
