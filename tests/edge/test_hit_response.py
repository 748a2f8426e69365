"""A hit is sent as two ASGI messages, not a Starlette ``Response``: the client must not be able to tell."""
from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Message

from pricing_edge.bigcommerce.storefront import COMPLEXITY_HEADER
from pricing_edge.edge.answer_flags import headers_for
from pricing_edge.edge.hit_response import HitResponse

BODY = b'{"data":{"site":{"settings":{"storeHash":"demo"}}},"extensions":{"pricingEdge":{"stale":true}}}'


async def sent(app: ASGIApp) -> list[Message]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    async def receive() -> Message:
        raise AssertionError("a response reads nothing")

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
    await app(scope, receive, send)
    return messages


def as_before(body: bytes, stale: bool, score: str | None) -> Response:
    """What the hit path answered before: a ``Response`` with the flags' headers and the complexity score."""
    headers = headers_for(stale)
    if score:
        headers[COMPLEXITY_HEADER] = score
    return Response(body, media_type="application/json", headers=headers or None)


@pytest.mark.parametrize("stale", [False, True])
@pytest.mark.parametrize("score", [None, "", "1234"])
async def test_a_hit_sends_the_messages_a_response_would(stale: bool, score: str | None) -> None:
    assert await sent(HitResponse(BODY, stale, score)) == await sent(as_before(BODY, stale, score))


async def test_two_hits_of_one_answer_do_not_share_what_a_middleware_may_change() -> None:
    first, second = await sent(HitResponse(BODY)), await sent(HitResponse(BODY))
    first[0]["headers"].append((b"x-pricing-edge-instance", b"here"))
    assert second[0]["headers"] == [(b"content-length", str(len(BODY)).encode()),
                                    (b"content-type", b"application/json")]
