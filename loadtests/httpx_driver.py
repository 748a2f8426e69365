"""The smoke driver (``--driver httpx``): a tiny fixed rate from asyncio, every answer checked against
the ERP's truth. It measures nothing worth reporting — ``make test`` uses it because it needs no
Node.js — but its result has the autocannon driver's shape, so the report code is the same."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from loadtests.cpu import self_cpu_seconds
from loadtests.histogram import LatencyHistogram
from pricing_edge.ops.instance import HEADER
from loadtests.scenarios import Request

MAX_SAMPLES = 5


async def run(url: str, requests: Sequence[Request], *, rate: float, duration: float, timeout: float = 30.0,
              check: bool = True, **_: Any) -> dict[str, Any]:
    histogram = LatencyHistogram()
    errors: Counter[str] = Counter()
    samples: list[str] = []
    instances: Counter[str] = Counter()
    completed = 0
    total = max(1, round(rate * duration))
    cpu_before = self_cpu_seconds()

    async def one(client: httpx.AsyncClient, request: Request, intended: float) -> None:
        nonlocal completed
        try:
            response = await client.post(url, content=request.body, headers=request.headers)
        except httpx.TimeoutException:
            errors["timeouts"] += 1
            return
        except httpx.HTTPError as exc:
            errors["connection"] += 1
            samples.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        histogram.record_ms((time.perf_counter() - intended) * 1000)  # from the intended time: open loop
        completed += 1
        instances[response.headers.get(HEADER, "-")] += 1
        if response.status_code // 100 != 2:
            errors["non2xx"] += 1
            samples.append(f"HTTP {response.status_code}: {response.text[:200]}")
            return
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            errors["graphql"] += 1
            samples.append(f"not JSON: {response.text[:200]}")
            return
        problems = request.check(answer) if check else [str(answer["errors"])[:200]] if "errors" in answer else []
        if problems:
            errors["graphql" if "errors" in answer else "wrong_values"] += 1
            samples.extend(problems[:2])

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=64)) as client:
        tasks = []
        for index in range(total):
            intended = started + index / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, requests[index % len(requests)], intended)))
        sent_until = time.perf_counter()
        await asyncio.gather(*tasks)
    elapsed = max(sent_until - started, total / rate)
    return {
        "generator": {"name": "httpx", "version": httpx.__version__, "mode": "open loop (smoke)",
                      "cpu_s": round(self_cpu_seconds() - cpu_before, 3)},
        "target_rate": rate, "duration_s": elapsed, "connections": 64, "sent": total, "completed": completed,
        "unfinished": total - completed - errors["timeouts"] - errors["connection"],
        "achieved_rate": completed / elapsed,
        "errors": {k: errors[k] for k in ("non2xx", "graphql", "wrong_values", "timeouts", "connection")},
        "error_samples": samples[:MAX_SAMPLES], "instances": dict(instances),
        "latency": histogram.summary(), "histogram": histogram.kind,
    }
