"""The measuring load generator: autocannon (Node.js), through ``loadtests/js/driver.mjs``.

``make bench`` runs ``npm ci --prefix loadtests/js`` (the committed ``package-lock.json``). The driver
paces each connection to hold a fixed overall rate, times each request from its intended send time
when its connection was held up (coordinated omission), and aggregates latencies in HdrHistogram
(hdr-histogram-js); see the comment at the top of ``driver.mjs`` for why autocannon's own
``overallRate`` is not used.
"""
from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from loadtests.scenarios import Request

JS_DIR = Path(__file__).resolve().parent / "js"
DRIVER = JS_DIR / "driver.mjs"


class GeneratorMissing(RuntimeError):
    pass


def check_installed() -> str:
    node = shutil.which("node")
    if node is None:
        raise GeneratorMissing("Node.js is not installed: the autocannon driver needs it (or use --driver httpx)")
    if not (JS_DIR / "node_modules" / "autocannon").is_dir():
        raise GeneratorMissing("autocannon is not installed: run `npm ci --prefix loadtests/js` (make bench does)")
    return node


def connections_for(rate: float, expected_latency_s: float) -> int:
    """Enough connections that each one's interval (connections / rate) is at least 50 ms and covers a
    few expected latencies: a connection is normally idle when its next request is due."""
    return max(8, min(1000, math.ceil(rate * max(0.05, 4 * expected_latency_s))))


def wire(requests: Sequence[Request]) -> list[dict[str, Any]]:
    return [{"method": "POST", "path": "/graphql", "headers": r.headers, "body": r.body.decode()} for r in requests]


async def run(url: str, requests: Sequence[Request], *, rate: float, duration: float,
              expected_latency_s: float = 0.005, connections: int | None = None, timeout: float = 10.0,
              mode: str = "paced", amount: int | None = None, warmup: float = 0.0) -> dict[str, Any]:
    """One run; the driver's JSON result (latency summary and curve in ms, counts, errors, its own CPU)."""
    node = check_installed()
    config = {"url": url, "requests": wire(requests), "mode": mode, "rate": rate, "duration": duration,
              "connections": connections or connections_for(rate, expected_latency_s), "timeout": timeout,
              "amount": amount, "warmup": warmup}
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as handle:
        handle.write(orjson.dumps(config))
    try:
        process = await asyncio.create_subprocess_exec(node, str(DRIVER), handle.name, stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.PIPE, cwd=JS_DIR)
        try:
            stdout, stderr = await process.communicate()
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
    finally:
        Path(handle.name).unlink(missing_ok=True)
    if process.returncode != 0:
        raise RuntimeError(f"autocannon driver failed ({process.returncode}): {stderr.decode()[-2000:]}")
    result: dict[str, Any] = orjson.loads(stdout.strip().splitlines()[-1])
    return result
