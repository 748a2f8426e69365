"""Is "accepted" durable? The check every edge and worker process makes at start.

"Accepted = appended to a Redis Stream" is only as durable as Redis is configured to be. Production
runs Redis with AOF (``appendonly yes``, ``appendfsync everysec`` or ``always``) and
``maxmemory-policy noeviction``. Anything else is logged as a prominent warning saying what can be
lost and how to fix it; with ``require=True`` (``PRICING_EDGE_REQUIRE_DURABLE=1``) the process refuses
to start instead (:class:`NotDurable`). On Redis Cluster every node is checked — masters, and replicas
too, since a failover makes a replica the master — and each problem names its node. The embedded
store keeps nothing at all: a warning, or a refusal under ``require``.

Usage (both processes)::

    report = await check_durability(store, require=bool(settings.require_durable))
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.redis_client import where

log = logging.getLogger(__name__)

FIX = ("  Fix: in redis.conf (or CONFIG SET ..., then CONFIG REWRITE; on managed Redis, its parameter group):\n"
       "      appendonly yes\n"
       "      appendfsync everysec\n"
       "      maxmemory-policy noeviction")
REQUIRE_HINT = "  Set PRICING_EDGE_REQUIRE_DURABLE=1 to refuse to start instead of warning."
AOF_OFF = ("AOF is off (appendonly no): on a Redis restart, every accepted webhook and ERP event not yet "
           "processed, and every queued order, is lost — the sender already got its 2xx and will not send "
           "it again.")
FSYNC_NO = ("appendfsync is 'no': the OS decides when the AOF reaches the disk (typically every 30 s); "
            "a crash of the host loses the accepted webhooks, events and queued orders of that window.")
EMBEDDED = ("the embedded store keeps nothing: everything (accepted webhooks and events, queued orders, "
            "dedup keys, the ledger) lives in this process's memory and is lost when it exits. It is for the "
            "one-process demo and tests only; set PRICING_EDGE_REDIS_URL to a durable Redis.")


class NotDurable(RuntimeError):
    """Durability was required (``PRICING_EDGE_REQUIRE_DURABLE=1``) and the store does not provide it."""


@runtime_checkable
class _Configured(Protocol):
    async def server_configs(self) -> dict[str, dict[str, str]]:
        """Each server's settings by where it is (one server, or every node of a cluster)."""
        ...


@dataclass(frozen=True)
class DurabilityReport:
    store_kind: str  # "embedded", "redis" or "redis-cluster"
    aof: bool | None = None  # None: could not be read (on a cluster: True only if on everywhere)
    appendfsync: str | None = None  # None: unknown (INFO does not report it), or not the same everywhere
    maxmemory_policy: str | None = None  # None: unknown, or not the same everywhere
    source: str = "none"  # where the facts came from: "config", "info" or "none" (a cluster: each node's)
    problems: tuple[str, ...] = field(default_factory=tuple)  # what can be lost, one sentence each
    notes: tuple[str, ...] = field(default_factory=tuple)  # unknowns that do not count as problems
    nodes: Mapping[str, DurabilityReport] = field(default_factory=dict)  # a cluster: each node's own

    @property
    def durable(self) -> bool:
        return not self.problems


def assess(settings: dict[str, str], store_kind: str = "redis") -> DurabilityReport:
    """The verdict on one server's settings, as :meth:`RedisStore.server_configs` returns them (pure)."""
    if "appendonly" in settings or "maxmemory-policy" in settings:
        source = "config"
        aof_raw, policy = settings.get("appendonly"), settings.get("maxmemory-policy")
        aof = None if aof_raw is None else aof_raw.strip().lower() == "yes"
        fsync = settings.get("appendfsync")
    elif "aof_enabled" in settings or "maxmemory_policy" in settings:
        source = "info"
        aof_raw, policy = settings.get("aof_enabled"), settings.get("maxmemory_policy")
        aof = None if aof_raw is None else aof_raw.strip() == "1"
        fsync = None
    else:
        source, aof, policy, fsync = "none", None, None, None
    policy = policy.strip().lower() if policy is not None else None
    fsync = fsync.strip().lower() if fsync is not None else None

    problems: list[str] = []
    notes: list[str] = []
    if aof is None:
        problems.append("whether AOF is on could not be read (neither CONFIG GET appendonly nor INFO persistence "
                        "answered): assume it is off — " + AOF_OFF)
    elif not aof:
        problems.append(AOF_OFF)
    elif fsync == "no":
        problems.append(FSYNC_NO)
    elif fsync is None:
        notes.append("appendfsync could not be read (CONFIG is unavailable): make sure it is everysec or always.")
    if policy is None:
        problems.append("maxmemory-policy could not be read: assume it may evict — streams, dedup keys and ledger "
                        "entries evicted under memory pressure mean orders could be lost or posted twice.")
    elif policy != "noeviction":
        problems.append(f"maxmemory-policy is {policy} (not noeviction): under memory pressure Redis evicts keys — "
                        "intake and queue streams, dedup keys and ledger entries. Orders could be lost, or posted "
                        "twice once their dedup key or ledger claim is gone.")
    return DurabilityReport(store_kind, aof, fsync, policy, source, tuple(problems), tuple(notes))


def combine(store_kind: str, nodes: Mapping[str, DurabilityReport]) -> DurabilityReport:
    """One verdict over a cluster's nodes: durable only if every node is; each problem names its node."""
    if len(nodes) == 1:
        return next(iter(nodes.values()))

    def same(values: list[str | None]) -> str | None:
        return values[0] if values and all(v == values[0] for v in values) else None

    reports = list(nodes.values())
    aofs = [r.aof for r in reports]
    aof = False if False in aofs else (True if aofs and all(aofs) else None)
    problems = tuple(f"{name}: {problem}" for name, r in nodes.items() for problem in r.problems)
    notes = tuple(f"{name}: {note}" for name, r in nodes.items() for note in r.notes)
    return DurabilityReport(store_kind, aof, same([r.appendfsync for r in reports]),
                            same([r.maxmemory_policy for r in reports]),
                            same([r.source for r in reports]) or "mixed",
                            problems if nodes else ("no Redis node answered.",), notes, dict(nodes))


def _where(store: Store) -> str:
    """The Redis URL without credentials, for the log."""
    url = getattr(store, "url", None)
    kind = "Redis Cluster" if store.kind == "redis-cluster" else "Redis"
    return f"{kind} at {where(url)}" if isinstance(url, str) else kind


_TOLD: weakref.WeakSet[Store] = weakref.WeakSet()


async def check_durability(store: Store, *, require: bool) -> DurabilityReport:
    """Check that what the store accepts survives a restart and memory pressure; log what does not.

    Not durable: a multi-line WARNING naming what can be lost and the fix; with ``require``, raise
    :class:`NotDurable` (the process must not start). A Redis that cannot be asked at all counts as
    not durable (unknown), so ``require`` refuses then too.
    """
    if store.kind == "embedded":
        report = DurabilityReport(store.kind, problems=(EMBEDDED,))
        if store not in _TOLD:  # the demo's edge and worker share one store: say it once
            _TOLD.add(store)
            log.warning("NOT DURABLE — %s", EMBEDDED)
        if require:
            raise NotDurable(f"PRICING_EDGE_REQUIRE_DURABLE=1 but {EMBEDDED}")
        return report

    where = _where(store)
    if isinstance(store, _Configured):
        try:
            configs = await store.server_configs()
            report = combine(store.kind, {node: assess(config, store.kind) for node, config in configs.items()})
        except StoreError as exc:
            report = DurabilityReport(store.kind, problems=(
                f"the durability settings could not be read ({exc}): nothing is known about AOF or eviction.",))
    else:
        report = DurabilityReport(store.kind, problems=("this Redis store cannot report its server settings.",))

    if report.durable:
        log.info("%s is durable: AOF on (appendfsync %s), maxmemory-policy %s%s", where,
                 report.appendfsync or "unknown", report.maxmemory_policy,
                 "".join(f"; {note}" for note in report.notes))
        return report
    lines = [f"NOT DURABLE — {where} can lose what pricing-edge has accepted:"]
    lines += [f"  - {problem}" for problem in report.problems]
    lines += [f"  - note: {note}" for note in report.notes]
    lines.append(FIX)
    if not require:
        lines.append(REQUIRE_HINT)
    message = "\n".join(lines)
    log.warning("%s", message)
    if require:
        raise NotDurable("PRICING_EDGE_REQUIRE_DURABLE=1 and the store is not durable; refusing to start.\n"
                         + message)
    return report
