"""Refresh-ahead under one cross-replica lock: two edge replicas (two RecordServices, each with its own
store connection and L1 — in this process, and as two processes of their own) hammer the same hot keys through refresh windows, and the ERP simulator's read
counter shows one read per key per window — the replica that loses a key's lock takes the renewed record
from the store. The stores stamp what they keep with the real time, so the windows are real: a TTL of a
few seconds, waited out (not polled for); a refresh lands most of a window before the next is due."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pricing_edge.edge.records import REFRESH_AHEAD, RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.base import Store
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.support.polling import async_wait_until
from tests.support.servers import ServerThread, serve

PRICE_TTL = 6.0  # refreshed ahead from 4.8 s
SKUS = [sku for sku in (f"PE-{10000 + i}" for i in range(30)) if build_dataset(7).prices.get(2, sku, "USD")][:12]
REPLICAS = 2
ROUNDS = 25  # lookups per replica per window, all at once


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    """A slow ERP (100 ms a read): replicas that refresh at the same moment overlap for sure."""
    with serve(create_app(build_dataset(7), latency_ms=100)) as server:
        yield server


@pytest.fixture(params=["redis", "embedded"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[list[Store]]:
    """One store per replica: two Redis connections under one prefix, or the one embedded store both share."""
    if request.param == "embedded":
        shared = EmbeddedStore(announce=False)
        yield [shared] * REPLICAS
        return
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    connections: list[Store] = [RedisStore(url, Keys(prefix), socket_timeout=10.0) for _ in range(REPLICAS)]
    yield connections
    for connection in connections:
        await connection.aclose()


async def erp_reads(erp: ServerThread) -> dict[str, int]:
    """Reads per key since the last call (the count starts again)."""
    async with httpx.AsyncClient(timeout=30) as client:
        counted: dict[str, int] = (await client.get(erp.base_url + "/_sim/reads", params={"reset": "1"})).json()["reads"]
    return counted


async def settled(replicas: list[RecordService]) -> bool:
    """No refresh or read-through still running in any replica."""
    return not any(replica.background() for replica in replicas)


async def test_one_erp_read_per_key_per_refresh_window_across_replicas(erp: ServerThread, stores: list[Store]) -> None:
    adapters = [SimulatedErpAdapter(erp.base_url, timeout=10) for _ in stores]
    replicas = [RecordService(store, adapter, EdgeMetrics(), price_ttl=PRICE_TTL, erp_budget=10.0)
                for store, adapter in zip(stores, adapters, strict=True)]
    try:
        await asyncio.gather(*(replica.prices(2, "USD", SKUS) for replica in replicas))
        await async_wait_until(lambda: settled(replicas), what="the first reads to finish")
        assert await erp_reads(erp) == {f"price:2:USD:{sku}": 1 for sku in SKUS}  # read-through: one per key
        learned = max(used.as_of_ms for used in (await replicas[0].price_lookup(2, "USD", SKUS)).used)
        for window in range(2):
            # Every record is due for a refresh ahead: waiting out most of a TTL, not polling for an outcome.
            await asyncio.sleep(max(0.0, learned / 1000 + PRICE_TTL * REFRESH_AHEAD + 0.1 - time.time()))
            started = int(time.time() * 1000)
            lookups = [replica.price_lookup(2, "USD", SKUS) for replica in replicas for _ in range(ROUNDS)]
            for lookup in await asyncio.gather(*lookups):
                assert set(lookup.found) == {(2, "USD", sku) for sku in SKUS} and not lookup.stale
            await async_wait_until(lambda: settled(replicas), what=f"window {window}'s refreshes to finish")
            reads = await erp_reads(erp)
            assert reads == {f"price:2:USD:{sku}": 1 for sku in SKUS}, f"window {window}: {reads}"
            for replica in replicas:  # the replica that lost a key's lock holds the renewed record all the same
                renewed = await replica.price_lookup(2, "USD", SKUS)
                assert (renewed.oldest_ms or 0) >= started
                learned = max(learned, *(used.as_of_ms for used in renewed.used))
        await async_wait_until(lambda: settled(replicas), what="the last lookups to finish")
        assert await erp_reads(erp) == {}
    finally:
        for adapter in adapters:
            await adapter.aclose()


@pytest.fixture
def replica_processes(erp: ServerThread, redis_url: str, redis_prefix: str,
                      tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Two replicas, each a process of its own (``tests.support.records_replica``), on one Redis and one ERP."""
    args = [sys.executable, "-m", "tests.support.records_replica", redis_url, redis_prefix, erp.base_url,
            str(PRICE_TTL), ",".join(SKUS)]
    processes: list[subprocess.Popen[str]] = []
    with open(tmp_path / "replicas.log", "a") as log:
        try:
            for _ in range(REPLICAS):
                processes.append(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                                  text=True, cwd=Path(__file__).parents[2]))
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=30)


def lookup_everywhere(processes: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Every replica looks the SKUs up at the same moment; what each found."""
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("lookup\n")
        process.stdin.flush()
    answers = []
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"replica {process.pid} ended"
        answers.append(orjson.loads(line))
    return answers


async def test_one_erp_read_per_key_per_refresh_window_across_two_processes(
        erp: ServerThread, replica_processes: list[subprocess.Popen[str]]) -> None:
    first = lookup_everywhere(replica_processes)
    assert [a["found"] for a in first] == [len(SKUS)] * REPLICAS
    assert await erp_reads(erp) == {f"price:2:USD:{sku}": 1 for sku in SKUS}
    learned = max(a["newest_ms"] for a in first)
    for window in range(2):
        # Every record is due for a refresh ahead: waiting out most of a TTL, not polling for an outcome.
        await asyncio.sleep(max(0.0, learned / 1000 + PRICE_TTL * REFRESH_AHEAD + 0.1 - time.time()))
        started = int(time.time() * 1000)
        answers = lookup_everywhere(replica_processes)
        assert all(a["found"] == len(SKUS) for a in answers)
        reads = await erp_reads(erp)
        assert reads == {f"price:2:USD:{sku}": 1 for sku in SKUS}, f"window {window}: {reads}"
        renewed = lookup_everywhere(replica_processes)
        assert min(a["oldest_ms"] for a in renewed) >= started  # both replicas hold the renewed records
        learned = max(a["newest_ms"] for a in renewed)


class CountingLocks(EmbeddedStore):
    """The embedded store, counting the lock acquisitions asked of it."""

    def __init__(self) -> None:
        super().__init__(announce=False)
        self.locks_asked = 0

    async def acquire(self, names: Any, ttl_ms: int, *, holder: str | None = None) -> set[str]:
        wanted = list(names)
        self.locks_asked += len(wanted)
        return await super().acquire(wanted, ttl_ms, holder=holder)


async def test_a_refresh_of_keys_another_replica_renewed_takes_them_from_the_store_without_a_lock(
        erp: ServerThread) -> None:
    store = CountingLocks()
    adapters = [SimulatedErpAdapter(erp.base_url, timeout=10) for _ in range(REPLICAS)]
    ttl = 3.0  # due 2.4 s after a read: well within the simulator's keep-alive (5 s), no connection race
    first, second = [RecordService(store, adapter, EdgeMetrics(), price_ttl=ttl, erp_budget=10.0)
                     for adapter in adapters]
    try:
        for replica in (first, second):
            await replica.prices(2, "USD", SKUS)
        await async_wait_until(lambda: settled([first, second]), what="the first reads to finish")
        await erp_reads(erp)
        learned = max(used.as_of_ms for used in (await second.price_lookup(2, "USD", SKUS)).used)
        await asyncio.sleep(max(0.0, learned / 1000 + ttl * REFRESH_AHEAD + 0.1 - time.time()))
        started = int(time.time() * 1000)
        await first.price_lookup(2, "USD", SKUS)  # due: the first replica renews them from the ERP
        await async_wait_until(lambda: settled([first]), what="the first replica's refresh")
        assert await erp_reads(erp) == {f"price:2:USD:{sku}": 1 for sku in SKUS}
        store.locks_asked = 0
        await second.price_lookup(2, "USD", SKUS)  # due here too (its L1 holds the old copies)
        await async_wait_until(lambda: settled([second]), what="the second replica's refresh")
        assert await erp_reads(erp) == {} and store.locks_asked == 0
        renewed = await second.price_lookup(2, "USD", SKUS)
        assert (renewed.oldest_ms or 0) >= started and not renewed.stale
    finally:
        for adapter in adapters:
            await adapter.aclose()
