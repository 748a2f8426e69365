"""One route served around Starlette's router: the edge's ``/graphql``, its hottest by far.

Every request of it goes through the same middlewares as any other (``ServerErrorMiddleware``'s 500, then the
app's own: tracing, the instance header) and gets the scope keys the router would have set (``app``, ``router``,
``route``, ``endpoint``, ``path_params``); only the router's matching and Starlette's ``ExceptionMiddleware`` are
left out — the endpoint raises no ``HTTPException`` for that middleware to turn into a response, and a method the
route does not take (or a ``root_path``) still goes the whole way, for its 405. A cached answer costs the edge
tens of microseconds of CPU, and those two layers were several of them.
"""
from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


class HotRouteApp(Starlette):
    """A Starlette app whose ``hot`` route (one of its routes, by path) skips the router on its way in."""

    def __init__(self, *, routes: Sequence[Route], middleware: Sequence[Middleware], hot: str, **kwargs: object) -> None:
        super().__init__(routes=routes, middleware=middleware, **kwargs)  # type: ignore[arg-type]
        self._hot_route = next(route for route in routes if route.path == hot)
        self._hot_path = hot
        self._hot_methods = frozenset(self._hot_route.methods or ())
        self._hot_stack: ASGIApp | None = None

    def _build_hot_stack(self) -> ASGIApp:
        app: ASGIApp = self._hot_route.app
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        handler = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
        return ServerErrorMiddleware(app, handler=handler, debug=self.debug)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"] == self._hot_path and scope["method"] in self._hot_methods
                and not scope.get("root_path")):
            if self._hot_stack is None:
                self._hot_stack = self._build_hot_stack()
            route = self._hot_route
            scope["app"], scope["router"], scope["route"] = self, self.router, route
            scope["endpoint"], scope["path_params"] = route.endpoint, {}
            await self._hot_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
