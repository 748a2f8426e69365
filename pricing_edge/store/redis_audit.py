"""The ops audit log in Redis: one stream, ``<prefix>audit:ops``, read newest first."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from pricing_edge.store.audit import MAX_ENTRIES, AuditEntry, logged
from pricing_edge.store.redis_store import RedisStore, mapped


class RedisAuditLog:
    def __init__(self, store: RedisStore) -> None:
        self.client: Any = store.client
        self.key = store.keys.stream("audit:ops")

    @mapped
    async def append(self, entry: AuditEntry) -> AuditEntry:
        entry_id = await self.client.xadd(self.key, entry.to_fields(), maxlen=MAX_ENTRIES, approximate=True)
        return logged(replace(entry, id=entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)))

    @mapped
    async def latest(self, count: int) -> list[AuditEntry]:
        rows = await self.client.xrevrange(self.key, count=count)
        return [AuditEntry.from_fields(entry_id.decode(), {k.decode(): v.decode(errors="replace")
                                                           for k, v in raw.items()})
                for entry_id, raw in rows]
