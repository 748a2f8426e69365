"""The simulated ERP's live-read API (``/api/v1/...``), the part an ERP adapter talks to.

Records go out in exactly the shape of the change events' ``data`` (``domain.events``), so an
adapter parses a read and an event with the same code and cannot disagree with the intake.
"""
from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain import events
from pricing_edge.sim.erp.state import ErpState
from pricing_edge.sim.faults import SIM_PREFIX

API = "/api/v1"
MAX_SKUS = 500
DEFAULT_PAGE = 500
MAX_PAGE = 1000


class ParamError(ValueError):
    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"{param}: {problem}")
        self.param = param


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def error_response(status: int, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return json_response(body, status)


def skus_param(request: Request) -> list[str]:
    """``sku`` repeated and/or comma-separated; order kept, duplicates dropped."""
    skus: dict[str, None] = {}
    for raw in request.query_params.getlist("sku"):
        for part in raw.split(","):
            if part.strip():
                skus[part.strip()] = None
    if not skus:
        raise ParamError("sku", "give at least one SKU (?sku=A&sku=B or ?sku=A,B)")
    if len(skus) > MAX_SKUS:
        raise ParamError("sku", f"at most {MAX_SKUS} SKUs per request, got {len(skus)}")
    return list(skus)


def int_param(request: Request, name: str, default: int | None, low: int,
              high: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(name, f"must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ParamError(name, f"must be {bounds}")
    return value


def currency_param(request: Request) -> str:
    currency = request.query_params.get("currency")
    if not currency:
        raise ParamError("currency", "required (an ISO 4217 code such as USD)")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ParamError("currency", f"must be a 3-letter upper-case ISO 4217 code, got {currency!r}")
    return currency


def page(request: Request, total: int) -> tuple[int, int, int | None]:
    offset = int_param(request, "offset", 0, 0) or 0
    limit = int_param(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE) or DEFAULT_PAGE
    return offset, limit, (offset + limit if offset + limit < total else None)


def read_routes(state: ErpState) -> list[Route]:
    def price_list_or_404(request: Request) -> int | Response:
        price_list_id = int(request.path_params["price_list_id"])
        if not state.has_price_list(price_list_id):
            return error_response(404, f"price list {price_list_id} not found", "price_list_id")
        return price_list_id

    async def price_lists(request: Request) -> Response:
        return json_response({"items": [{"id": p.id, "name": p.name, "currencies": list(state.currencies)}
                                        for p in state.dataset.price_lists]})

    async def prices(request: Request) -> Response:
        price_list_id = price_list_or_404(request)
        if isinstance(price_list_id, Response):
            return price_list_id
        currency, skus = currency_param(request), skus_param(request)
        found, missing = state.prices(price_list_id, currency, skus)
        state.reads.update(f"price:{price_list_id}:{currency}:{sku}" for sku in skus)
        return json_response({"price_list_id": price_list_id, "currency": currency,
                              "items": [events.price_to_data(r) for r in found], "missing": missing})

    async def price_export(request: Request) -> Response:
        price_list_id = price_list_or_404(request)
        if isinstance(price_list_id, Response):
            return price_list_id
        currency = currency_param(request)
        offset, limit, next_offset = page(request, len(state.skus))
        records = state.price_page(price_list_id, currency, offset, limit)
        return json_response({"price_list_id": price_list_id, "currency": currency,
                              "total_skus": len(state.skus),
                              "offset": offset, "next_offset": next_offset,
                              "items": [events.price_to_data(r) for r in records]})

    async def locations(request: Request) -> Response:
        return json_response({"items": [{"id": loc.id, "code": loc.code, "name": loc.name}
                                        for loc in state.dataset.locations]})

    async def stock(request: Request) -> Response:
        location_id = int_param(request, "location_id", None, 0)
        if location_id is not None and all(loc.id != location_id for loc in state.dataset.locations):
            raise ParamError("location_id", f"no warehouse {location_id}")
        skus = skus_param(request)
        found, missing = state.stock(skus, location_id)
        state.reads.update(f"stock:{sku}" for sku in skus)
        return json_response({"items": [events.stock_to_data(level) for level in found], "missing": missing})

    async def stock_export(request: Request) -> Response:
        offset, limit, next_offset = page(request, len(state.skus))
        levels = state.stock_page(offset, limit)
        return json_response({"total_skus": len(state.skus), "offset": offset, "next_offset": next_offset,
                              "items": [events.stock_to_data(level) for level in levels]})

    async def credit(request: Request) -> Response:
        company_id = int(request.path_params["company_id"])
        state.reads[f"credit:{company_id}"] += 1
        record = state.credit(company_id)
        if record is None:
            return error_response(404, f"company {company_id} not found", "company_id")
        return json_response(events.credit_to_data(record))

    async def customer(request: Request) -> Response:
        customer_id = int(request.path_params["customer_id"])
        state.reads[f"customer:{customer_id}"] += 1
        record = state.customer(customer_id)
        if record is None:
            return error_response(404, f"customer {customer_id} not found", "customer_id")
        return json_response(events.customer_to_data(record))

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok", "service": "erp-sim", "seed": state.dataset.seed})

    async def reads(request: Request) -> Response:
        """Live reads per key (``price:<list>:<currency>:<sku>``, ``stock:<sku>``, ...): how hard the
        ERP is asked, so "one read per key per freshness window" can be checked from outside.
        ``?reset=1`` starts the count again."""
        counts = dict(state.reads)
        if request.query_params.get("reset"):
            state.reads.clear()
        return json_response({"total": sum(counts.values()), "keys": len(counts), "reads": counts})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route(f"{SIM_PREFIX}/reads", reads, methods=["GET"]),
        Route(f"{API}/price-lists", price_lists, methods=["GET"]),
        Route(f"{API}/price-lists/{{price_list_id:int}}/prices", prices, methods=["GET"]),
        Route(f"{API}/price-lists/{{price_list_id:int}}/prices/export", price_export, methods=["GET"]),
        Route(f"{API}/locations", locations, methods=["GET"]),
        Route(f"{API}/stock", stock, methods=["GET"]),
        Route(f"{API}/stock/export", stock_export, methods=["GET"]),
        Route(f"{API}/companies/{{company_id:int}}/credit", credit, methods=["GET"]),
        Route(f"{API}/customers/{{customer_id:int}}", customer, methods=["GET"]),
    ]

