"""The sync ledger in Redis: a HASH per BigCommerce id, a STRING per ERP id pointing back; claim and
link are Lua scripts so uniqueness holds however many workers race.

Keys: ``<prefix>{ledger:<flow>}:bc:<id>`` (HASH of ``LedgerEntry`` fields) and
``<prefix>{ledger:<flow>}:erp:<id>`` (the BigCommerce id). One hash tag per flow, so ``link`` checks and
writes both sides in one script on Redis Cluster too: a flow's ledger lives in one slot (about 0.5 KB
an entry — a million orders are about 0.5 GB on that slot's master).
"""
from __future__ import annotations

from typing import Any

from pricing_edge.store.keys import Keys
from pricing_edge.store.ledger import INDEXED_STATUSES, LedgerConflict, LedgerEntry, now_ms
from pricing_edge.store.redis_store import RedisStore, mapped

# KEYS: bc hash. ARGV: flow, bc id, token, now, ttl ms, correlation.
_CLAIM = """
local token, until_ms = redis.call('HGET', KEYS[1], 'claim_token'), redis.call('HGET', KEYS[1], 'claim_until_ms')
local now = tonumber(ARGV[4])
if token and token ~= '' and token ~= ARGV[3] and tonumber(until_ms or '0') > now then return 0 end
redis.call('HSET', KEYS[1], 'flow', ARGV[1], 'bc_id', ARGV[2], 'claim_token', ARGV[3],
           'claim_until_ms', now + tonumber(ARGV[5]), 'correlation_id', ARGV[6], 'updated_ms', now)
local erp = redis.call('HGET', KEYS[1], 'erp_id')
if not erp or erp == '' then redis.call('HSET', KEYS[1], 'status', 'claimed') end
return 1
"""
# KEYS: bc hash, erp key, then the status index sets (left: the entry is synced). ARGV: flow, bc id, erp id, now, correlation, has detail ('1' or ''), detail.
_LINK = """
local mine = redis.call('HGET', KEYS[1], 'erp_id')
local theirs = redis.call('GET', KEYS[2])
if (mine and mine ~= '' and mine ~= ARGV[3]) or (theirs and theirs ~= ARGV[2]) then
  return {mine or '', theirs or ''}
end
redis.call('SET', KEYS[2], ARGV[2])
for i = 3, #KEYS do redis.call('SREM', KEYS[i], ARGV[2]) end
redis.call('HSET', KEYS[1], 'flow', ARGV[1], 'bc_id', ARGV[2], 'erp_id', ARGV[3], 'status', 'synced',
           'last_error', '', 'correlation_id', ARGV[5], 'last_synced_ms', ARGV[4], 'updated_ms', ARGV[4],
           'claim_token', '', 'claim_until_ms', 0)
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'detail', ARGV[7]) end
return 1
"""

# KEYS: bc hash, then one index set per INDEXED_STATUSES. ARGV: bc id, status, then field/value pairs.
_RECORD = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
for i = 2, #KEYS do
  if KEYS[i]:sub(-(#ARGV[2] + 8)) == ':status:' .. ARGV[2] then redis.call('SADD', KEYS[i], ARGV[1])
  else redis.call('SREM', KEYS[i], ARGV[1]) end
end
return 1
"""


class RedisLedger:
    def __init__(self, store: RedisStore, keys: Keys | None = None) -> None:
        self.keys = keys or store.keys
        self.client: Any = store.client
        self._claim = self.client.register_script(_CLAIM)
        self._link = self.client.register_script(_LINK)
        self._record = self.client.register_script(_RECORD)

    def _indexes(self, flow: str) -> list[str]:
        return [self.keys.ledger_status(flow, status) for status in INDEXED_STATUSES]

    def _bc(self, flow: str, bc_id: str) -> str:
        return self.keys.ledger_bc(flow, bc_id)

    def _erp(self, flow: str, erp_id: str) -> str:
        return self.keys.ledger_erp(flow, erp_id)

    @mapped
    async def get(self, flow: str, bc_id: str) -> LedgerEntry | None:
        raw: Any = await self.client.hgetall(self._bc(flow, bc_id))
        if not raw:
            return None
        return LedgerEntry.from_fields({k.decode(): v.decode() for k, v in raw.items()})

    @mapped
    async def with_status(self, flow: str, status: str) -> list[str]:
        members: Any = await self.client.smembers(self.keys.ledger_status(flow, status))
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    @mapped
    async def bc_id_for(self, flow: str, erp_id: str) -> str | None:
        value: Any = await self.client.get(self._erp(flow, erp_id))
        return value.decode() if value else None

    @mapped
    async def claim(self, flow: str, bc_id: str, token: str, ttl_ms: int, correlation_id: str) -> bool:
        return bool(await self._claim(keys=[self._bc(flow, bc_id)],
                                      args=[flow, bc_id, token, now_ms(), ttl_ms, correlation_id]))

    @mapped
    async def link(self, flow: str, bc_id: str, erp_id: str, correlation_id: str, *,
                   detail: str | None = None) -> LedgerEntry:
        result = await self._link(keys=[self._bc(flow, bc_id), self._erp(flow, erp_id), *self._indexes(flow)],
                                  args=[flow, bc_id, erp_id, now_ms(), correlation_id,
                                        "" if detail is None else "1", detail or ""])
        if result != 1:
            mine, theirs = (part.decode() if isinstance(part, bytes) else part for part in result)
            raise LedgerConflict(f"{flow}: {bc_id} ↔ {erp_id} contradicts {mine or '-'} / {theirs or '-'}")
        entry = await self.get(flow, bc_id)
        assert entry is not None
        return entry

    @mapped
    async def record(self, flow: str, bc_id: str, *, status: str, correlation_id: str, last_error: str = "",
                     detail: str | None = None, synced: bool = False) -> LedgerEntry:
        now = now_ms()
        values: dict[str, Any] = {"flow": flow, "bc_id": bc_id, "status": status, "last_error": last_error,
                                  "correlation_id": correlation_id, "updated_ms": now, "claim_token": "",
                                  "claim_until_ms": 0}
        if detail is not None:
            values["detail"] = detail
        if synced:
            values["last_synced_ms"] = now
        # The entry and the status indexes in one step: a held order is listed exactly while it is held.
        await self._record(keys=[self._bc(flow, bc_id), *self._indexes(flow)],
                           args=[bc_id, status, *(part for pair in values.items() for part in pair)])
        entry = await self.get(flow, bc_id)
        assert entry is not None
        return entry
