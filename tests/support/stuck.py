"""A loop stuck in an ERP call: the real ERP simulator over real HTTP, every call held for two minutes
(its latency fault) and an adapter that waits for it. Only cancellation can get a caller out."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.support.servers import ServerThread, serve

HELD_MS = 120_000
STOPS_WITHIN = 5.0  # seconds: a loop that is cancelled has ended by then (a hang never does)


@dataclass
class StuckErp:
    server: ServerThread
    adapter: SimulatedErpAdapter


@dataclass
class Stopped:
    seconds: float
    cancelled: bool


def stuck_erp_server() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        response = httpx.post(server.base_url + "/_sim/faults", json={"latency_ms": HELD_MS}, timeout=30)
        assert response.status_code == 200, response.text
        yield server


async def stuck_erp(server: ServerThread) -> AsyncIterator[StuckErp]:
    adapter = SimulatedErpAdapter(server.base_url, timeout=HELD_MS / 1000 * 2)
    yield StuckErp(server, adapter)
    await adapter.aclose()


async def cancel_once(task: asyncio.Task[Any], within: float = STOPS_WITHIN) -> Stopped:
    """Cancel ``task`` once (as a TaskGroup or a shutdown does) and wait for it to end, at most ``within``."""
    started = time.monotonic()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=within)
    assert done, f"{task.get_name()} still running {within}s after it was cancelled:\n{task.get_stack()}"
    return Stopped(time.monotonic() - started, task.cancelled())
