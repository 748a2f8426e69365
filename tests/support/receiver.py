"""A webhook receiver for simulator tests: answers each POST (any path) with the next status of
``script``, then ``status``, and keeps what it got."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    status: int = 200
    script: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.deliveries.append(Delivery(dict(request.headers), body))
                status = self.script.pop(0) if self.script else self.status
            return JSONResponse({"ok": 200 <= status < 300}, status_code=status)

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])

    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)
