"""The hot route (``/graphql``) skips Starlette's router on its way in, and nothing else: the app's middlewares run
around it in their order, the scope says which route it is, an error is the same 500, and a method it does not
take still gets the router's 405. Served over real HTTP (uvicorn), as the edge is."""
from __future__ import annotations

from typing import Any

import httpx
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pricing_edge.ops.hot_route import HotRouteApp
from tests.support.servers import serve


class Marking:
    """A middleware that says it ran (a header per layer, in order) and what the scope said of the route."""

    def __init__(self, app: ASGIApp, name: str, seen: list[dict[str, Any]]) -> None:
        self.app, self.name, self.seen = app, name, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append({"layer": self.name, "route": getattr(scope.get("route"), "path", None),
                              "router": scope.get("router") is not None, "app": scope.get("app") is not None})

            async def marked(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"x-layer", self.name.encode())]
                await send(message)

            await self.app(scope, receive, marked)
            return
        await self.app(scope, receive, send)


class Hot:
    """An ASGI endpoint (as the edge's ``/graphql`` is): echoes, or fails when asked to."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if await request.body() == b"fail":
            raise RuntimeError("the endpoint failed")
        await Response(b'{"hot":true}', media_type="application/json")(scope, receive, send)


def app(seen: list[dict[str, Any]]) -> HotRouteApp:
    async def other(request: Request) -> Response:
        return JSONResponse({"route": request.scope["route"].path})

    return HotRouteApp(hot="/graphql", routes=[Route("/graphql", Hot(), methods=["GET", "POST"]), Route("/other", other)],
                       middleware=[Middleware(Marking, "outer", seen), Middleware(Marking, "inner", seen)])


def test_the_hot_route_runs_through_the_apps_middlewares_in_order_with_the_routers_scope() -> None:
    seen: list[dict[str, Any]] = []
    with serve(app(seen)) as server:
        response = httpx.post(server.base_url + "/graphql", content=b"{}", timeout=30)
        assert response.status_code == 200 and response.json() == {"hot": True}
        assert response.headers.get_list("x-layer") == ["inner", "outer"]
        assert [s["layer"] for s in seen] == ["outer", "inner"]
        assert all(s["route"] == "/graphql" and s["router"] and s["app"] for s in seen)
        other = httpx.get(server.base_url + "/other", timeout=30)
        assert other.json() == {"route": "/other"} and other.headers.get_list("x-layer") == ["inner", "outer"]


def test_an_error_in_the_hot_route_is_the_apps_500_and_a_method_it_does_not_take_its_405() -> None:
    seen: list[dict[str, Any]] = []
    with serve(app(seen)) as server:
        failed = httpx.post(server.base_url + "/graphql", content=b"fail", timeout=30)
        assert failed.status_code == 500 and failed.text == "Internal Server Error"
        refused = httpx.put(server.base_url + "/graphql", content=b"{}", timeout=30)
        assert refused.status_code == 405 and set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
        assert refused.headers.get_list("x-layer") == ["inner", "outer"]  # through the whole stack, as before
