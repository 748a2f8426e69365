"""One computation per key at a time: concurrent callers for the same key share its result.

The edge uses it for answers: a burst of identical misses (a popular page after an invalidation)
costs one overlay, not one per request, and an expired answer is recomputed once in the background
while the old bytes are served.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
V = TypeVar("V")


class SingleFlight(Generic[V]):
    def __init__(self) -> None:
        self._inflight: dict[Hashable, asyncio.Future[V]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def busy(self, key: Hashable) -> bool:
        return key in self._inflight

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        """``compute()``'s result — computed here, or by the caller already computing it."""
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters, if any, re-raise it
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    def start(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> None:
        """Compute in the background unless that key is already being computed."""
        if key in self._inflight:
            return

        async def background() -> None:
            try:
                await self.run(key, compute)
            except Exception:  # noqa: BLE001 — a failed refresh leaves the old answer; the next one retries
                log.warning("background recompute of %r failed", key, exc_info=True)

        task = asyncio.create_task(background())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
