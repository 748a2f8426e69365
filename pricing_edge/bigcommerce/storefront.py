"""The BigCommerce Storefront GraphQL API as the edge's upstream: forwarded queries and introspection.

Answers are parsed with every number's digits kept (Decimal), since BigDecimal values pass through.
Transport failures and 5xx become ``UpstreamUnavailable``; the edge decides what to serve instead.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from graphql import get_introspection_query

from pricing_edge.jsonio import loads_exact

# Headers a storefront sends that BigCommerce acts on: the edge passes exactly these through.
FORWARDED_HEADERS = (
    "authorization",
    "x-bc-customer-id",
    "x-bc-customer-access-token",
    "x-bc-error-on-invalid-customer-access-token",
    "accept-language",
    "x-bc-channel-id",
    "traceparent",
)


class UpstreamError(Exception):
    """The upstream could not give an answer."""


class UpstreamUnavailable(UpstreamError):
    """Unreachable, timed out, or a 5xx: transient."""


@dataclass(frozen=True)
class UpstreamAnswer:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return loads_exact(self.body)


def forwarded(headers: Mapping[str, str], client_ip: str | None, trusted_proxy_secret: str | None) -> dict[str, str]:
    out = {name: headers[name] for name in FORWARDED_HEADERS if name in headers}
    if client_ip:
        out["True-Client-IP"] = client_ip
    if trusted_proxy_secret:
        out["X-BC-Trusted-Proxy-Secret"] = trusted_proxy_secret
    return out


class StorefrontClient:
    def __init__(self, url: str, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self._client = client or httpx.AsyncClient(
            timeout=timeout, limits=httpx.Limits(max_connections=200, max_keepalive_connections=100))

    async def post(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> UpstreamAnswer:
        try:
            response = await self._client.post(
                self.url, content=orjson.dumps(payload),
                headers={**headers, "content-type": "application/json", "accept": "application/json"})
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise UpstreamUnavailable(f"upstream answered {response.status_code}")
        return UpstreamAnswer(response.status_code, response.content,
                              response.headers.get("content-type", "application/json"))

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
