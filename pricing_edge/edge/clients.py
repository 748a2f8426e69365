"""Per-client limits: who the client is (``True-Client-IP`` only from a trusted proxy, else the peer
address) and how many tokens it has had checked.

Each token the edge has not seen costs an upstream call to check (BigCommerce decides what a token is
worth), so a client sending random tokens would make the edge call BigCommerce once per request. At most
``unknown_tokens_per_minute`` such checks are made per client per minute; past that the client gets a
BigCommerce-shaped 429 and no upstream call is made. Tokens already known are not counted.

The counter lives in the store (Redis: one fixed one-minute window per client, shared by every edge
process, so ``serve --workers N`` does not multiply the limit).

Documents the one-pass budget refuses cost little each, but a client that sends nothing else, as fast as
it can, still spends a core on reading and pre-counting them. After ``refused_documents_per_minute`` refusals in a
window, such a client is answered a 429 *before its body is read*, held ``TARPIT_SECONDS`` first so a
closed-loop client slows to a crawl (:class:`RefusedDocuments`, per process: it needs no round trip). While the store is unreachable the check
is let through: refusing every new buyer during a Redis outage would be worse than a flood of checks,
which BigCommerce rate-limits per shopper anyway (``True-Client-IP`` is forwarded).
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cachetools import LRUCache

import orjson

from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60.0
REFUSALS_ALLOWED = 10  # documents refused by the budget per client per window (PRICING_EDGE_REFUSED_DOCUMENTS_PER_MINUTE)
TARPIT_SECONDS = 1.0  # how long a penalized client's request is held before its 429
TRUE_CLIENT_IP = "true-client-ip"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(listed: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(one, strict=False) for one in listed)


def client_address(peer: str | None, headers: Mapping[str, str], trusted: tuple[Network, ...]) -> str:
    """The client a request is counted against: the proxy's ``True-Client-IP`` when the peer is a trusted
    proxy (and the header is an address), else the peer itself."""
    if peer is None:
        return "unknown"
    if not trusted:
        return peer
    claimed = headers.get(TRUE_CLIENT_IP, "").strip()
    if claimed and _within(peer, trusted):
        try:
            return str(ipaddress.ip_address(claimed))
        except ValueError:
            log.warning("trusted proxy %s sent a True-Client-IP that is not an address: %r", peer, claimed[:64])
    return peer


def _within(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class TooManyTokens(Exception):
    """This client has had its limit of unknown tokens checked this minute (or of refused documents)."""

    def __init__(self, limit: int, retry_after: float, what: str = "unknown tokens") -> None:
        super().__init__(f"more than {limit} {what} from this client in a minute")
        self.limit = limit
        self.retry_after = retry_after

    def body(self) -> bytes:
        """BigCommerce's own 429 body (its REST error shape)."""
        return orjson.dumps({"status": 429, "title": "Too many requests",
                             "type": "/api-docs/getting-started/api-status-codes", "errors": {}})

    def headers(self) -> dict[str, str]:
        """BigCommerce's rate-limit headers: nothing left, and when the window resets."""
        reset_ms = max(1, math.ceil(self.retry_after * 1000))
        return {"X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Requests-Quota": str(self.limit),
                "X-Rate-Limit-Time-Window-Ms": str(int(WINDOW_SECONDS * 1000)),
                "X-Rate-Limit-Time-Reset-Ms": str(reset_ms), "Retry-After": str(math.ceil(reset_ms / 1000))}


@dataclass
class TokenLimit:
    """How many unknown tokens one client may have checked per minute, counted in the store."""

    store: Store
    per_minute: int

    async def check(self, client: str) -> None:
        """Count one unknown-token check for ``client``; TooManyTokens when it is one too many."""
        key = "tokens:" + hashlib.sha256(client.encode()).hexdigest()[:32]
        try:
            counted = await self.store.count(key, WINDOW_SECONDS)
        except StoreError as exc:
            log.warning("token limit not counted (store unavailable): %s", exc)
            return
        if counted > self.per_minute:
            raise TooManyTokens(self.per_minute, WINDOW_SECONDS)


class RefusedDocuments:
    """Per client, the documents the budget refused in the current window; past the allowance, the client's
    requests are refused before their body is read (``penalized``)."""

    def __init__(self, allowed: int = REFUSALS_ALLOWED, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic, size: int = 10_000) -> None:
        self.allowed = allowed
        self.window = window
        self._clock = clock
        self._counts: LRUCache[str, tuple[float, int]] = LRUCache(maxsize=size)

    def refused(self, client: str) -> None:
        now = self._clock()
        started, count = self._counts.get(client, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._counts[client] = (started, count + 1)

    def penalized(self, client: str) -> TooManyTokens | None:
        """The 429 to answer this client with, or None when it may be heard."""
        found = self._counts.get(client)
        if found is None or found[1] <= self.allowed:
            return None
        remaining = found[0] + self.window - self._clock()
        if remaining <= 0:
            del self._counts[client]
            return None
        return TooManyTokens(self.allowed, remaining, "documents refused as too large")
