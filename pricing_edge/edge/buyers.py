"""Who is asking, from BigCommerce's own headers, and which scope that buyer's answers come from.

- ``Authorization: Bearer`` — checked once per distinct token against the upstream (a cached answer
  must never reach a caller BigCommerce itself would refuse), the verdict kept briefly;
- ``X-Bc-Customer-Id`` — honoured only with the token configured as the trusted impersonation token
  (server-to-server): a browser can set any header, it cannot hold that token;
- ``X-Bc-Customer-Access-Token`` — resolved once through the upstream, cached under a hash of the
  token; BigCommerce's own errors for it (``X-Bc-Error-On-Invalid-Customer-Access-Token``) pass through;
- otherwise the guest scope.
The customer → group/company mapping is cached briefly and dropped on a customer change event.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamAnswer, UpstreamUnavailable
from pricing_edge.config import listed
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.edge.clients import TokenLimit
from pricing_edge.domain.scope import PriceListAssignments, Scope
from pricing_edge.edge.cache_updater import Invalidation
from pricing_edge.edge.caching.swr import Policy, SwrCache, fixed_delay
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import INVALIDATION

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_WHO_AM_I = "query PricingEdgeBuyer { customer { entityId customerGroupId } }"
RETRY_AFTER = 5.0
_TOKEN_CHECK = "query PricingEdgeToken { site { settings { storeHash } } }"


@dataclass(frozen=True)
class Refusal:
    """An answer to give instead of one from our cache: BigCommerce's own, unchanged."""

    answer: UpstreamAnswer


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _NotHeld(Exception):
    """A resolution needs an answer this process does not hold: ``resolve`` asks for it (and the hit path
    ``held`` gives up). Raised only on a first sight, never for an answer held, fresh or due."""

    def __init__(self, cache: SwrCache[Any, Any], key: Hashable, compute: Callable[[], Awaitable[Any]]) -> None:
        super().__init__(key)
        self.cache, self.key, self.compute = cache, key, compute
        self.slot = (id(cache), key)


def _held(cache: SwrCache[K, V], key: K, compute: Callable[[], Awaitable[V]],
          fetched: Mapping[tuple[int, Hashable], object]) -> V:
    """``cache``'s answer for ``key`` — held (refreshed in the background when due: ``SwrCache.held``)
    or just fetched by this resolution; _NotHeld otherwise."""
    held = cache.held(key, compute)
    if held is not None:
        return held[0]
    slot = (id(cache), key)
    if slot in fetched:
        return fetched[slot]  # type: ignore[return-value]
    raise _NotHeld(cache, key, compute)


def remembered(ttl: float, size: int) -> SwrCache[K, V]:
    """Answers reused for ``ttl`` seconds, then refreshed once in the background while the old answer
    is still given (however many requests arrive meanwhile: one upstream call per key, never a burst),
    and kept as last-good: while the upstream cannot be asked, a buyer seen before keeps its scope
    (stale-if-error) rather than the storefront going dark. An upstream outage costs one failed call per
    key per RETRY_AFTER seconds, not one per request."""
    return SwrCache(Policy(ttl), size=size, retry_delay=fixed_delay(RETRY_AFTER), errors=(UpstreamUnavailable,),
                    name="buyer refresh")


class ScopeSource(Protocol):
    """Customer group × channel → scope: fixed assignments, or BigCommerce's (``edge.assignments``)."""

    def scope(self, channel_id: int, customer_group_id: int | None, currency: str, customer_id: int | None = None,
              company_id: int | None = None) -> Scope: ...


class BuyerResolver:
    def __init__(self, upstream: StorefrontClient, store: Store, erp: ErpAdapter,
                 assignments: PriceListAssignments | ScopeSource, *, channel_id: int, currency: str,
                 impersonation_token: str | None, ttl: float = 60.0, token_limit: TokenLimit | None = None,
                 channel_of: Callable[[Mapping[str, str]], int] | None = None) -> None:
        """``channel_of``: the channel a request is for (by its headers); without it, always ``channel_id``."""
        self.upstream = upstream
        self.token_limit = token_limit  # unknown tokens checked upstream per client per minute
        self.store = store
        self.erp = erp
        self.assignments = assignments
        self.channel_id = channel_id
        self.channel_of = channel_of
        self.currency = currency
        self.impersonation_token = impersonation_token
        self._trusted = tuple(one.encode() for one in listed(impersonation_token))
        self._tokens: SwrCache[str, UpstreamAnswer | None] = remembered(ttl, 10_000)
        self._access_tokens: SwrCache[str, int | None | Refusal] = remembered(ttl, 50_000)
        self._customers: SwrCache[int, CustomerRecord] = remembered(ttl, 50_000)

    def held(self, headers: Mapping[str, str], client: str = "unknown") -> Scope | Refusal | None:
        """The buyer's scope (or BigCommerce's refusal) from what this process holds, without waiting: what is
        due is refreshed in the background, as ``resolve`` does. None: something must be asked first."""
        try:
            return self._scope(headers, client, {})
        except _NotHeld:
            return None

    async def resolve(self, headers: Mapping[str, str], client: str = "unknown") -> Scope | Refusal:
        """The buyer's scope, or BigCommerce's refusal; TooManyTokens when ``client`` has had too many
        unknown tokens checked this minute (nothing is asked upstream then)."""
        fetched: dict[tuple[int, Hashable], object] = {}
        while True:  # each answer not held is asked once (single flight per key), then used as held
            try:
                return self._scope(headers, client, fetched)
            except _NotHeld as missing:
                fetched[missing.slot] = await missing.cache.get(missing.key, missing.compute)

    def _scope(self, headers: Mapping[str, str], client: str,
               fetched: Mapping[tuple[int, Hashable], object]) -> Scope | Refusal:
        """The resolution itself; _NotHeld names the first answer neither held nor in ``fetched``."""
        authorization = headers.get("authorization", "")
        refused = self._check_token(authorization, client, fetched)
        if refused is not None:
            return Refusal(refused)
        customer_id: int | None = None
        raw_customer = headers.get("x-bc-customer-id", "").strip()
        if (raw_customer.isascii() and raw_customer.isdigit() and len(raw_customer) <= 18
                and self._impersonating(authorization)):  # the token checked only when a customer is named
            customer_id = int(raw_customer)
        elif headers.get("x-bc-customer-access-token"):
            found = self._customer_from_access_token(headers, client, fetched)
            if isinstance(found, Refusal):
                return found
            customer_id = found
        channel_id = self.channel_of(headers) if self.channel_of is not None else self.channel_id
        if customer_id is None:
            return self.assignments.scope(channel_id, None, self.currency)
        customer = self._customer(customer_id, headers, fetched)
        return self.assignments.scope(channel_id, customer.customer_group_id, self.currency, customer_id,
                                      customer.company_id)

    def _impersonating(self, authorization: str) -> bool:
        """Whether ``authorization`` bears the trusted (server-to-server) impersonation token."""
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        return any(hmac.compare_digest(token.encode(), one) for one in self._trusted)

    def last_good(self, headers: Mapping[str, str]) -> bool:
        """Whether this request's token was vouched for only by a last-good answer (BigCommerce could not be
        asked when it was due again): its answers then say ``degraded: ["upstream"]``."""
        if self._tokens.failing(_digest(headers.get("authorization", ""))):
            return True
        access = headers.get("x-bc-customer-access-token") or ""
        return bool(access) and self._access_tokens.failing(self._access_token_key(
            access, headers.get("x-bc-error-on-invalid-customer-access-token", "").lower()))

    def forget_customer(self, customer_id: int) -> None:
        self._customers.forget(customer_id)

    async def forget_access_token(self, headers: Mapping[str, str]) -> None:
        """After a logout: the token is revoked, the next request must ask again — in every edge process (the
        digests, never the token, go out on the invalidation channel)."""
        token = headers.get("x-bc-customer-access-token")
        if not token:
            return
        digests = [self._access_token_key(token, flag) for flag in ("", "true", "false")]
        self.forget_access_digests(digests)
        try:
            await self.store.publish(INVALIDATION, Invalidation(tokens=digests).encode())
        except StoreError as exc:  # the other processes forget it when their cached resolution expires
            log.warning("could not tell the other edge processes of a logout: %s", exc)

    def forget_access_digests(self, digests: list[str]) -> None:
        for digest in digests:
            self._access_tokens.forget(digest)

    def forget_customers(self) -> None:
        """Changes may have been missed (the invalidation channel was down): read every customer again."""
        self._customers.clear()

    def _check_token(self, authorization: str, client: str,
                     fetched: Mapping[tuple[int, Hashable], object]) -> UpstreamAnswer | None:
        """None when BigCommerce accepts the token; else its refusal, to return as it is."""
        key = _digest(authorization)

        async def ask() -> UpstreamAnswer | None:
            await self._count_unknown(self._tokens.knows(key), client)
            answer = await self.upstream.execute(_TOKEN_CHECK, None, None,
                                                 {"authorization": authorization} if authorization else {})
            return None if answer.status == 200 else answer

        return _held(self._tokens, key, ask, fetched)

    async def _count_unknown(self, known: bool, client: str) -> None:
        """A token not seen before is counted against its client's limit (a refresh of a known one is not)."""
        if not known and self.token_limit is not None:
            await self.token_limit.check(client)

    def _customer_from_access_token(self, headers: Mapping[str, str], client: str,
                                    fetched: Mapping[tuple[int, Hashable], object]) -> int | None | Refusal:
        # The answer depends on the error flag too: an invalid token is an error with it, a guest without.
        key = self._access_token_key(headers["x-bc-customer-access-token"],
                                     headers.get("x-bc-error-on-invalid-customer-access-token", "").lower())

        async def ask() -> int | None | Refusal:
            await self._count_unknown(self._access_tokens.knows(key), client)
            return await self._ask_access_token(headers)

        return _held(self._access_tokens, key, ask, fetched)

    @staticmethod
    def _access_token_key(token: str, error_flag: str) -> str:
        return _digest(token + "|" + error_flag)

    async def _ask_access_token(self, headers: Mapping[str, str]) -> int | None | Refusal:
        passed = {k: headers[k] for k in ("authorization", "x-bc-customer-access-token",
                                          "x-bc-error-on-invalid-customer-access-token") if k in headers}
        answer = await self.upstream.execute(_WHO_AM_I, None, None, passed)
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or body.get("errors"):
            return Refusal(answer)
        customer = (body.get("data") or {}).get("customer")
        return int(customer["entityId"]) if customer else None

    def _customer(self, customer_id: int, headers: Mapping[str, str],
                  fetched: Mapping[tuple[int, Hashable], object]) -> CustomerRecord:
        return _held(self._customers, customer_id, lambda: self._find_customer(customer_id, headers), fetched)

    async def _find_customer(self, customer_id: int, headers: Mapping[str, str]) -> CustomerRecord:
        """The buyer's group and company: our store (kept by events), else the ERP, else the upstream."""
        record: CustomerRecord | None = None
        try:
            record = await self.store.get_customer(customer_id)
        except StoreError as exc:
            log.warning("store unavailable for customer %s: %s", customer_id, exc)
        if record is None:
            try:
                record = await self.erp.get_customer(customer_id)
                if record is not None:
                    await self.store.put_customer(record)
            except (ErpError, StoreError) as exc:
                log.warning("cannot read customer %s from the ERP: %s", customer_id, exc)
        if record is None:
            record = await self._customer_from_upstream(customer_id, headers)
        return record

    async def _customer_from_upstream(self, customer_id: int, headers: Mapping[str, str]) -> CustomerRecord:
        """Last resort; if BigCommerce cannot be asked either, the request fails (never a guessed scope)."""
        passed = {k: headers[k] for k in ("authorization", "x-bc-customer-id") if k in headers}
        body = (await self.upstream.execute(_WHO_AM_I, None, None, passed)).json()
        customer = (body.get("data") or {}).get("customer") if isinstance(body, dict) else None
        return CustomerRecord(customer_id, customer.get("customerGroupId") if customer else None)
