"""A safe request (GET, HEAD, OPTIONS) that a server dropped without answering is sent once more.

A pooled keep-alive connection can be closed by the server at the moment the client reuses it: uvicorn drops
idle connections after 5 s, httpx keeps them for 5 s, and load balancers and ERP gateways have idle limits of
their own. The request then fails with "Server disconnected without sending a response" although nothing is
wrong with either side — an ERP read lost to a race of timers. httpx does not resend it (it cannot know the
method is safe to repeat for every caller); for the methods HTTP defines as safe it is, so every client the
edge and worker make (``ops/tracing.traced_client``) resends such a request once, on a fresh connection.
A request with a body that changes something (POST, PATCH, PUT, DELETE) is never resent here: whether it
happened is for its caller's idempotency rules to say.
"""
from __future__ import annotations

import httpx

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ResendSafeOnDrop(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except httpx.RemoteProtocolError:
            if request.method not in SAFE_METHODS:
                raise
            return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
