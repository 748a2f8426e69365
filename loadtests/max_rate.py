"""The maximum sustainable rate: step the fixed rate up (×1.5) until a step fails, then bisect twice.

A step passes when, at that fixed rate, p99 ≤ 25 ms, nothing failed, nothing was left unanswered and
the achieved rate is within 3% of the target (a generator or server that cannot keep up fails too).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

P99_LIMIT_MS = 25.0
GROWTH = 1.5
REFINE = 2
CEILING = 60_000.0


def passes(step: dict[str, Any]) -> bool:
    return (step["errors"] == 0 and step["p99_ms"] is not None and step["p99_ms"] <= P99_LIMIT_MS
            and step["achieved_rate"] >= 0.97 * step["rate"])


async def search(step: Callable[[float], Awaitable[dict[str, Any]]], *, start: float,
                 log: Callable[[str], None] = print) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []

    async def attempt(rate: float) -> bool:
        result = await step(round(rate))
        ok = passes(result)
        steps.append({"rate": result["rate"], "achieved_rate": result["achieved_rate"], "p50_ms": result["p50_ms"],
                      "p99_ms": result["p99_ms"], "errors": result["errors"], "ok": ok,
                      "generator_cores": result["cpu"]["generator_cores"]})
        log(f"  {rate:>8.0f}/s  p99 {result['p99_ms']} ms  achieved {result['achieved_rate']}/s  "
            f"errors {result['errors']}  {'ok' if ok else 'FAIL'}")
        return ok

    best, failed = 0.0, None
    rate = start
    while rate <= CEILING:
        if await attempt(rate):
            best = rate
            rate *= GROWTH
        else:
            failed = rate
            break
    while not best and failed is not None and failed / 2 >= 50:  # even the start failed: step down
        if await attempt(failed / 2):
            best = failed / 2
        else:
            failed /= 2
    if failed is not None and best:
        for _ in range(REFINE):
            middle = (best + failed) / 2
            if await attempt(middle):
                best = middle
            else:
                failed = middle
    return {"max_rate": round(best), "first_failing_rate": round(failed) if failed else None, "steps": steps}
