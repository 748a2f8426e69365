"""The REST Admin routes of the simulator, at BigCommerce's paths (``/stores/{store_hash}/v2|v3/...``),
and its ``/_sim`` controls for webhooks and the rate limit."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.sim.admin import statuses
from pricing_edge.sim.admin.assignments import channel_routes
from pricing_edge.sim.admin.http import (
    V2,
    V3,
    AdminError,
    guarded,
    json_body,
    json_response,
    page_of,
    paging,
    path_int,
    query_date,
    query_int,
)
from pricing_edge.sim.admin.inventory import inventory_routes
from pricing_edge.sim.admin.price_lists import Writes, price_list_routes, writes_routes
from pricing_edge.sim.admin.shipments import create_shipment
from pricing_edge.sim.admin.state import AdminState
from pricing_edge.sim.admin.views import (
    address_view,
    consignments_view,
    order_view,
    taxes_view,
    transactions_view,
)
from pricing_edge.sim.faults import SIM_PREFIX


def admin_routes(state: AdminState) -> list[Route]:
    v2 = guarded(V2, state.store_hash, state.admin_token)
    v3 = guarded(V3, state.store_hash, state.admin_token)
    book = state.orders
    writes = Writes()  # price records and inventory written (``/_sim/writes``)

    def store_url(request: Request) -> str:
        return f"{str(request.base_url).rstrip('/')}/stores/{state.store_hash}"

    @v2
    async def list_orders(request: Request) -> Response:
        page, limit = paging(request)
        params = request.query_params
        chosen = book.select(min_id=query_int(request, "min_id"), max_id=query_int(request, "max_id"),
                             status_id=query_int(request, "status_id"), customer_id=query_int(request, "customer_id"),
                             external_order_id=params.get("external_order_id"), email=params.get("email"),
                             min_date_modified=query_date(request, "min_date_modified"),
                             max_date_modified=query_date(request, "max_date_modified"),
                             sort=params.get("sort") or "id")
        base = store_url(request)
        return json_response([order_view(o, base) for o in page_of(chosen, page, limit)])

    @v2
    async def create_order(request: Request) -> Response:
        order, events = book.create(await json_body(request))
        state.emit(events)
        return json_response(order_view(order, store_url(request)))

    @v2
    async def get_order(request: Request) -> Response:
        return json_response(order_view(book.get(path_int(request, "order_id")), store_url(request)))

    @v2
    async def update_order(request: Request) -> Response:
        order_id = path_int(request, "order_id")
        book.get(order_id)  # an unknown order is a 404 before the body is looked at
        order, events = book.update(order_id, await json_body(request))
        state.emit(events)
        return json_response(order_view(order, store_url(request)))

    @v2
    async def order_products(request: Request) -> Response:
        order = book.get(path_int(request, "order_id"))
        page, limit = paging(request)
        return json_response([line.view() for line in page_of(order.lines, page, limit)])

    @v2
    async def shipping_addresses(request: Request) -> Response:
        order = book.get(path_int(request, "order_id"))
        page, limit = paging(request)
        base = store_url(request)
        return json_response([address_view(order, a, base) for a in page_of(order.addresses, page, limit)])

    @v2
    async def order_coupons(request: Request) -> Response:
        order = book.get(path_int(request, "order_id"))
        page, limit = paging(request)
        # An empty list, not v2's usual 204: the spec declares only 200 for coupons.
        return json_response([coupon.view(order.id) for coupon in page_of(order.coupons, page, limit)])

    @v2
    async def order_taxes(request: Request) -> Response:
        order = book.get(path_int(request, "order_id"))
        page, limit = paging(request)
        rate = f"{book.lines.tax_rate * 100:.4f}"
        return json_response(page_of(taxes_view(order, rate), page, limit))

    @v2
    async def order_consignments(request: Request) -> Response:
        return json_response(consignments_view(book.get(path_int(request, "order_id")), store_url(request)))

    @v2
    async def order_fees(request: Request) -> Response:
        order = book.get(path_int(request, "order_id"))
        return json_response({"fees": [fee.view() for fee in order.fees]})

    @v2
    async def list_shipments(request: Request) -> Response:
        order = book.get(path_int(request, "order_id"))
        page, limit = paging(request)
        chosen = page_of(order.shipments, page, limit)
        if not chosen:
            return Response(status_code=204)  # BigCommerce v2: an empty collection is 204 No Content
        return json_response([s.view(order) for s in chosen])

    @v2
    async def post_shipment(request: Request) -> Response:
        order_id = path_int(request, "order_id")
        book.get(order_id)
        shipment, events = create_shipment(book, order_id, await json_body(request))
        state.emit(events)
        return json_response(shipment.view(book.get(order_id)), 201)

    @v2
    async def order_statuses(request: Request) -> Response:
        return json_response(statuses.all_statuses())

    @v3
    async def order_transactions(request: Request) -> Response:
        shown = transactions_view(book.get(path_int(request, "order_id")))
        meta = {"pagination": {"total": len(shown), "count": len(shown), "per_page": 50, "current_page": 1,
                               "total_pages": 1, "links": {"current": "?page=1&limit=50"}}}
        return json_response({"data": shown, "meta": meta})

    @v3
    async def list_hooks(request: Request) -> Response:
        page, limit = paging(request)
        raw_active = request.query_params.get("is_active")
        if raw_active not in (None, "true", "false"):
            raise AdminError(400, f"The query parameter 'is_active' must be true or false, got {raw_active!r}.")
        chosen = state.hooks.select(is_active=None if raw_active is None else raw_active == "true",
                                    scope=request.query_params.get("scope"),
                                    destination=request.query_params.get("destination"))
        shown = page_of(chosen, page, limit)
        total_pages = max(1, -(-len(chosen) // limit))
        links = {"current": f"?page={page}&limit={limit}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={limit}"
        if page < total_pages:
            links["next"] = f"?page={page + 1}&limit={limit}"
        meta = {"pagination": {"total": len(chosen), "count": len(shown), "per_page": limit, "current_page": page,
                               "total_pages": total_pages, "links": links}}
        return json_response({"data": [h.view() for h in shown], "meta": meta})

    @v3
    async def create_hook(request: Request) -> Response:
        hook = state.hooks.create(await json_body(request, status=400))
        return json_response({"data": hook.view(), "meta": {}})

    @v3
    async def get_hook(request: Request) -> Response:
        return json_response({"data": state.hooks.get(path_int(request, "hook_id")).view(), "meta": {}})

    @v3
    async def update_hook(request: Request) -> Response:
        hook_id = path_int(request, "hook_id")
        state.hooks.get(hook_id)
        hook = state.hooks.update(hook_id, await json_body(request))
        return json_response({"data": hook.view(), "meta": {}})

    @v3
    async def delete_hook(request: Request) -> Response:
        return json_response({"data": state.hooks.delete(path_int(request, "hook_id")).view(), "meta": {}})

    v2_root, v3_root = "/stores/{store_hash}/v2", "/stores/{store_hash}/v3"
    return [
        Route(f"{v2_root}/orders", list_orders, methods=["GET"]),
        Route(f"{v2_root}/orders", create_order, methods=["POST"]),
        Route(f"{v2_root}/orders/{{order_id}}", get_order, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}", update_order, methods=["PUT"]),
        Route(f"{v2_root}/orders/{{order_id}}/products", order_products, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/shipping_addresses", shipping_addresses, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/coupons", order_coupons, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/fees", order_fees, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/taxes", order_taxes, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/consignments", order_consignments, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/shipments", list_shipments, methods=["GET"]),
        Route(f"{v2_root}/orders/{{order_id}}/shipments", post_shipment, methods=["POST"]),
        Route(f"{v2_root}/order_statuses", order_statuses, methods=["GET"]),
        Route(f"{v3_root}/orders/{{order_id}}/transactions", order_transactions, methods=["GET"]),
        Route(f"{v3_root}/hooks", list_hooks, methods=["GET"]),
        Route(f"{v3_root}/hooks", create_hook, methods=["POST"]),
        Route(f"{v3_root}/hooks/{{hook_id}}", get_hook, methods=["GET"]),
        Route(f"{v3_root}/hooks/{{hook_id}}", update_hook, methods=["PUT"]),
        Route(f"{v3_root}/hooks/{{hook_id}}", delete_hook, methods=["DELETE"]),
        *channel_routes(state),
        *sim_routes(state),
        *price_list_routes(state, writes), *inventory_routes(state, writes), *writes_routes(writes),
    ]


def sim_routes(state: AdminState) -> list[Route]:
    """``GET /_sim/webhooks?scope=&status=&after=``, ``POST /_sim/webhooks/{seq}/redeliver``,
    ``GET|POST /_sim/rate-limit {"quota", "window_ms" | "window_seconds"}``, ``POST /_sim/orders`` (a shopper's
    completed checkout: coupons, consignments; see ``OrderBook.place``) and ``GET|POST /_sim/store
    {"tax_inclusive", "sign_webhooks"}`` (the store's tax setting: catalog prices include tax; webhooks without
    the Standard Webhooks headers: the custom header alone authenticates them)."""

    async def list_webhooks(request: Request) -> Response:
        params = request.query_params
        after = params.get("after", "0")
        if not after.isdigit():
            return json_response({"error": "after must be a delivery seq (a non-negative integer)"}, 400)
        chosen = state.webhooks.list(scope=params.get("scope"), status=params.get("status"), after=int(after))
        return json_response({"deliveries": [d.describe() for d in chosen], "in_flight": state.webhooks.in_flight,
                              "emitted": len(state.emitted)})

    async def redeliver(request: Request) -> Response:
        raw = request.path_params["seq"]
        delivery = state.webhooks.redeliver(int(raw)) if raw.isdigit() else None
        if delivery is None:
            return json_response({"error": f"no webhook delivery {raw}"}, 404)
        return json_response(delivery.describe())

    async def place_order(request: Request) -> Response:
        try:
            order, events = state.orders.place(await json_body(request))
        except AdminError as exc:
            return json_response({"error": exc.message}, exc.status)
        state.emit(events)
        return json_response(order_view(order, f"{str(request.base_url).rstrip('/')}/stores/{state.store_hash}"), 201)

    async def store_settings(request: Request) -> Response:
        if request.method == "POST":
            body = await json_body(request)
            if set(body) - {"tax_inclusive", "sign_webhooks"} or not all(isinstance(v, bool) for v in body.values()):
                return json_response({"error": "give {\"tax_inclusive\": bool, \"sign_webhooks\": bool}"}, 400)
            state.orders.lines.tax_inclusive = body.get("tax_inclusive", state.orders.tax_inclusive)
            state.webhooks.sign = body.get("sign_webhooks", state.webhooks.sign)
        return json_response({"tax_inclusive": state.orders.tax_inclusive, "sign_webhooks": state.webhooks.sign})

    async def get_rate_limit(request: Request) -> Response:
        return json_response(state.limiter.describe())

    async def set_rate_limit(request: Request) -> Response:
        try:
            body = await json_body(request)
            unknown = set(body) - {"quota", "window_ms", "window_seconds"}
            if unknown:
                raise AdminError(400, f"unknown setting(s): {sorted(unknown)}")
            if "window_ms" in body and "window_seconds" in body:
                raise AdminError(400, "give window_ms or window_seconds, not both")
            window = state.limiter.window
            if "window_ms" in body:
                window = _number(body["window_ms"], "window_ms") / 1000
            elif "window_seconds" in body:
                window = _number(body["window_seconds"], "window_seconds")
            state.limiter.configure(body.get("quota", state.limiter.quota), window)
        except AdminError as exc:
            return json_response({"error": exc.message}, 400)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(state.limiter.describe())

    return [
        Route(f"{SIM_PREFIX}/webhooks", list_webhooks, methods=["GET"]),
        Route(f"{SIM_PREFIX}/webhooks/{{seq}}/redeliver", redeliver, methods=["POST"]),
        Route(f"{SIM_PREFIX}/orders", place_order, methods=["POST"]),
        Route(f"{SIM_PREFIX}/store", store_settings, methods=["GET", "POST"]),
        Route(f"{SIM_PREFIX}/rate-limit", get_rate_limit, methods=["GET"]),
        Route(f"{SIM_PREFIX}/rate-limit", set_rate_limit, methods=["POST"]),
    ]


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise AdminError(400, f"{name} must be a number, got {value!r}")
    return float(value)
