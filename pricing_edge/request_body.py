"""Reading a request body without trusting its size: stop at the limit, declared or chunked."""
from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import ClientDisconnect, Request


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int, headers: Mapping[str, str] | None = None) -> bytes:
    """The body, read only up to ``limit`` bytes: a larger one (declared or chunked) stops the read.
    ``headers``: the request's, if already at hand as a mapping.

    Read from the ASGI messages themselves, as ``Request.stream`` reads them but without its async generator
    (a tenth of a cached answer's CPU); so the body is read once, here — not again through the ``Request``."""
    declared = (request.headers if headers is None else headers).get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        if message["type"] != "http.request":
            continue
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return b"".join([*chunks, chunk]) if chunks else chunk
        chunks.append(chunk)
