"""The BigCommerce Storefront GraphQL API as the edge's upstream: forwarded queries and introspection.

Answers are parsed with every number's digits kept (Decimal), since BigDecimal values pass through.
Transport failures and 5xx become ``UpstreamUnavailable``; the edge decides what to serve instead.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from pricing_edge.call_health import CallHealth
from graphql import get_introspection_query
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from pricing_edge.jsonio import loads_exact
from pricing_edge.ops import tracing

# Headers a storefront sends that BigCommerce acts on: the edge passes exactly these through.
FORWARDED_HEADERS = (
    "authorization",
    "x-bc-customer-id",
    "x-bc-customer-access-token",
    "x-bc-error-on-invalid-customer-access-token",
    "accept-language",
    "x-bc-channel-id",
)  # not traceparent: the upstream gets our CLIENT span's, a child of the shopper's (tracing.traced_client)


class UpstreamError(Exception):
    """The upstream could not give an answer."""


class UpstreamUnavailable(UpstreamError):
    """Unreachable, timed out, or a 5xx: transient."""


class _ServerError(Exception):
    """A 5xx inside the breaker: counts as a failure."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


COMPLEXITY_HEADER = "X-Bc-Graphql-Complexity"


@dataclass(frozen=True)
class UpstreamAnswer:
    status: int
    body: bytes
    content_type: str
    complexity: str | None = None  # BigCommerce's X-Bc-Graphql-Complexity, when it sends one

    def json(self) -> Any:
        return loads_exact(self.body)


# BigCommerce's channel-specific storefront host, ``store-{store_hash}-{channel_id}.…``: the channel asked for.
_CHANNEL_HOST = re.compile(r"store-[a-z0-9_-]+-\d{1,9}\.", re.IGNORECASE)


def channel_host(host: str) -> str | None:
    """The first label of a channel-specific storefront host (``store-abc123-2``), else None."""
    return host.split(".", 1)[0].lower() if _CHANNEL_HOST.match(host) else None


def forwarded(headers: Mapping[str, str], client_ip: str | None, trusted_proxy_secret: str | None) -> dict[str, str]:
    out = {name: headers[name] for name in FORWARDED_HEADERS if name in headers}
    if channel_host(headers.get("host", "")):
        out["host"] = headers["host"]  # a channel's storefront was asked: so is that channel's upstream
    if client_ip:
        out["True-Client-IP"] = client_ip
    if trusted_proxy_secret:
        out["X-BC-Trusted-Proxy-Secret"] = trusted_proxy_secret
    return out


class StorefrontClient:
    """Calls go through a circuit breaker (purgatory): while BigCommerce keeps failing, calls fail fast
    (and the edge serves what it has) instead of each waiting out the timeout."""

    def __init__(self, url: str, *, timeout: float = 5.0, client: httpx.AsyncClient | None = None,
                 breaker_threshold: int = 5, breaker_reset: float = 10.0) -> None:
        self.url = url
        self._client = client or tracing.traced_client(
            "bigcommerce", timeout=timeout, limits=httpx.Limits(max_connections=200, max_keepalive_connections=100))
        self._breakers = AsyncCircuitBreakerFactory(default_threshold=breaker_threshold, default_ttl=breaker_reset,
                                                    exclude=[UpstreamError])
        self.state = "closed"
        self.health = CallHealth(slow_after=timeout / 2)  # what /readyz reports, without a call of its own

    async def post(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> UpstreamAnswer:
        breaker = await self._breakers.get_breaker("upstream")
        try:
            async with breaker, self.health.timed():
                # Header values travel as the bytes they arrived as (ASGI servers decode them as latin-1).
                sent = {name.encode("latin-1"): value.encode("latin-1", "replace") for name, value in headers.items()}
                sent[b"content-type"] = sent[b"accept"] = b"application/json"
                url = self._url_for(headers.get("host", ""), sent)
                response = await self._client.post(url, content=orjson.dumps(payload), headers=sent)
                if response.status_code >= 500:
                    raise _ServerError(response.status_code)
        except OpenedState:
            raise UpstreamUnavailable("the upstream's circuit breaker is open") from None
        except _ServerError as exc:
            raise UpstreamUnavailable(f"upstream answered {exc.status}") from None
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.state = breaker.context.state
        return UpstreamAnswer(response.status_code, response.content,
                              response.headers.get("content-type", "application/json"),
                              response.headers.get(COMPLEXITY_HEADER))

    def _url_for(self, host: str, sent: dict[bytes, bytes]) -> str:
        """The channel's endpoint: BigCommerce's ``store-{hash}.…`` URL becomes ``store-{hash}-{channel}.…``; an
        upstream addressed otherwise (a simulator, a proxy) gets the channel's Host header instead."""
        label = channel_host(host)
        if label is None:
            sent.pop(b"host", None)
            return self.url
        parsed = httpx.URL(self.url)
        if parsed.host.startswith("store-") and "." in parsed.host:
            sent.pop(b"host", None)
            return str(parsed.copy_with(host=f"{label}.{parsed.host.split('.', 1)[1]}"))
        return self.url

    async def execute(self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None,
                      headers: Mapping[str, str]) -> UpstreamAnswer:
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        if operation_name:
            payload["operationName"] = operation_name
        return await self.post(payload, headers)

    async def introspect(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """The upstream's schema, as Catalyst learns it (an introspection query)."""
        answer = await self.post({"query": get_introspection_query(descriptions=False)}, headers)
        body = orjson.loads(answer.body)
        if answer.status != 200 or not isinstance(body, dict) or "data" not in body or body.get("errors"):
            raise UpstreamError(f"introspection failed: {answer.status} {answer.body[:300]!r}")
        data: dict[str, Any] = body["data"]
        return data

    async def aclose(self) -> None:
        await self._client.aclose()
