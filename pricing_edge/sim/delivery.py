"""Background POSTs from a simulator to its receivers (the ERP's events, BigCommerce's webhooks):
how hard to try, a concurrency cap, one traced client, and tasks that stop with the simulator.
What counts as delivered and what is retried stays with each sender."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pricing_edge.ops import tracing
from pricing_edge.runtime import cancel_and_wait

PENDING, DELIVERED, RETRYING, FAILED, REJECTED, NOT_SENT = (
    "pending", "delivered", "retrying", "failed", "rejected", "not_sent")


@dataclass(frozen=True)
class DeliveryPolicy:
    """``max_attempts`` POSTs, backoff doubling from ``first_backoff`` up to ``max_backoff``."""

    max_attempts: int = 12
    first_backoff: float = 0.1
    max_backoff: float = 5.0
    timeout: float = 5.0
    concurrency: int = 8
    wait_first_attempt: float = 1.0  # a change request waits at most this long for the first attempt

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.first_backoff * 2 ** (attempt - 1)))


class BackgroundSender:
    def __init__(self, policy: DeliveryPolicy) -> None:
        self.policy = policy
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def open(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """The client and the concurrency cap, made on first use — or at start-up: the client's TLS context
        costs a few hundred ms of CPU, which would otherwise land on the first event a load test times."""
        if self._client is None:
            self._client = tracing.traced_client("receiver", timeout=self.policy.timeout)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.policy.concurrency)
        return self._client, self._slots

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int | None, str | None]:
        """One attempt: (status, error text) — status None when the receiver could not be reached."""
        client, slots = self.open()
        async with slots:
            try:
                response = await client.post(url, content=body, headers=dict(headers))
            except httpx.HTTPError as exc:
                return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None if response.is_success else response.text[:500]

    async def aclose(self) -> None:
        await cancel_and_wait(list(self._tasks))
        if self._client is not None:
            await self._client.aclose()
            self._client = None
