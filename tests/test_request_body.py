"""A body is read from the ASGI messages up to a limit: in chunks as sent, never past the limit."""
from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from pricing_edge.request_body import BodyTooLarge, read_limited


def request(*messages: Message, headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": headers or []}
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0)

    return Request(scope, receive)


def chunk(body: bytes, more: bool) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_a_body_in_one_message_is_that_message_s_bytes() -> None:
    assert await read_limited(request(chunk(b'{"query":"{ a }"}', False)), 100) == b'{"query":"{ a }"}'


async def test_a_body_in_chunks_is_put_together_in_order() -> None:
    sent = request(chunk(b'{"query":', True), chunk(b"", True), chunk(b'"{ a }"}', False))
    assert await read_limited(sent, 100) == b'{"query":"{ a }"}'


async def test_a_chunked_body_past_the_limit_stops_the_read() -> None:
    with pytest.raises(BodyTooLarge):
        await read_limited(request(chunk(b"x" * 60, True), chunk(b"x" * 60, False)), 100)


async def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(BodyTooLarge):
        await read_limited(request(headers=[(b"content-length", b"101")]), 100)


async def test_a_client_gone_mid_body_is_a_disconnect() -> None:
    with pytest.raises(ClientDisconnect):
        await read_limited(request(chunk(b"{", True), {"type": "http.disconnect"}), 100)
