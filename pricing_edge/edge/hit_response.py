"""A kept answer sent as it is: two ASGI messages with its bytes, not a Starlette ``Response``.

A hit costs the edge a few microseconds of CPU in all, and a ``Response`` object (its headers mapping lower-cased
and encoded, its content re-checked) was a tenth of that. The bytes and headers sent are exactly a
``Response(body, media_type="application/json", headers=...)``'s, in its order: the answer's own headers, then
``content-length``, then ``content-type`` (``tests/edge/test_hit_response.py`` holds them side by side).
"""
from __future__ import annotations

from starlette.types import Receive, Scope, Send

from pricing_edge.bigcommerce.storefront import COMPLEXITY_HEADER
from pricing_edge.edge.answer_flags import STALE_HEADER

_STALE = (STALE_HEADER.lower().encode("latin-1"), b"1")
_COMPLEXITY = COMPLEXITY_HEADER.lower().encode("latin-1")
_CONTENT_TYPE = (b"content-type", b"application/json")


class HitResponse:
    """A 200 with a kept answer's bytes, ``stale`` flagged in its header, and the document's complexity ``score``
    when the upstream scores documents. An ASGI app, as a ``Response`` is."""

    __slots__ = ("body", "headers")
    status_code = 200

    def __init__(self, body: bytes, stale: bool = False, score: str | None = None) -> None:
        self.body = body
        headers = [_STALE] if stale else []
        if score:
            headers.append((_COMPLEXITY, score.encode("latin-1")))
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
        headers.append(_CONTENT_TYPE)
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})
