"""The ERP adapter for the simulated ERP (``pricing_edge.sim.erp``), over real HTTP.

It is also the reference for real connectors: chunk key lookups to what the ERP accepts per call,
page bulk exports, parse with the same code as the change events, and let only ``ErpError`` out.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

import httpx

from pricing_edge.domain import events
from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.erp.errors import ErpBadResponse, from_httpx, from_status

API = "/api/v1"
T = TypeVar("T")
MAX_SKUS_PER_CALL = 200  # the simulator accepts 500; stay well under, as one would with a real ERP


class SimulatedErpAdapter:
    """``ErpAdapter`` for the simulator; a ``client`` passed in is shared (and not closed by ``aclose``)."""

    name = "simulated"

    def __init__(self, base_url: str, *, timeout: float = 5.0, client: httpx.AsyncClient | None = None,
                 batch_size: int = MAX_SKUS_PER_CALL, page_size: int = 500) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.batch_size = batch_size
        self.page_size = page_size
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def get_prices(self, price_list_id: int, currency: str,
                         skus: Iterable[str]) -> dict[str, PriceRecord]:
        path = f"{API}/price-lists/{price_list_id}/prices"
        bodies = await self._batched(path, skus, {"currency": currency})
        records = [_parse(events.price_from_data, item) for body in bodies for item in _items(body)]
        return {r.sku: r for r in records if r.price_list_id == price_list_id and r.currency == currency}

    async def get_stock(self, skus: Iterable[str]) -> dict[str, list[StockLevel]]:
        bodies = await self._batched(f"{API}/stock", skus, {})
        return _by_sku(_parse(events.stock_from_data, item) for body in bodies for item in _items(body))

    async def get_credit(self, company_id: int) -> CreditRecord | None:
        body = await self._get(f"{API}/companies/{company_id}/credit", {}, missing_ok=True)
        return None if body is None else _parse(events.credit_from_data, body)

    async def get_customer(self, customer_id: int) -> CustomerRecord | None:
        body = await self._get(f"{API}/customers/{customer_id}", {}, missing_ok=True)
        return None if body is None else _parse(events.customer_from_data, body)

    async def iter_price_list(self, price_list_id: int, currency: str) -> AsyncIterator[list[PriceRecord]]:
        path = f"{API}/price-lists/{price_list_id}/prices/export"
        async for body in self._pages(path, {"currency": currency}):
            yield [_parse(events.price_from_data, item) for item in _items(body)]

    async def iter_stock(self) -> AsyncIterator[list[StockLevel]]:
        async for body in self._pages(f"{API}/stock/export", {}):
            yield [_parse(events.stock_from_data, item) for item in _items(body)]

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- HTTP --------------------------------------------------------------------------------

    async def _batched(self, path: str, skus: Iterable[str], params: dict[str, Any]) -> list[Any]:
        unique = list(dict.fromkeys(s for s in skus if s))
        chunks = [unique[i:i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        calls = (self._get(path, {**params, "sku": ",".join(chunk)}) for chunk in chunks)
        results = await asyncio.gather(*calls)
        return list(results)

    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[Any]:
        offset: int | None = 0
        while offset is not None:
            body = await self._get(path, {**params, "offset": offset, "limit": self.page_size})
            yield body
            next_offset = body.get("next_offset") if isinstance(body, dict) else None
            if next_offset is not None and (not isinstance(next_offset, int) or next_offset <= offset):
                raise ErpBadResponse(f"{self.name}: bad next_offset {next_offset!r} in {path}", erp=self.name)
            offset = next_offset

    async def _get(self, path: str, params: dict[str, Any], *, missing_ok: bool = False) -> Any:
        try:
            response = await self._client.get(self.base_url + path, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise from_httpx(exc, erp=self.name) from exc
        if missing_ok and response.status_code == 404:
            return None
        if not response.is_success:
            raise from_status(response, erp=self.name)
        try:
            return response.json()
        except ValueError as exc:
            raise ErpBadResponse(f"{self.name}: {path} answered {response.status_code} with a non-JSON body",
                                 erp=self.name, status=response.status_code) from exc


def _items(body: Any) -> list[Any]:
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ErpBadResponse("simulated: response has no items list", erp="simulated")
    return items


def _parse(parser: Callable[[object], T], item: object) -> T:
    try:
        return parser(item)
    except EventDataError as exc:
        raise ErpBadResponse(f"simulated: bad record from the ERP: {exc}", erp="simulated") from exc


def _by_sku(levels: Iterable[StockLevel]) -> dict[str, list[StockLevel]]:
    grouped: dict[str, list[StockLevel]] = {}
    for level in levels:
        grouped.setdefault(level.sku, []).append(level)
    return grouped
