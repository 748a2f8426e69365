"""CPU time of processes from /proc (Linux): the edge's uvicorn master and its workers, the limit
app, the simulators. The load generator reports its own (Node's ``process.cpuUsage()``; the httpx
driver its process's ``os.times()``). CPU per request = CPU-seconds spent during a run / requests."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    return text[text.rindex(")") + 2:].split()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0 if it is gone or /proc is unavailable)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15 of stat)


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (uvicorn's worker processes)."""
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue.extend(children(current))
    return pids


def tree_cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    return {pid: process_cpu_seconds(pid) for root in pids for pid in tree(root)}


def self_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU-seconds spent between two samples (processes that appeared count from zero)."""
    return round(sum(after[pid] - before.get(pid, 0.0) for pid in after), 3)


def sample(groups: Mapping[str, Iterable[int]]) -> dict[str, dict[int, float]]:
    """CPU-seconds so far of each named group of process trees (``{"edge": [pid], "redis": [pid], ...}``)."""
    return {name: tree_cpu_seconds(pids) for name, pids in groups.items()}


def by_process(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], wall_s: float,
               per: Mapping[str, float]) -> dict[str, Any]:
    """Where a run's CPU went: per group, its CPU-seconds, cores, each process's share, and the CPU per unit
    of each of ``per`` (e.g. ``{"request": 12000, "event": 500}``) — the figure that says which process a
    scenario's cost lands on."""
    wall = max(wall_s, 0.001)
    found: dict[str, Any] = {}
    for name, start in before.items():
        end = after.get(name, {})
        spent = delta(start, end)
        found[name] = {"cpu_s": spent, "cores": round(spent / wall, 2),
                       "per_process": {str(pid): round(end[pid] - start.get(pid, 0.0), 3) for pid in end},
                       **{f"ms_per_{unit}": round(spent * 1000 / count, 4) for unit, count in per.items() if count}}
    return found


def redis_pid(url: str) -> int | None:
    """The pid of the Redis server at ``url`` if it runs on this machine (its CPU is then readable here)."""
    import redis

    if not any(host in url for host in ("localhost", "127.0.0.1")):
        return None
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        pid = client.info("server").get("process_id")
    except (redis.RedisError, OSError):
        return None
    finally:
        client.close()
    return int(pid) if pid else None
