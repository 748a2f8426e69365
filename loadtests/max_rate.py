"""The maximum sustainable rate: step the fixed rate up (×1.5) until a step fails, then bisect twice.

A step passes when, at that fixed rate, p99 ≤ 25 ms, nothing failed, nothing was left unanswered and
the achieved rate is within 3% of the target (a generator or server that cannot keep up fails too).

One noisy step does not decide the search: a rate whose step fails is tried once more, and it fails only
if it fails twice (a pause of the shared machine, or of a process, lands in one 11 s step's top 1% and
would otherwise end the search far below the capacity). Both attempts are in the report's ``steps``
(``attempt`` 1 and 2), each with where its server's CPU went (``cpu_by_process``) when the step says.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

P99_LIMIT_MS = 25.0
GROWTH = 1.5
REFINE = 2
CEILING = 60_000.0
ATTEMPTS = 2  # a rate fails only when this many steps at it failed
STEP_FIELDS = ("rate", "achieved_rate", "p50_ms", "p99_ms", "errors")
SLOW_WINDOWS_KEPT = 5


def passes(step: dict[str, Any]) -> bool:
    return (step["errors"] == 0 and step["p99_ms"] is not None and step["p99_ms"] <= P99_LIMIT_MS
            and step["achieved_rate"] >= 0.97 * step["rate"])


def step_record(result: dict[str, Any], ok: bool, attempt: int) -> dict[str, Any]:
    """A step as the report keeps it: its figures, the generator's cores, the server's CPU by process (when
    measured) and the first 100 ms windows whose slowest answer took over 25 ms (where a failing p99 is)."""
    record = {key: result[key] for key in STEP_FIELDS}
    record.update({"attempt": attempt, "ok": ok, "generator_cores": result["cpu"]["generator_cores"]})
    if "cpu_by_process" in result:
        record["cpu_by_process"] = result["cpu_by_process"]
    if not ok:
        record["slow_windows"] = result.get("slow_windows", [])[:SLOW_WINDOWS_KEPT]
    return record


async def search(step: Callable[[float], Awaitable[dict[str, Any]]], *, start: float,
                 log: Callable[[str], None] = print) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []

    async def attempt(rate: float) -> bool:
        """The rate passes at its first passing step, within ``ATTEMPTS`` steps."""
        for number in range(1, ATTEMPTS + 1):
            result = await step(round(rate))
            ok = passes(result)
            steps.append(step_record(result, ok, number))
            log(f"  {rate:>8.0f}/s  p99 {result['p99_ms']} ms  achieved {result['achieved_rate']}/s  "
                f"errors {result['errors']}  {'ok' if ok else 'FAIL'}"
                + (f" (attempt {number} of {ATTEMPTS})" if number > 1 or not ok else ""))
            if ok:
                return True
        return False

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
    return {"max_rate": round(best), "first_failing_rate": round(failed) if failed else None,
            "attempts_per_failing_rate": ATTEMPTS, "steps": steps}
