"""Every client the edge and worker make (``traced_client``) resends a safe request once when the server
dropped it unanswered — the race of a keep-alive connection closed as it is reused — and never resends one
that may change something."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from pricing_edge.ops.tracing import traced_client


class DropsFirst:
    """A real HTTP/1.1 server on a free port that reads each request and, for the first ``drops`` of them,
    closes the connection without a word (as a server closing an idle connection does); then it answers."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                if length:
                    await reader.readexactly(length)
                self.requests.append(head.split(b"\r\n", 1)[0])
                if len(self.requests) <= self.drops:
                    return  # the connection closes unanswered
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return "http://127.0.0.1:%d" % self.server.sockets[0].getsockname()[1]


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[DropsFirst]:
    dropping = DropsFirst(getattr(request, "param", 1))
    dropping.server = await asyncio.start_server(dropping.handle, "127.0.0.1", 0)
    async with dropping.server:
        yield dropping


async def test_a_read_the_server_dropped_unanswered_is_sent_once_more(server: DropsFirst) -> None:
    async with traced_client("erp") as client:
        response = await client.get(server.url + "/prices", params={"sku": "PE-1"})
    assert response.status_code == 200
    assert server.requests == [b"GET /prices?sku=PE-1 HTTP/1.1"] * 2


@pytest.mark.parametrize("server", [2], indirect=True)
async def test_a_read_dropped_twice_fails_as_httpx_says(server: DropsFirst) -> None:
    async with traced_client("erp") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(server.url + "/prices")
    assert len(server.requests) == 2  # once more, not again and again


async def test_a_request_that_may_change_something_is_never_resent(server: DropsFirst) -> None:
    async with traced_client("erp") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url + "/sales-orders", json={"reference": "B2B-1"})
    assert server.requests == [b"POST /sales-orders HTTP/1.1"]
