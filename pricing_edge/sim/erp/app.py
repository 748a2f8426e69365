"""Assembles the simulated ERP: read and sales-order API behind the fault middleware, ``/_sim`` control
routes beside it.

See the package docstring (``pricing_edge.sim.erp``) for the routes.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain import events, order_events
from pricing_edge.domain.order_events import OrderEvent
from pricing_edge.domain.events import EventDataError
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.erp.api import ParamError, error_response, int_param, json_response, read_routes
from pricing_edge.sim.delivery import DeliveryPolicy
from pricing_edge.sim.erp.outbox import SETTLED, Outbox, OutboxEntry
from pricing_edge.sim.erp.sales_orders import SalesOrders, sales_order_routes
from pricing_edge.sim.erp.state import ChangeError, ErpState
from pricing_edge.sim.erp.ticker import Ticker
from pricing_edge.sim.faults import SIM_PREFIX, FaultMiddleware, Faults, fault_routes

DEFAULT_SOURCE = "urn:pricing-edge:sim:erp"


FACES = ("sim", "s4hana")
MAX_WAIT_MS = 60_000  # the longest a ``/_sim`` request may be held for its event's delivery


class OurEvents:
    """The generic face's signals: every change as one of our own signed events."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def emit(self, record: events.Record) -> OutboxEntry | None:
        return self.outbox.emit(record)

    def emit_order(self, event: OrderEvent) -> OutboxEntry | None:
        return self.outbox.emit_event(order_events.event_type_of(event), order_events.to_data(event),
                                      subject=order_events.subject_of(event))


class Signals(Protocol):
    def emit(self, record: events.Record) -> OutboxEntry | None: ...
    def emit_order(self, event: OrderEvent) -> OutboxEntry | None: ...


@dataclass
class ErpSim:
    """Everything one simulated ERP holds; on ``app.state.erp`` for tests and the demo."""

    state: ErpState
    outbox: Outbox
    ticker: Ticker
    faults: Faults
    orders: SalesOrders
    signals: Signals
    face: str = "sim"
    vendor: Any = None  # the vendor face (``S4Face``) when ``face`` is not "sim"


def create_app(dataset: Dataset, *, events_url: str | None = None, event_secret: str | None = None,
               latency_ms: float = 20.0, ticker_rate: float = 0.0, source: str = DEFAULT_SOURCE,
               delivery: DeliveryPolicy | None = None, face: str = "sim", page_size: int = 1000) -> Starlette:
    """The ERP simulator over ``dataset`` (which it mutates: it is the ERP's truth), seen through one
    ``face``: "sim" (the generic ``/api/v1`` API and our own events) or a vendor's ("s4hana").

    Events are always kept in the outbox; they are POSTed only when ``events_url`` is set, which
    then needs ``event_secret`` (``whsec_...``).
    """
    if face not in FACES:
        raise ValueError(f"unknown ERP simulator face {face!r}: one of {', '.join(FACES)}")
    state = ErpState(dataset)
    orders = SalesOrders(state)
    vendor: Any = None
    signals: Signals
    if face == "s4hana":
        from pricing_edge.sim.erp.faces import s4hana

        outbox = Outbox(url=events_url, secret=event_secret, source=s4hana.SOURCE, policy=delivery)
        vendor = s4hana.build_face(state, orders, outbox, page_size=page_size)
        signals = vendor.signals
    else:
        outbox = Outbox(url=events_url, secret=event_secret, source=source, policy=delivery)
        signals = OurEvents(outbox)
    ticker = Ticker(state, signals, seed=dataset.seed, rate=ticker_rate)
    faults = Faults(base_latency_ms=latency_ms)
    sim = ErpSim(state, outbox, ticker, faults, orders, signals, face, vendor)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if outbox.url:
            outbox.open()
        ticker.start()
        try:
            yield
        finally:
            await ticker.aclose()
            await outbox.aclose()

    face_routes = read_routes(state) if face == "sim" else vendor.routes() + [health_route(state, face)]
    routes = (face_routes + sales_order_routes(orders, outbox, signals, api=face == "sim") + fault_routes(faults)
              + sim_routes(sim))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(FaultMiddleware, faults=faults)],
                    exception_handlers={ParamError: _param_error})
    app.state.erp = sim
    return app


def health_route(state: ErpState, face: str) -> Route:
    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok", "service": "erp-sim", "face": face, "seed": state.dataset.seed})

    return Route("/healthz", healthz, methods=["GET"])


async def _param_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParamError)
    return error_response(400, str(exc), exc.param)


async def _json_body(request: Request) -> object:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ChangeError("body", "must be a JSON object") from None


def sim_routes(sim: ErpSim) -> list[Route]:
    def change_route(kind: str, apply: Callable[[object], events.Record]) -> Route:
        async def change(request: Request) -> Response:
            wait = _wait_param(request)  # checked first: a bad parameter changes nothing
            try:
                record = apply(await _json_body(request))
            except (ChangeError, EventDataError) as exc:
                return error_response(400, str(exc), exc.field)
            entry = sim.signals.emit(record)
            if entry is not None:
                await sim.outbox.wait_first_attempt(entry)
                await sim.outbox.wait(entry, _settled, wait)
            return json_response({"type": events.event_type_of(record), "record": events.to_data(record),
                                  "event": entry.describe() if entry else None})
        return Route(f"{SIM_PREFIX}/changes/{kind}", change, methods=["POST"])

    async def add_price_list(request: Request) -> Response:
        try:
            records = sim.state.add_price_list(await _json_body(request))
        except ChangeError as exc:
            return error_response(400, str(exc), exc.field)
        for record in records:
            sim.signals.emit(record)
        return json_response({"prices": [events.to_data(r) for r in records]}, 201)

    async def list_events(request: Request) -> Response:
        chosen = sim.outbox.list(event_type=request.query_params.get("type") or None,
                                 status=request.query_params.get("status") or None,
                                 after=int_param(request, "after", 0, 0) or 0,
                                 limit=int_param(request, "limit", None, 1, 10_000))
        return json_response({"events": [e.describe() for e in chosen], "emitted": sim.outbox.emitted,
                              "in_flight": sim.outbox.in_flight, "events_url": sim.outbox.url})

    async def get_event(request: Request) -> Response:
        wait = _wait_param(request)
        entry = sim.outbox.entries.get(request.path_params["event_id"])
        if entry is None:
            return error_response(404, "no such event in the outbox", "event_id")
        await sim.outbox.wait(entry, _settled, wait)
        return json_response(entry.describe())

    async def redeliver(request: Request) -> Response:
        entry = sim.outbox.redeliver(request.path_params["event_id"])
        if entry is None:
            return error_response(404, "no such event in the outbox", "event_id")
        if not sim.outbox.url:
            return error_response(409, "no events URL is configured: nothing to deliver to")
        return json_response(entry.describe(), 202)

    async def get_ticker(request: Request) -> Response:
        return json_response({"rate": sim.ticker.rate, "changes": sim.ticker.changes})

    async def set_ticker(request: Request) -> Response:
        body = await _body_object(request)
        if isinstance(body, Response):
            return body
        if set(body) != {"rate"}:
            return error_response(400, 'body must be {"rate": <changes per second>}', "rate")
        try:
            sim.ticker.set_rate(body["rate"])
        except ValueError as exc:
            return error_response(400, f"rate: {exc}", "rate")
        return await get_ticker(request)

    async def tick(request: Request) -> Response:
        body = await _body_object(request, allow_empty=True)
        if isinstance(body, Response):
            return body
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            return error_response(400, "count: must be an integer between 1 and 1000", "count")
        records = [sim.ticker.tick() for _ in range(count)]
        return json_response({"changes": [{"type": events.event_type_of(r), "record": events.to_data(r)}
                                          for r in records]})

    return [
        change_route("price", sim.state.change_price),
        change_route("stock", sim.state.change_stock),
        change_route("credit", sim.state.change_credit),
        change_route("customer", sim.state.change_customer),
        Route(f"{SIM_PREFIX}/price-lists", add_price_list, methods=["POST"]),
        Route(f"{SIM_PREFIX}/events", list_events, methods=["GET"]),
        Route(f"{SIM_PREFIX}/events/{{event_id}}", get_event, methods=["GET"]),
        Route(f"{SIM_PREFIX}/events/{{event_id}}/redeliver", redeliver, methods=["POST"]),
        Route(f"{SIM_PREFIX}/ticker", get_ticker, methods=["GET"]),
        Route(f"{SIM_PREFIX}/ticker", set_ticker, methods=["POST"]),
        Route(f"{SIM_PREFIX}/ticker/tick", tick, methods=["POST"]),
    ]


def _wait_param(request: Request) -> float:
    """``?wait_ms=N``, in seconds: answer once the event is settled (delivered, rejected, failed) or N ms
    have passed — a test learns ``delivered_at`` with one request instead of polling the outbox."""
    return (int_param(request, "wait_ms", 0, 0, MAX_WAIT_MS) or 0) / 1000


def _settled(entry: OutboxEntry) -> bool:
    return entry.status in SETTLED


async def _body_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any] | Response:
    raw = await request.body()
    if allow_empty and not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return error_response(400, "body must be a JSON object", "body")
    return body

