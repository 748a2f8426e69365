"""Reaching every edge process. uvicorn's workers share one listening socket, so which worker answers
depends on which accepted the connection; every edge answer says which did (``X-Pricing-Edge-Instance``).

- ``pin``: keep-alive connections, each pinned to one worker (a connection stays with the process
  that accepted it): open fresh ones until every process has its share. They are aiohttp
  connections (``harness_http``), not httpx's.
- ``scrape_metrics``: each worker has its own Prometheus registry; ask ``/metrics`` over fresh
  connections until every process has answered, and sum.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from loadtests.harness_http import Answer, Connection
from pricing_edge.ops.instance import HEADER

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Pinned:
    """Per edge process, a few connections pinned to it. uvicorn closes idle keep-alive connections
    (5 s; the client drops its own after 4 s), and the reconnect may land on another process: ``ask``
    notices from the answer's header, moves the connection to the process it now reaches, and asks again
    until the wanted process answered. Connections are ``harness_http.Connection``s (one socket each):
    the probes of the events scenario are the harness's busiest requests, and httpx's per-request CPU
    was taken from the system measured."""

    def __init__(self, base_url: str, connections: dict[str, list[Connection]], per_process: int) -> None:
        self.base_url = base_url
        self.per_process = per_process
        self._free: dict[str, asyncio.Queue[Connection]] = {}
        self._all: set[Connection] = set()
        for instance, pool in connections.items():
            self._free[instance] = asyncio.Queue()
            for connection in pool:
                self._give(instance, connection)

    @property
    def instances(self) -> list[str]:
        return sorted(self._free)

    def _give(self, instance: str, connection: Connection) -> bool:
        queue = self._free.get(instance)
        if queue is None or queue.qsize() >= self.per_process:
            return False
        self._all.add(connection)
        queue.put_nowait(connection)
        return True

    async def ask(self, instance: str, content: bytes, headers: dict[str, str], attempts: int = 200) -> Answer:
        """POST /graphql answered by ``instance`` (fails only if that process never answers again, or with
        ``HttpError`` when the edge did not answer this once — the connection is kept for the next ask)."""
        for _ in range(attempts):
            connection = await self._free[instance].get()
            try:
                answer = await connection.request("POST", "/graphql", content, headers)
            except BaseException:
                self._free[instance].put_nowait(connection)  # closed: it reconnects (and is re-pinned) when next used
                raise
            answered = answer.headers.get(HEADER, "?")
            if answered == instance:
                self._free[instance].put_nowait(connection)
                return answer
            if not self._give(answered, connection):  # reconnected elsewhere: it now belongs to that process
                self._all.discard(connection)
                await connection.close()
            self._free[instance].put_nowait(Connection(self.base_url))
        raise RuntimeError(f"edge process {instance} did not answer over {attempts} fresh connections")

    async def aclose(self) -> None:
        for connection in list(self._all):
            await connection.close()
        for queue in self._free.values():
            while not queue.empty():
                await queue.get_nowait().close()


async def pin(base_url: str, processes: int, per_process: int = 2, attempts: int = 400) -> Pinned:
    """Connections pinned to each of ``processes`` edge processes (fails if one never answers)."""
    pools: dict[str, list[Connection]] = defaultdict(list)
    spare: list[Connection] = []  # held open while searching, so the next connect lands elsewhere too
    try:
        for _ in range(attempts):
            if len(pools) == processes and all(len(p) >= per_process for p in pools.values()):
                return Pinned(base_url, dict(pools), per_process)
            connection = Connection(base_url)
            answer = await connection.request("GET", "/healthz")
            instance = answer.headers.get(HEADER, "?")
            if len(pools[instance]) < per_process:
                pools[instance].append(connection)
            else:
                spare.append(connection)
                if len(spare) > 32:
                    await spare.pop(0).close()
        raise RuntimeError(f"found {len(pools)} edge processes of {processes} after {attempts} connections")
    except BaseException:
        for pool in pools.values():
            for connection in pool:
                await connection.close()
        raise
    finally:
        for connection in spare:
            await connection.close()


async def scrape_metrics(base_url: str, processes: int, attempts: int = 200) -> dict[str, Samples]:
    """Every edge process's ``/metrics`` samples, by instance."""
    found: dict[str, Samples] = {}
    for _ in range(attempts):
        async with httpx.AsyncClient(timeout=10.0) as client:  # a fresh connection each time
            response = await client.get(base_url + "/metrics", headers={"connection": "close"})
        instance = response.headers.get(HEADER, "?")
        if instance not in found:
            found[instance] = parse(response.text)
        if len(found) >= processes:
            return found
    raise RuntimeError(f"only {len(found)} of {processes} edge processes answered /metrics")


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(per_instance: dict[str, Samples]) -> Samples:
    summed: Samples = defaultdict(float)
    for samples in per_instance.values():
        for key, value in samples.items():
            summed[key] += value
    return dict(summed)


def diff(after: Samples, before: Samples) -> Samples:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def pick(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and all(dict(sample_labels).get(k) == v for k, v in labels.items()))


def cache_ratios(delta: Samples) -> dict[str, Any]:
    """Hit ratios per tier (response, l1, l2) and per tier:kind, from ``pricing_edge_cache_lookups_total``."""
    counts: dict[str, dict[str, float]] = defaultdict(lambda: {"hit": 0.0, "miss": 0.0})
    for (name, labels), value in delta.items():
        if name != "pricing_edge_cache_lookups_total":
            continue
        label = dict(labels)
        for key in (label["tier"], f"{label['tier']}:{label['kind']}"):
            counts[key][label["result"]] += value
    ratios: dict[str, Any] = {}
    for key, c in sorted(counts.items()):
        lookups = c["hit"] + c["miss"]
        ratios[key] = {"hits": int(c["hit"]), "misses": int(c["miss"]),
                       "ratio": round(c["hit"] / lookups, 4) if lookups else None}
    return ratios
