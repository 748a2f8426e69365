"""The harness's own requests to the system it measures (the events scenario's probes and ERP changes, the
set-up's warm-up over pinned connections), on aiohttp.

Why not httpx: its connection pool's bookkeeping costs the harness ~1 ms of CPU per request and grows with
the requests queued, so at 50 events/s on a busy 2-core machine the harness took a third of a core from the
system it measured. aiohttp's client (C parser) costs a fraction of that. ``Answer`` keeps the few parts of
``httpx.Response`` the callers read, so they do not depend on the client underneath.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

# uvicorn closes a keep-alive connection idle for 5 s without saying so; the client drops its own first,
# so a request never goes out on a socket the server is closing (a POST is not retried by aiohttp).
KEEPALIVE_S = 4.0


class HttpError(Exception):
    """The server could not be reached, went away mid-answer, did not answer in time, or answered 4xx/5xx
    (``raise_for_status``)."""


@dataclass(frozen=True)
class Answer:
    """One answer: status, headers (case-insensitive names), body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    sent_at: float = 0.0  # wall clock just before sending (a reconnect included): the server read it later

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpError(f"HTTP {self.status_code}: {self.text[:200]}")


class Pool:
    """Keep-alive connections to one server, as many as requests in flight (``limit``; 0: no cap — the
    harness's concurrency is its own schedule's). The session is opened on first use, inside the loop."""

    def __init__(self, base_url: str, timeout: float = 30.0, limit: int = 0) -> None:
        if not base_url.startswith("http://"):
            raise ValueError(f"only plain http://host:port URLs are supported, not {base_url!r}")
        self.base_url = base_url
        self.timeout = timeout
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.limit, keepalive_timeout=KEEPALIVE_S)
            self._session = aiohttp.ClientSession(
                self.base_url, connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout),
                skip_auto_headers=("User-Agent",), auto_decompress=False)
        return self._session

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> Answer:
        """One exchange. A request cancelled or timed out mid-exchange closes its socket (aiohttp does not
        put an unfinished connection back), so its late answer is never read as the next request's."""
        session = self._open()
        sent_at = time.time()
        try:
            async with session.request(method, path, data=body or None, headers=headers) as response:
                content = await response.read()
                return Answer(response.status, response.headers, content, sent_at)
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = str(exc) or f"no answer within {self.timeout} s"
            raise HttpError(f"{type(exc).__name__}: {reason}") from exc

    async def post_json(self, path: str, payload: Any) -> Answer:
        return await self.request("POST", path, orjson.dumps(payload), {"content-type": "application/json"})

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None


class Connection(Pool):
    """One keep-alive connection (a pool of one): its requests go one after another over the same socket
    while it stays open, so they reach the one server process that accepted it (``instances.Pinned``)."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        super().__init__(base_url, timeout, limit=1)

    async def close(self) -> None:
        await self.aclose()
