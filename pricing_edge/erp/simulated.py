"""The ERP adapter for the simulated ERP (``pricing_edge.sim.erp``), over real HTTP.

It is also the reference for real connectors: chunk key lookups to what the ERP accepts per call,
page bulk exports, parse with the same code as the change events, and let only ``ErpError`` out.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from pricing_edge.domain import events, order_events
from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.invoices import Invoice, InvoiceLine
from pricing_edge.domain.orders import ErpSalesOrder, ErpStatus, SalesOrder, SalesOrderLine, Shipment
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.erp.errors import DuplicateReference, ErpBadResponse, ErpRejected, from_httpx, from_status
from pricing_edge.erp.throttling import send_patiently
from pricing_edge.ops.tracing import traced_client

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
        # Our own client carries the current W3C traceparent on every call; a shared one is the caller's.
        self._client = client or traced_client("erp", timeout=timeout)

    async def get_prices(self, price_list_id: int, currency: str,
                         skus: Iterable[str]) -> dict[str, PriceRecord]:
        path = f"{API}/price-lists/{price_list_id}/prices"
        bodies = await self._batched(path, skus, {"currency": currency})
        records = [r for body in bodies for r in _parse(events.prices_from_data, _items(body))]
        return {r.sku: r for r in records if r.price_list_id == price_list_id and r.currency == currency}

    async def get_stock(self, skus: Iterable[str]) -> dict[str, list[StockLevel]]:
        bodies = await self._batched(f"{API}/stock", skus, {})
        return _by_sku(level for body in bodies for level in _parse(events.stock_levels_from_data, _items(body)))

    async def get_credit(self, company_id: int) -> CreditRecord | None:
        body = await self._get(f"{API}/companies/{company_id}/credit", {}, missing_ok=True)
        return None if body is None else _parse(events.credit_from_data, body)

    async def get_customer(self, customer_id: int) -> CustomerRecord | None:
        body = await self._get(f"{API}/customers/{customer_id}", {}, missing_ok=True)
        return None if body is None else _parse(events.customer_from_data, body)

    async def iter_price_list(self, price_list_id: int, currency: str) -> AsyncIterator[list[PriceRecord]]:
        path = f"{API}/price-lists/{price_list_id}/prices/export"
        async for body in self._pages(path, {"currency": currency}):
            yield _parse(events.prices_from_data, _items(body))  # a page checked at once: bulk loads are big

    async def iter_stock(self) -> AsyncIterator[list[StockLevel]]:
        async for body in self._pages(f"{API}/stock/export", {}):
            yield _parse(events.stock_levels_from_data, _items(body))

    # --- sales orders --------------------------------------------------------------------------

    async def find_sales_order(self, reference: str) -> ErpSalesOrder | None:
        body = await self._get(f"{API}/sales-orders", {"reference": reference})
        found = [order for order in (_sales_order(item) for item in _items(body)) if order.reference == reference]
        if len(found) > 1:
            numbers = ", ".join(order.number for order in found)
            raise ErpBadResponse(f"{self.name}: several sales orders carry reference {reference}: {numbers}",
                                 erp=self.name)
        return found[0] if found else None

    async def create_sales_order(self, order: SalesOrder) -> ErpSalesOrder:
        response = await self._send("POST", f"{API}/sales-orders", self._order_body(order))
        if response.status_code == 409 and _error_field(response) == "reference":
            rejected = from_status(response, erp=self.name)
            raise DuplicateReference(str(rejected), reference=order.reference, erp=self.name, status=409)
        return _sales_order(self._json(response))

    async def update_sales_order(self, number: str, order: SalesOrder) -> ErpSalesOrder:
        path = f"{API}/sales-orders/{quote(number, safe='')}"
        return _sales_order(self._json(await self._send("PATCH", path, self._order_body(order))))

    async def list_shipments(self, reference: str) -> list[Shipment]:
        body = await self._get(f"{API}/shipments", {"reference": reference})
        try:
            return [order_events.shipment_from_data(item).shipment for item in _items(body)]
        except EventDataError as exc:
            raise ErpBadResponse(f"{self.name}: bad shipment from the ERP: {exc}", erp=self.name) from exc

    async def list_invoices(self, reference: str) -> list[Invoice]:
        body = await self._get(f"{API}/invoices", {"reference": reference})
        return [_invoice(item) for item in _items(body)]

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- HTTP --------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, body: Mapping[str, Any]) -> httpx.Response:
        """A write; any answer but a 2xx or a 409 on ``reference`` (the caller's to read) is an ErpError.

        Writes are never retried here: the worker looks its reference up before trying again.
        """
        try:
            response = await send_patiently(lambda: self._client.request(method, self.base_url + path, json=body,
                                                                         timeout=self.timeout))
        except httpx.HTTPError as exc:
            raise from_httpx(exc, erp=self.name) from exc
        if response.is_success or (response.status_code == 409 and _error_field(response) == "reference"):
            return response
        raise from_status(response, erp=self.name)

    def _order_body(self, order: SalesOrder) -> dict[str, Any]:
        try:
            return order_events.sales_order_to_data(order)
        except EventDataError as exc:  # a unit price that is no amount (NaN, a float): never sent
            raise ErpRejected(f"{self.name}: order {order.reference} cannot be sent: {exc}", erp=self.name) from exc

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            path = response.request.url.path
            raise ErpBadResponse(f"{self.name}: {path} answered {response.status_code} with a non-JSON body",
                                 erp=self.name, status=response.status_code) from exc

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
            response = await send_patiently(lambda: self._client.get(self.base_url + path, params=params,
                                                                     timeout=self.timeout))
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


def _parse(parser: Callable[[Any], T], item: Any) -> T:
    try:
        return parser(item)
    except EventDataError as exc:
        raise ErpBadResponse(f"simulated: bad record from the ERP: {exc}", erp="simulated") from exc


def _by_sku(levels: Iterable[StockLevel]) -> dict[str, list[StockLevel]]:
    grouped: dict[str, list[StockLevel]] = {}
    for level in levels:
        grouped.setdefault(level.sku, []).append(level)
    return grouped


# --- sales orders on the wire -----------------------------------------------------------------

_MONEY = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def _sales_order(body: object) -> ErpSalesOrder:
    """The ERP's view of an order from its JSON; anything off is an ErpBadResponse, never a KeyError."""
    def bad(problem: str) -> ErpBadResponse:
        return ErpBadResponse(f"simulated: bad sales order from the ERP: {problem}", erp="simulated")

    if not isinstance(body, dict):
        raise bad("not a JSON object")
    number, reference, status, version = (body.get(k) for k in ("number", "reference", "status", "version"))
    if not isinstance(number, str) or not number or not isinstance(reference, str) or not reference:
        raise bad(f"number and reference must be non-empty strings, got {number!r} and {reference!r}")
    try:
        erp_status = ErpStatus(str(status))
    except ValueError:
        raise bad(f"unknown status {status!r}") from None
    if isinstance(version, bool) or not isinstance(version, int):
        raise bad(f"version must be an integer, got {version!r}")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list):
        raise bad("lines must be a list")
    lines = []
    for i, raw in enumerate(raw_lines):
        sku, quantity, price = ((raw.get(k) for k in ("sku", "quantity", "unit_price")) if isinstance(raw, dict)
                                else (None, None, None))
        if (not isinstance(sku, str) or isinstance(quantity, bool) or not isinstance(quantity, int)
                or not isinstance(price, str) or not _MONEY.fullmatch(price)):
            raise bad(f"lines[{i}] must be {{sku, quantity, unit_price: decimal string}}, got {raw!r}")
        line_id = raw.get("line_id", 0)
        lines.append(SalesOrderLine(sku, quantity, Decimal(price),
                                    line_id=line_id if isinstance(line_id, int) and not isinstance(line_id, bool) else 0))
    total = body.get("total")
    if total is not None and (not isinstance(total, str) or not _MONEY.fullmatch(total)):
        raise bad(f"total must be a decimal string, got {total!r}")
    return ErpSalesOrder(number=number, reference=reference, status=erp_status, lines=tuple(lines), version=version,
                         total=None if total is None else Decimal(total))


def _invoice(body: object) -> Invoice:
    def money(value: object, where: str) -> Decimal:
        if not isinstance(value, str) or not _MONEY.fullmatch(value):
            raise ErpBadResponse(f"simulated: bad invoice from the ERP: {where} {value!r}", erp="simulated")
        return Decimal(value)

    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        raise ErpBadResponse("simulated: bad invoice from the ERP: not an invoice object", erp="simulated")
    try:
        lines = tuple(InvoiceLine(str(line["sku"]), int(line["quantity"]), money(line["net_amount"], "net_amount"))
                      for line in body["lines"])
        return Invoice(str(body["number"]), str(body["reference"]), str(body["currency"]),
                       money(body["net_amount"], "net_amount"), money(body["tax_amount"], "tax_amount"),
                       date.fromisoformat(str(body["issued_on"])), lines, body.get("order_number"),
                       bool(body.get("cancelled")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ErpBadResponse(f"simulated: bad invoice from the ERP: {exc!r}", erp="simulated") from exc


def _error_field(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    field = body.get("field") if isinstance(body, dict) else None
    return field if isinstance(field, str) else None
