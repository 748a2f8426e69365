"""A small HTTP/1.1 keep-alive client on asyncio streams, for the harness's own requests to the system it
measures (the events scenario's probes and ERP changes, the set-up's warm-up over pinned connections).

Why not httpx: its connection pool's bookkeeping costs the harness ~0.5 ms of CPU per request and grows
with the requests queued (each waiting request rescans every connection), so at 50 events/s on a busy
2-core machine the harness took a third of a core from the system it measured. This client does one
request at a time per connection, plain HTTP to local test servers only: no TLS, proxies, redirects,
cookies or compression.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The server could not be reached, went away mid-answer, answered nonsense, or answered 4xx/5xx
    (``raise_for_status``)."""


@dataclass(frozen=True)
class Answer:
    """One answer: status, headers (lower-case names), body — the few parts of ``httpx.Response`` the
    harness reads."""

    status_code: int
    headers: dict[str, str]
    content: bytes
    sent_at: float = 0.0  # wall clock as the request was written: the server read it after this

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpError(f"HTTP {self.status_code}: {self.text[:200]}")


def host_and_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only plain http://host:port URLs are supported, not {base_url!r}")
    return parts.hostname, parts.port or 80


class Connection:
    """One keep-alive connection, opened on first use and reopened when the server has closed it."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.host, self.port = host_and_port(base_url)
        self.timeout = timeout
        self._prefix = f"host: {self.host}:{self.port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.requests = 0  # answered over the current socket: a reused socket may have been closed idle

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> Answer:
        """Send and read one exchange. A reused connection the server closed while idle (its keep-alive
        timeout) fails before any answer byte: then the request goes once more over a fresh connection,
        as browsers do — the server never saw it."""
        head = self._head(method, path, body, headers or {})
        try:
            async with asyncio.timeout(self.timeout):
                for attempt in range(2):
                    reused = self._writer is not None and self.requests > 0
                    try:
                        return await self._exchange(head, body)
                    except (ConnectionError, asyncio.IncompleteReadError) as exc:
                        self._drop()
                        if not (reused and attempt == 0 and _nothing_read(exc)):
                            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        except TimeoutError as exc:
            self._drop()
            raise HttpError(f"no answer from {self.host}:{self.port} within {self.timeout} s") from exc
        except (OSError, ValueError) as exc:  # refused, reset; a malformed answer
            self._drop()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:  # cancelled mid-exchange: an answer may still come, to be read by nobody
            self._drop()
            raise
        raise AssertionError("unreachable")

    def _head(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return (f"{method} {path} HTTP/1.1\r\n".encode() + self._prefix
                + f"content-length: {len(body)}\r\n{lines}\r\n".encode())

    async def _exchange(self, head: bytes, body: bytes) -> Answer:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD)
            self.requests = 0
        reader, writer = self._reader, self._writer
        assert reader is not None
        sent_at = time.time()
        writer.write(head + body)
        await writer.drain()
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = await _chunks(reader)
        else:
            content = await reader.read()  # no length: the body ends with the connection
            headers["connection"] = "close"
        self.requests += 1
        if headers.get("connection", "").lower() == "close":
            self._drop()
        return Answer(status, headers, content, sent_at)

    def _drop(self) -> None:
        """Forget the socket (closing it): the next request opens a fresh one."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def close(self) -> None:
        writer = self._writer
        self._drop()
        if writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


def _nothing_read(exc: BaseException) -> bool:
    return not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers from the servers the harness talks to
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Pool:
    """Keep-alive connections to one server, as many as requests in flight: an idle one is reused, else
    a new one opened (the harness's concurrency is its own schedule's, so no cap)."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._idle: list[Connection] = []
        self._busy: set[Connection] = set()

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> Answer:
        connection = self._idle.pop() if self._idle else Connection(self.base_url, self.timeout)
        self._busy.add(connection)
        try:
            answer = await connection.request(method, path, body, headers)
        finally:
            self._busy.discard(connection)
        self._idle.append(connection)
        return answer

    async def post_json(self, path: str, payload: Any) -> Answer:
        return await self.request("POST", path, orjson.dumps(payload), {"content-type": "application/json"})

    async def aclose(self) -> None:
        for connection in [*self._idle, *self._busy]:
            await connection.close()
        self._idle.clear()
        self._busy.clear()
