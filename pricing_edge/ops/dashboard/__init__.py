"""The ops dashboard: one static page the worker serves at ``/ops/``, reading the JSON ops API (the same one
``pricing-edge ops`` uses) with the operator's session, refreshed by polling every two seconds.

The page itself holds no data and needs no login to load; everything it shows comes from ``/ops/*``
behind the ops token. It builds its DOM with ``textContent`` only (dead-letter reasons carry text from
outside) and runs under a strict Content-Security-Policy, never inside a frame.
"""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

HERE = Path(__file__).parent
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


async def page(request: Request) -> Response:
    return FileResponse(HERE / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return Response("not found", 404, media_type="text/plain")
    return FileResponse(HERE / name, media_type=ASSETS[name], headers=PAGE_HEADERS)


async def to_page(request: Request) -> Response:
    return RedirectResponse("/ops/", status_code=308)


def dashboard_routes() -> list[Route]:
    return [Route("/ops", to_page), Route("/ops/", page, methods=["GET"]),
            Route("/ops/assets/{name}", asset, methods=["GET"])]
