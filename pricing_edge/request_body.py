"""Reading a request body without trusting its size: stop at the limit, declared or chunked."""
from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int, headers: Mapping[str, str] | None = None) -> bytes:
    """The body, read only up to ``limit`` bytes: a larger one (declared or chunked) stops the read.
    ``headers``: the request's, if already at hand as a mapping."""
    declared = (request.headers if headers is None else headers).get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
