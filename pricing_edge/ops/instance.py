"""Which process answered: every edge response carries ``X-Pricing-Edge-Instance: <host>-<pid>``.

The workers of `serve --workers N` share one port, so without this nobody outside can tell replicas apart — the
load tests need it to measure event-to-visible latency at every process, and ops to find the
replica that served a bad answer. A raw ASGI middleware: one header appended, nothing re-read.
"""
from __future__ import annotations

import os
import socket

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-pricing-edge-instance"


def instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class InstanceHeaderMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.value = instance_id().encode()  # built once per process: workers are forked after import
        self.header = (HEADER.encode(), self.value)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, tagged)
