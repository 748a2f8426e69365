"""BigCommerce's REST Admin API as the worker and the edge use it: orders, order products and addresses,
shipments, order statuses, webhook subscriptions and cart line prices (``/stores/{store_hash}/v2|v3/...``, ``X-Auth-Token``).

Answers are parsed Decimal-exact (``loads_exact``); v2 money arrives as strings and stays so. Every call
carries the current ``traceparent`` (the client is ``tracing.traced_client``).

Rate limits, as BigCommerce asks: each answer's ``X-Rate-Limit-Requests-Left`` and
``X-Rate-Limit-Time-Reset-Ms`` (with ``-Requests-Quota`` and ``-Time-Window-Ms``) are remembered; when
nothing is left, the next call waits for the window to reset, and a 429 waits ``X-Rate-Limit-Time-Reset-Ms``
(else ``X-Retry-After`` seconds) and retries. The window is the store's, not the client's: it lives in the
``quota`` given (``store.rest_quota(store_hash)``: one bucket in Redis that every process and every caller
of the REST API shares; ``store/rest_quota.py``), so they count down one window together rather than each
stampede their own. Without a store, one in-process bucket per client. If Redis cannot be reached the call
goes ahead (BigCommerce's own 429 still holds it back). A call waits at most ``max_rate_limit_wait``
seconds in all; beyond that it raises ``BigCommerceUnavailable`` with ``retry_after``. Errors are
``pricing_edge.bigcommerce.errors``; httpx's never escape.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from pricing_edge.bigcommerce import errors
from pricing_edge.bigcommerce.errors import BigCommerceBadResponse, BigCommerceError, BigCommerceUnavailable
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.ops import tracing
from pricing_edge.store.base import StoreError
from pricing_edge.store.rest_quota import LocalRestQuota, RestQuota

log = logging.getLogger(__name__)
PAGE_LIMIT = 250  # BigCommerce's largest page


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _retry_wait(response: httpx.Response) -> float:
    """How long a 429 asks us to wait: the reset in ms (precise), else ``X-Retry-After`` seconds, else 1s."""
    reset_ms = _number(response.headers.get("x-rate-limit-time-reset-ms"))
    if reset_ms is not None:
        return max(0.0, reset_ms / 1000)
    retry_after = _number(response.headers.get("x-retry-after") or response.headers.get("retry-after"))
    return max(0.0, retry_after) if retry_after is not None else 1.0


class BigCommerceAdmin:
    def __init__(self, base_url: str, *, store_hash: str, access_token: str, client: httpx.AsyncClient | None = None,
                 timeout: float = 10.0, max_rate_limit_wait: float = 60.0, quota: RestQuota | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.store_hash = store_hash
        self.max_rate_limit_wait = max_rate_limit_wait
        self._root = f"{self.base_url}/stores/{store_hash}"
        self._headers = {"X-Auth-Token": access_token, "Accept": "application/json",
                         "Content-Type": "application/json"}
        self._owns_client = client is None
        self._client = client or tracing.traced_client("bigcommerce", timeout=timeout)
        self.quota: RestQuota = quota or LocalRestQuota()
        self._waits = 0
        self._waited = 0.0

    @property
    def rate_limit_waits(self) -> tuple[int, float]:
        """How often calls waited for the rate-limit window, and for how many seconds in all."""
        return self._waits, self._waited

    async def _admit(self, deadline: float, what: str) -> None:
        """Wait until the store's window lets one request go (counted out of it), within ``deadline``."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                wait = await self.quota.admit()
            except StoreError as exc:
                log.warning("REST quota bucket unreachable, %s goes ahead: %s", what, exc)
                return
            if wait <= 0:
                return
            if loop.time() + wait > deadline:
                raise BigCommerceUnavailable(f"bigcommerce: {what} rate limited; the window resets in {wait:.3f}s, "
                                             "beyond the client's wait limit", status=429, retry_after=wait)
            self._waits += 1
            self._waited += wait
            await asyncio.sleep(wait)

    async def _observe(self, headers: httpx.Headers) -> None:
        try:
            await self.quota.observe(_number(headers.get("x-rate-limit-requests-left")),
                                     _number(headers.get("x-rate-limit-time-reset-ms")),
                                     _number(headers.get("x-rate-limit-requests-quota")),
                                     _number(headers.get("x-rate-limit-time-window-ms")))
        except StoreError as exc:
            log.warning("REST quota bucket unreachable, an answer's rate-limit headers are not shared: %s", exc)

    async def _throttled(self, wait: float) -> None:
        try:
            await self.quota.throttled(wait)
        except StoreError as exc:
            log.warning("REST quota bucket unreachable, a 429 is not shared: %s", exc)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- orders (v2) ---------------------------------------------------------------------------

    async def get_order(self, order_id: int) -> dict[str, Any] | None:
        """The order, or None if BigCommerce has no such order."""
        found = await self._call("GET", f"/v2/orders/{order_id}", none_on_404=True)
        return None if found is None else _dict(found, "order")

    async def list_orders(self, **filters: Any) -> list[dict[str, Any]]:
        """One page of ``GET /v2/orders`` (filters as BigCommerce names them: min_id, status_id, page, limit...)."""
        return _list(await self._call("GET", "/v2/orders", params=filters), "orders")

    async def orders_modified_since(self, since: datetime) -> list[dict[str, Any]]:
        """Every order modified at or after ``since`` (``GET /v2/orders?min_date_modified=``, all pages, oldest
        change first): what the order poller asks, so an order whose webhook never came is still found."""
        orders: list[dict[str, Any]] = []
        page = 1
        while True:
            chunk = _list(await self._call("GET", "/v2/orders", params={
                "min_date_modified": since.astimezone(UTC).isoformat(timespec="seconds"),
                "sort": "date_modified", "page": page, "limit": PAGE_LIMIT}), "orders")
            orders.extend(chunk)
            if len(chunk) < PAGE_LIMIT:
                return orders
            page += 1

    async def update_order(self, order_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return _dict(await self._call("PUT", f"/v2/orders/{order_id}", body=fields), "order")

    async def get_order_products(self, order_id: int) -> list[dict[str, Any]]:
        return await self._all_pages(f"/v2/orders/{order_id}/products", "order products")

    async def get_shipping_addresses(self, order_id: int) -> list[dict[str, Any]]:
        return await self._all_pages(f"/v2/orders/{order_id}/shipping_addresses", "shipping addresses")

    async def get_order_coupons(self, order_id: int) -> list[dict[str, Any]]:
        return await self._all_pages(f"/v2/orders/{order_id}/coupons", "order coupons")

    async def get_order_fees(self, order_id: int) -> list[dict[str, Any]]:
        """``GET /v2/orders/{id}/fees`` answers ``{"fees": [...]}`` (the spec's example), not a bare array."""
        body = await self._call("GET", f"/v2/orders/{order_id}/fees")
        return _list(body.get("fees") if isinstance(body, dict) else body, "order fees")

    async def create_shipment(self, order_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        return _dict(await self._call("POST", f"/v2/orders/{order_id}/shipments", body=body), "shipment")

    async def list_shipments(self, order_id: int) -> list[dict[str, Any]]:
        return await self._all_pages(f"/v2/orders/{order_id}/shipments", "shipments")

    async def list_order_statuses(self) -> list[dict[str, Any]]:
        return _list(await self._call("GET", "/v2/order_statuses"), "order statuses")

    # --- webhooks (v3) -------------------------------------------------------------------------

    async def list_hooks(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = []
        page = 1
        while True:
            body = _dict(await self._call("GET", "/v3/hooks", params={"page": page, "limit": PAGE_LIMIT}), "hooks")
            hooks.extend(_list(body.get("data"), "hooks"))
            pagination = (body.get("meta") or {}).get("pagination") or {}
            if page >= int(pagination.get("total_pages") or 1):
                return hooks
            page += 1

    async def create_hook(self, scope: str, destination: str, *, headers: Mapping[str, str] | None = None,
                          is_active: bool = True, events_history_enabled: bool | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"scope": scope, "destination": destination, "is_active": is_active,
                                "headers": dict(headers) if headers is not None else None}
        if events_history_enabled is not None:
            body["events_history_enabled"] = events_history_enabled
        return _data(await self._call("POST", "/v3/hooks", body=body), "hook")

    async def update_hook(self, hook_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return _data(await self._call("PUT", f"/v3/hooks/{hook_id}", body=fields), "hook")

    async def delete_hook(self, hook_id: int) -> dict[str, Any]:
        return _data(await self._call("DELETE", f"/v3/hooks/{hook_id}"), "hook")

    async def register_webhooks(self, destination: str, scopes: Sequence[str],
                                headers: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Make sure each scope has one active hook to ``destination`` with exactly ``headers``.

        Idempotent: creates only missing (scope, destination) pairs, re-activates or fixes the headers of
        existing ones, leaves correct ones alone. Returns ``[{"scope", "action": "created" | "reactivated" |
        "updated" | "unchanged", "id"}]`` ("reactivated": BigCommerce had deactivated it); running it twice, the
        second run is all "unchanged".
        """
        wanted_headers = dict(headers or {})
        existing = [h for h in await self.list_hooks() if h.get("destination") == destination]
        done: list[dict[str, Any]] = []
        for scope in dict.fromkeys(scopes):
            candidates = [h for h in existing if h.get("scope") == scope]
            correct = next((h for h in candidates
                            if h.get("is_active") and dict(h.get("headers") or {}) == wanted_headers), None)
            if correct is not None:
                done.append({"scope": scope, "action": "unchanged", "id": correct["id"]})
            elif candidates:
                hook = await self.update_hook(candidates[0]["id"], {"is_active": True, "headers": wanted_headers})
                action = "updated" if candidates[0].get("is_active") else "reactivated"
                done.append({"scope": scope, "action": action, "id": hook["id"]})
            else:
                hook = await self.create_hook(scope, destination, headers=wanted_headers)
                done.append({"scope": scope, "action": "created", "id": hook["id"]})
        return done

    # --- carts (v3, server-to-server) --------------------------------------------------------------

    async def get_cart(self, cart_id: str) -> dict[str, Any] | None:
        """``Cart_Full`` (the envelope's ``data``), or None when BigCommerce has no such cart."""
        found = await self._call("GET", f"/v3/carts/{cart_id}", none_on_404=True)
        return None if found is None else _data(found, "cart")

    async def update_cart_item(self, cart_id: str, item_id: str, line_item: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v3/carts/{cart}/items/{item}`` with ``{"line_item": ...}`` (quantity, product_id, variant_id,
        list_price: the price override); the cart after it."""
        return _data(await self._call("PUT", f"/v3/carts/{cart_id}/items/{item_id}", body={"line_item": line_item}),
                     "cart")

    # --- transport -----------------------------------------------------------------------------

    async def _all_pages(self, path: str, what: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            chunk = await self._call("GET", path, params={"page": page, "limit": PAGE_LIMIT})
            got = [] if chunk is None else _list(chunk, what)  # v2 answers an empty collection with 204
            items.extend(got)
            if len(got) < PAGE_LIMIT:
                return items
            page += 1

    async def _call(self, method: str, path: str, *, body: Mapping[str, Any] | None = None,
                    params: Mapping[str, Any] | None = None, none_on_404: bool = False) -> Any:
        response = await self._send(method, path, body, params)
        if response.status_code == 404 and none_on_404:
            return None
        if not response.is_success:
            raise errors.from_status(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return loads_exact(response.content)
        except ValueError:
            raise BigCommerceBadResponse(f"bigcommerce: {method} {path} answered {response.status_code} with a body "
                                         f"that is not JSON: {response.text[:200]!r}",
                                         status=response.status_code) from None

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None,
                    params: Mapping[str, Any] | None) -> httpx.Response:
        """Send, waiting out the rate limit (proactively, and on 429) within ``max_rate_limit_wait``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_rate_limit_wait
        what = f"{method} {path}"
        content = dumps(body) if body is not None else None
        headers = self._headers
        while True:
            await self._admit(deadline, what)
            try:
                response = await self._client.request(method, self._root + path, content=content,
                                                      params=dict(params) if params else None, headers=headers)
            except httpx.HTTPError as exc:
                raise errors.from_httpx(exc, method, path) from exc
            except httpx.InvalidURL as exc:  # not an HTTPError: a misconfigured base URL, never transient
                raise BigCommerceError(f"bigcommerce: {method} {path}: invalid URL: {exc}") from exc
            await self._observe(response.headers)
            if response.status_code != 429:
                return response
            wait = _retry_wait(response)
            await self._throttled(wait)
            if loop.time() + wait > deadline:
                raise errors.from_status(response, retry_after=wait)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BigCommerceBadResponse(f"bigcommerce: expected {what} as a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise BigCommerceBadResponse(f"bigcommerce: expected {what} as a JSON array of objects")
    return value


def _data(value: Any, what: str) -> dict[str, Any]:
    """A v3 envelope's ``data``."""
    return _dict(_dict(value, what).get("data"), what)
