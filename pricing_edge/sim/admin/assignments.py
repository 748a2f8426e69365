"""REST Admin routes for channels, channel currency assignments and price-list assignments::

  GET    /v3/channels                              the channels (page, limit)
  GET    /v3/channels/{id}                         one channel, with its currencies
  GET    /v3/channels/currency-assignments         every channel's enabled and default currencies
  GET    /v3/channels/{id}/currency-assignments    one channel's
  GET    /v3/pricelists/assignments                filters: id, price_list_id, customer_group_id, channel_id
                                                   (each also as ``…:in``), page, limit
  POST   /v3/pricelists/assignments                a batch of ≤ 25; 422 and nothing kept if one is bad
  DELETE /v3/pricelists/assignments                by the same filters (at least one); 204
  PUT    /v3/pricelists/{id}/assignments           upsert the group × channel's assignment

Every change emits ``store/priceList/assignment/updated`` (``{price_list_id, channel_id, customer_group_id}``).
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.jsonio import loads_exact
from pricing_edge.sim.admin.http import V3, AdminError, guarded, json_response, page_of, paging, path_int
from pricing_edge.sim.admin.state import AdminState

_FILTERS = ("id", "price_list_id", "customer_group_id", "channel_id")


def _filters(request: Request) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for name in _FILTERS:
        for key in (name, f"{name}:in"):
            raw = request.query_params.get(key)
            if raw is None or raw == "":
                continue
            parts = raw.split(",")
            if not all(p.strip().isdigit() for p in parts):
                raise AdminError(422, f"The query parameter '{key}' must be integers, got {raw!r}.")
            found[name] = [int(p) for p in parts]
    return found


def _pagination(total: int, count: int, page: int, limit: int) -> dict[str, object]:
    pages = max(1, -(-total // limit))
    links = {"current": f"?page={page}&limit={limit}"}
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    return {"total": total, "count": count, "per_page": limit, "current_page": page, "total_pages": pages,
            "links": links}


def channel_routes(state: AdminState) -> list[Route]:
    v3 = guarded(V3, state.store_hash, state.admin_token)
    book = state.channels

    @v3
    async def list_channels(request: Request) -> Response:
        page, limit = paging(request)
        chosen = sorted(book.channels.values(), key=lambda c: c.id)
        shown = page_of(chosen, page, limit)
        return json_response({"data": [c.view() for c in shown],
                              "meta": {"pagination": _pagination(len(chosen), len(shown), page, limit)}})

    @v3
    async def get_channel(request: Request) -> Response:
        channel = book.channel(path_int(request, "channel_id"))
        return json_response({"data": {**channel.view(), "currencies": channel.currency_view()}, "meta": {}})

    @v3
    async def all_currencies(request: Request) -> Response:
        views = [c.currency_view() for c in sorted(book.channels.values(), key=lambda c: c.id)]
        return json_response({"data": views, "meta": {}})

    @v3
    async def channel_currencies(request: Request) -> Response:
        return json_response({"data": book.channel(path_int(request, "channel_id")).currency_view(), "meta": {}})

    @v3
    async def list_assignments(request: Request) -> Response:
        page, limit = paging(request)
        chosen = book.select(_filters(request))
        shown = page_of(chosen, page, limit)
        return json_response({"data": [a.view() for a in shown],
                              "meta": {"pagination": _pagination(len(chosen), len(shown), page, limit)}})

    @v3
    async def create_assignments(request: Request) -> Response:
        try:
            body = loads_exact(await request.body())
        except ValueError:
            raise AdminError(400, "The request body is not valid JSON.") from None
        state.emit(book.create(body))
        return Response(status_code=200)  # the spec: "No content"

    @v3
    async def delete_assignments(request: Request) -> Response:
        state.emit(book.delete(_filters(request)))
        return Response(status_code=204)

    @v3
    async def upsert_assignment(request: Request) -> Response:
        price_list_id = path_int(request, "price_list_id")
        try:
            body = loads_exact(await request.body())
        except ValueError:
            raise AdminError(400, "The request body is not valid JSON.") from None
        assignment, event = book.upsert(price_list_id, body)
        state.emit([event])
        return json_response({"data": assignment.view(), "meta": {}})

    root = "/stores/{store_hash}/v3"
    return [
        Route(f"{root}/channels", list_channels, methods=["GET"]),
        Route(f"{root}/channels/currency-assignments", all_currencies, methods=["GET"]),
        Route(f"{root}/channels/{{channel_id}}", get_channel, methods=["GET"]),
        Route(f"{root}/channels/{{channel_id}}/currency-assignments", channel_currencies, methods=["GET"]),
        Route(f"{root}/pricelists/assignments", list_assignments, methods=["GET"]),
        Route(f"{root}/pricelists/assignments", create_assignments, methods=["POST"]),
        Route(f"{root}/pricelists/assignments", delete_assignments, methods=["DELETE"]),
        Route(f"{root}/pricelists/{{price_list_id}}/assignments", upsert_assignment, methods=["PUT"]),
    ]
