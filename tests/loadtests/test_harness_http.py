"""The harness's HTTP client (aiohttp underneath), against real servers: uvicorn for what the edge and the
simulators answer (lengths, chunks, keep-alive), a raw asyncio server that closes every connection after one
answer, and ``uvicorn --workers 2`` for connections pinned to one process each."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from loadtests.harness_http import KEEPALIVE_S, Connection, HttpError, Pool
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve


def _app() -> Starlette:
    async def echo(request: Request) -> Response:
        client = request.client
        return JSONResponse({"method": request.method, "path": request.url.path, "query": request.url.query,
                             "body": (await request.body()).decode(), "token": request.headers.get("x-token"),
                             "port": client.port if client else None},
                            status_code=int(request.query_params.get("status", "200")),
                            headers={"x-answered-by": "echo"})

    async def chunked(request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"alpha,", b"", b"beta," * 1000, b"gamma"):
                yield part

        return StreamingResponse(parts(), media_type="text/plain")

    async def slow(request: Request) -> Response:
        await asyncio.sleep(3)  # far longer than the client waits before giving up on it
        return JSONResponse({"slow": True})

    return Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"]), Route("/chunked", chunked),
                             Route("/slow", slow)])


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with serve(_app()) as running:
        yield running


def test_one_connection_carries_many_exchanges(server: ServerThread) -> None:
    async def go() -> None:
        connection = Connection(server.base_url)
        try:
            first = await connection.request("POST", "/echo?x=1", b'{"a": 1}', {"x-token": "t1"})
            second = await connection.request("GET", "/echo")
        finally:
            await connection.close()
        assert first.status_code == 200 and first.headers["x-answered-by"] == "echo"
        assert first.json() | {"port": None} == {"method": "POST", "path": "/echo", "query": "x=1",
                                                 "body": '{"a": 1}', "token": "t1", "port": None}
        assert second.json()["method"] == "GET" and second.json()["body"] == ""
        assert first.json()["port"] == second.json()["port"]  # the same socket: kept alive

    asyncio.run(go())


def test_a_chunked_answer_is_read_whole_and_an_error_status_raises_on_request(server: ServerThread) -> None:
    async def go() -> None:
        connection = Connection(server.base_url)
        try:
            streamed = await connection.request("GET", "/chunked")
            failed = await connection.request("GET", "/echo?status=503")
            after = await connection.request("GET", "/echo")
        finally:
            await connection.close()
        assert streamed.text == "alpha," + "beta," * 1000 + "gamma"
        assert failed.status_code == 503
        with pytest.raises(HttpError, match="503"):
            failed.raise_for_status()
        assert after.status_code == 200
        assert len({a.json()["port"] for a in (failed, after)}) == 1  # an error status keeps the socket

    asyncio.run(go())


def test_a_request_given_up_on_leaves_no_answer_behind_for_the_next(server: ServerThread) -> None:
    """A probe cancelled mid-exchange (its event's deadline) or timed out must not leave its late answer on
    the socket, where the next request would read it as its own."""
    async def go() -> None:
        connection = Connection(server.base_url, timeout=0.2)
        try:
            await connection.request("GET", "/echo")
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(connection.request("GET", "/slow"), 0.05)
            cancelled_then = await connection.request("GET", "/echo?after=cancelled")
            with pytest.raises(HttpError, match="Timeout"):
                await connection.request("GET", "/slow")
            timed_out_then = await connection.request("GET", "/echo?after=timeout")
        finally:
            await connection.close()
        assert cancelled_then.json()["query"] == "after=cancelled"
        assert timed_out_then.json()["query"] == "after=timeout"

    asyncio.run(go())


def test_the_client_drops_an_idle_connection_before_uvicorn_closes_it() -> None:
    """uvicorn closes an idle keep-alive connection without saying so, and aiohttp does not send a POST (a
    probe, an ERP change) again when its socket turns out closed: the client must give its idle sockets up
    first."""
    assert uvicorn.Config(_app()).timeout_keep_alive > KEEPALIVE_S


def test_a_connection_the_server_closed_is_reopened_for_the_next_request() -> None:
    """The server answers one request per connection and closes it without saying so: the next request
    goes over a fresh connection."""
    async def go() -> None:
        accepted = 0

        async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
            writer.close()

        port = free_port()
        listener = await asyncio.start_server(answer_once, "127.0.0.1", port)
        connection = Connection(f"http://127.0.0.1:{port}")
        try:
            first = await connection.request("GET", "/")
            await asyncio.sleep(0)
            second = await connection.request("GET", "/")
        finally:
            await connection.close()
            listener.close()
            await listener.wait_closed()
        assert first.content == second.content == b"ok" and accepted == 2

    asyncio.run(go())


def test_an_unreachable_server_is_an_http_error() -> None:
    async def go() -> None:
        connection = Connection(f"http://127.0.0.1:{free_port()}")
        with pytest.raises(HttpError):
            await connection.request("GET", "/")

    asyncio.run(go())
    with pytest.raises(ValueError, match="http://"):
        Connection("https://127.0.0.1:1")


def test_a_pool_opens_a_connection_per_request_in_flight_and_reuses_them(server: ServerThread) -> None:
    async def go() -> None:
        pool = Pool(server.base_url)
        try:
            together = await asyncio.gather(*(pool.post_json("/echo", {"n": n}) for n in range(3)))
            later = await asyncio.gather(*(pool.request("GET", "/echo") for _ in range(3)))
        finally:
            await pool.aclose()
        assert [a.json()["body"] for a in together] == ['{"n":0}', '{"n":1}', '{"n":2}']
        assert len({a.json()["port"] for a in together}) == 3
        assert {a.json()["port"] for a in later} == {a.json()["port"] for a in together}

    asyncio.run(go())
