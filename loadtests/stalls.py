"""``python -m loadtests.stalls DIR``: sums up what ``loadtests/stall_probe`` wrote during a run — per
process, the full collections' CPU (count, longest) and the loop stalls in which the loop did more than
5 ms of CPU work in one task step (count, longest, the collections' share), which tasks' steps they were,
and the places their samples were taken in most often (the innermost frame of this project's code). All CPU time, not wall time: on a
busy machine a wall-clock stall is mostly a wait for a core. Run a scenario with the probe on::

    STALL_PROBE_DIR=/tmp/probe PYTHONPATH=loadtests/stall_probe python -m loadtests --scenario events ...
    python -m loadtests.stalls /tmp/probe
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any


LIMIT_MS = 5.0


def _where(stack: list[str]) -> str:
    ours = [frame for frame in stack if "pricing_edge/" in frame]
    return (ours or stack or ["?"])[-1]


def summary(directory: Path, all_processes: bool = False) -> dict[str, Any]:
    """Edge processes only (and the limit baseline's), unless ``all_processes``."""
    processes: dict[str, Any] = {}
    places: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for path in sorted(directory.glob("stalls-*.jsonl")):
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        full = [e["cpu_ms"] for e in entries if "cpu_ms" in e and e.get("gc") == 2]
        slow_gc = [e["cpu_ms"] for e in entries if "cpu_ms" in e and e.get("gc") in (0, 1)]
        argv = next((e["argv"] for e in entries if "argv" in e), "")
        if "serve" not in argv and "limit_app" not in argv and not all_processes:
            continue
        busy = [e for e in entries if "step" in e]
        steps.update(e["step"] for e in busy)
        for stall in busy:
            places.update(_where(stack) for stack in stall["stacks"])
        last: list[Any] = next((e["by_generation"] for e in reversed(entries) if "by_generation" in e), [])
        census = [e["tracked"] for e in entries if "tracked" in e]
        processes[f'{path.stem.split("-", 1)[1]} {argv}'] = {
            "tracked_objects_last_max": [census[-1], max(census)] if census else None,
            "collections_by_generation_count_cpu_ms_max_ms": last,
            "full_gc_cpu": {"count": len(full), "max_ms": max(full, default=0), "total_ms": round(sum(full), 1)},
            "young_gc_over_limit": len(slow_gc),
            "long_steps": {"count": len(busy), "max_ms": max((s["cpu_ms"] for s in busy), default=0),
                           "over_20ms": sum(s["cpu_ms"] > 20 for s in busy),
                           "gc_ms": round(sum(s["gc_cpu_ms"] for s in busy), 1),
                           "total_ms": round(sum(s["cpu_ms"] for s in busy), 1)}}
    return {"processes": processes, "long_steps_of": steps.most_common(10), "sampled_in": places.most_common(15)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.stalls", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--all", action="store_true", help="the simulators too")
    args = parser.parse_args()
    print(json.dumps(summary(args.directory, args.all), indent=2))


if __name__ == "__main__":
    main()
