"""What the worker remembers of BigCommerce's copy of the ERP's records: per record, the fingerprint of what
BigCommerce holds (``domain/bc_mirror.py``), and the *doubts*: records of a batch sent but not confirmed.

A batch is marked doubtful before it is sent; its fingerprints are stored, then its doubts cleared, after
BigCommerce accepted it. A worker killed in between leaves the doubt behind; the next run re-reads
those records from BigCommerce instead of writing them again. One store's keys share a hash tag
(``{bcmirror:<store_hash>}``), so a Redis Cluster keeps each store's state in one slot.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pricing_edge.domain.bc_mirror import Known
from pricing_edge.store.base import Store
from pricing_edge.store.redis_store import RedisStore, mapped

CHUNK = 1000


class MirrorState(Protocol):
    async def known(self, kind: str, keys: Iterable[str]) -> dict[str, Known | None]: ...
    async def remember(self, kind: str, known: Mapping[str, Known | None]) -> None:
        """Store fingerprints (None: BigCommerce holds no such record) and clear these keys' doubts."""
        ...
    async def doubt(self, kind: str, keys: Iterable[str]) -> None: ...
    async def doubts(self, kind: str) -> list[str]: ...
    async def forget(self, kind: str) -> None:
        """Drop every fingerprint (a full re-read follows)."""
        ...


class LocalMirrorState:
    """In this process only (the embedded store of the demo and tests)."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, str]] = {}
        self._doubts: dict[str, set[str]] = {}

    async def known(self, kind: str, keys: Iterable[str]) -> dict[str, Known | None]:
        table = self._known.get(kind, {})
        return {key: Known.decode(table.get(key)) for key in keys}

    async def remember(self, kind: str, known: Mapping[str, Known | None]) -> None:
        table = self._known.setdefault(kind, {})
        for key, value in known.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value.encode()
        self._doubts.setdefault(kind, set()).difference_update(known)

    async def doubt(self, kind: str, keys: Iterable[str]) -> None:
        self._doubts.setdefault(kind, set()).update(keys)

    async def doubts(self, kind: str) -> list[str]:
        return sorted(self._doubts.get(kind, set()))

    async def forget(self, kind: str) -> None:
        self._known.pop(kind, None)


class RedisMirrorState:
    """A hash of fingerprints and a set of doubts per kind ("prices", "inventory") and store."""

    def __init__(self, client: Any, prefix: str, store_hash: str) -> None:
        self.client = client
        self.base = f"{prefix}{{bcmirror:{store_hash}}}"

    def _table(self, kind: str) -> str:
        return f"{self.base}:{kind}:known"

    def _doubts(self, kind: str) -> str:
        return f"{self.base}:{kind}:doubts"

    @mapped
    async def known(self, kind: str, keys: Iterable[str]) -> dict[str, Known | None]:
        wanted = list(keys)
        found: dict[str, Known | None] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            values = await self.client.hmget(self._table(kind), chunk)
            found.update({key: Known.decode(value) for key, value in zip(chunk, values, strict=True)})
        return found

    @mapped
    async def remember(self, kind: str, known: Mapping[str, Known | None]) -> None:
        present = {key: value.encode() for key, value in known.items() if value is not None}
        absent = [key for key, value in known.items() if value is None]
        # Fingerprints first, then the doubts: cut short between them, a doubt outlives its fingerprint and
        # only costs a re-read. No MULTI: a Redis Cluster pipeline need not support it.
        async with self.client.pipeline(transaction=False) as pipe:
            if present:
                pipe.hset(self._table(kind), mapping=present)
            if absent:
                pipe.hdel(self._table(kind), *absent)
            if known:
                pipe.srem(self._doubts(kind), *known)
            await pipe.execute()

    @mapped
    async def doubt(self, kind: str, keys: Iterable[str]) -> None:
        chosen = list(keys)
        if chosen:
            await self.client.sadd(self._doubts(kind), *chosen)

    @mapped
    async def doubts(self, kind: str) -> list[str]:
        return sorted(value.decode() for value in await self.client.smembers(self._doubts(kind)))

    @mapped
    async def forget(self, kind: str) -> None:
        await self.client.delete(self._table(kind))


def mirror_state(store: Store, store_hash: str) -> MirrorState:
    """The store's mirror state: in Redis for the Redis store, else in this process."""
    if isinstance(store, RedisStore):
        return RedisMirrorState(store.client, store.keys.prefix, store_hash)
    return LocalMirrorState()
