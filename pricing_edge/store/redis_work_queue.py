"""The worker's queue in Redis (see ``work_queue`` for the model). Every state change is one Lua
script, so a crash between two commands cannot leave a message both queued and acknowledged twice,
or popped and not dead-lettered.

Keys, under ``<prefix>wq:<flow>:``: ``ready`` (ZSET entity → due or lease-expiry ms), ``q:<entity>``
(LIST), ``owners`` (HASH entity → lease token), ``retrying`` (SET), ``since`` (ZSET entity → its
head's enqueue ms, for lag), ``depth`` (counter), ``stats`` (HASH), ``dlq`` (STREAM). The scripts
build the per-entity key names inside Lua: fine on a single Redis (what DESIGN.md runs), not on
Redis Cluster.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pricing_edge.store.base import StreamEntry
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore, mapped
from pricing_edge.store.work_queue import FlowCounts, Taken, now_ms, pack, unpack

_PUSH = """
local function push(base, entity, item, now)
  local n = redis.call('RPUSH', base .. 'q:' .. entity, item)
  redis.call('INCR', base .. 'depth')
  if n == 1 then
    redis.call('ZADD', base .. 'ready', 'NX', now, entity)
    redis.call('ZADD', base .. 'since', now, entity)
  end
end
"""
# KEYS: dedup key, intake stream. ARGV: base, entity, item, now, dedup ttl ms, group, entry id.
_ROUTE = _PUSH + """
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[5])
if fresh then push(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])) end
redis.call('XACK', KEYS[2], ARGV[6], ARGV[7])
if fresh then return 1 end
return 0
"""
# ARGV: base, entity, item, now.
_ENQUEUE = _PUSH + "push(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])) return 1"
# ARGV: base, entity, item, now, dlq entry id.
_REPLAY = _PUSH + """
if redis.call('XDEL', ARGV[1] .. 'dlq', ARGV[5]) == 0 then return 0 end
push(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
return 1
"""
# ARGV: base, now, lease ms, token.
_TAKE = """
local base, now = ARGV[1], tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', base .. 'ready', '-inf', now, 'LIMIT', 0, 1)
if #due == 0 then return false end
local entity = due[1]
local head = redis.call('LINDEX', base .. 'q:' .. entity, 0)
if not head then
  redis.call('ZREM', base .. 'ready', entity); redis.call('ZREM', base .. 'since', entity)
  return false
end
redis.call('ZADD', base .. 'ready', now + tonumber(ARGV[3]), entity)
redis.call('HSET', base .. 'owners', entity, ARGV[4])
return {entity, head}
"""
# ARGV: base, entity, token, expiry ms.
_RENEW = """
if redis.call('HGET', ARGV[1] .. 'owners', ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('ZADD', ARGV[1] .. 'ready', 'XX', ARGV[4], ARGV[2])
return 1
"""
# ARGV: base, entity, token, now, 'ok' | 'dead', then the dead-letter entry's field/value pairs.
_POP = """
local base, entity, now = ARGV[1], ARGV[2], tonumber(ARGV[4])
if redis.call('HGET', base .. 'owners', entity) ~= ARGV[3] then return false end
local q = base .. 'q:' .. entity
redis.call('LPOP', q)
redis.call('DECR', base .. 'depth')
redis.call('HDEL', base .. 'owners', entity)
redis.call('SREM', base .. 'retrying', entity)
local head = redis.call('LINDEX', q, 0)
if head then
  redis.call('ZADD', base .. 'ready', now, entity)
  redis.call('ZADD', base .. 'since', tonumber(string.match(head, '^(%d+)|')), entity)
else
  redis.call('ZREM', base .. 'ready', entity); redis.call('ZREM', base .. 'since', entity)
end
if ARGV[5] == 'ok' then
  redis.call('HSET', base .. 'stats', 'last_success', now)
  return 'ok'
end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
return redis.call('XADD', base .. 'dlq', '*', unpack(fields))
"""
# ARGV: base, entity, token, item, due ms.
_RETRY = """
local base, entity = ARGV[1], ARGV[2]
if redis.call('HGET', base .. 'owners', entity) ~= ARGV[3] then return 0 end
redis.call('LSET', base .. 'q:' .. entity, 0, ARGV[4])
redis.call('ZADD', base .. 'ready', ARGV[5], entity)
redis.call('HDEL', base .. 'owners', entity)
redis.call('SADD', base .. 'retrying', entity)
return 1
"""
# ARGV: base, now.
_COUNTS = """
local base, now = ARGV[1], tonumber(ARGV[2])
local in_flight = 0
for _, entity in ipairs(redis.call('HKEYS', base .. 'owners')) do
  local score = redis.call('ZSCORE', base .. 'ready', entity)
  if score and tonumber(score) > now then in_flight = in_flight + 1 end
end
local oldest = redis.call('ZRANGE', base .. 'since', 0, 0, 'WITHSCORES')
return {tonumber(redis.call('GET', base .. 'depth') or '0'), redis.call('ZCARD', base .. 'since'), in_flight,
        redis.call('SCARD', base .. 'retrying'), oldest[2] or false, redis.call('XLEN', base .. 'dlq'),
        redis.call('HGET', base .. 'stats', 'last_success') or false}
"""

# KEYS: lease key. ARGV: token, ttl ms.
_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisWorkQueue:
    kind = "redis"

    def __init__(self, store: RedisStore, keys: Keys | None = None) -> None:
        self.keys = keys or store.keys
        self.client: Any = store.client
        register = self.client.register_script
        self._route, self._enqueue, self._replay = register(_ROUTE), register(_ENQUEUE), register(_REPLAY)
        self._take, self._renew, self._pop = register(_TAKE), register(_RENEW), register(_POP)
        self._retry, self._counts, self._lease = register(_RETRY), register(_COUNTS), register(_LEASE)

    def base(self, flow: str) -> str:
        return f"{self.keys.prefix}wq:{flow}:"

    @mapped
    async def route(self, flow: str, entity: str, body: bytes, *, dedup_key: str, dedup_ttl_seconds: float,
                    stream: str, group: str, entry_id: str) -> bool:
        keys = [self.keys.dedup("route", dedup_key), self.keys.stream(stream)]
        args = [self.base(flow), entity, pack(now_ms(), body), now_ms(), max(1, int(dedup_ttl_seconds * 1000)),
                group, entry_id]
        return bool(await self._route(keys=keys, args=args))

    @mapped
    async def ack_only(self, stream: str, group: str, entry_id: str) -> None:
        await self.client.xack(self.keys.stream(stream), group, entry_id)

    @mapped
    async def enqueue(self, flow: str, entity: str, body: bytes) -> None:
        await self._enqueue(args=[self.base(flow), entity, pack(now_ms(), body), now_ms()])

    @mapped
    async def take(self, flow: str, token: str, lease_ms: int) -> Taken | None:
        result = await self._take(args=[self.base(flow), now_ms(), lease_ms, token])
        if not result:
            return None
        return Taken(flow, _text(result[0]), token, bytes(result[1]))

    @mapped
    async def renew(self, taken: Taken, lease_ms: int) -> bool:
        return bool(await self._renew(args=[self.base(taken.flow), taken.entity, taken.token, now_ms() + lease_ms]))

    @mapped
    async def complete(self, taken: Taken) -> bool:
        return bool(await self._pop(args=[self.base(taken.flow), taken.entity, taken.token, now_ms(), "ok"]))

    @mapped
    async def retry(self, taken: Taken, body: bytes, due_ms: int) -> bool:
        item = pack(unpack(taken.item)[0], body)
        return bool(await self._retry(args=[self.base(taken.flow), taken.entity, taken.token, item, due_ms]))

    @mapped
    async def dead_letter(self, taken: Taken, fields: Mapping[str, bytes]) -> str | None:
        flat: list[Any] = [self.base(taken.flow), taken.entity, taken.token, now_ms(), "dead"]
        for name, value in fields.items():
            flat += [name, value]
        result = await self._pop(args=flat)
        return _text(result) if result else None

    @mapped
    async def dead_letters(self, flow: str, count: int) -> list[StreamEntry]:
        entries: Any = await self.client.xrange(self.base(flow) + "dlq", count=count)
        return [(_text(eid), {_text(k): v for k, v in fields.items()}) for eid, fields in entries]

    @mapped
    async def dead_letter_entry(self, flow: str, entry_id: str) -> dict[str, bytes] | None:
        entries: Any = await self.client.xrange(self.base(flow) + "dlq", min=entry_id, max=entry_id)
        return {_text(k): v for k, v in entries[0][1].items()} if entries else None

    @mapped
    async def drop_dead_letter(self, flow: str, entry_id: str) -> bool:
        return bool(await self.client.xdel(self.base(flow) + "dlq", entry_id))

    @mapped
    async def replay_dead_letter(self, flow: str, entry_id: str, entity: str, body: bytes) -> bool:
        return bool(await self._replay(args=[self.base(flow), entity, pack(now_ms(), body), now_ms(), entry_id]))

    @mapped
    async def counts(self, flow: str) -> FlowCounts:
        depth, entities, in_flight, retrying, oldest, dlq, last = await self._counts(args=[self.base(flow), now_ms()])
        return FlowCounts(int(depth), int(entities), int(in_flight), int(retrying),
                          int(float(oldest)) if oldest else None, int(dlq), int(last) if last else None)

    @mapped
    async def queued(self, flow: str, entity: str) -> list[bytes]:
        items: Any = await self.client.lrange(self.base(flow) + "q:" + entity, 0, -1)
        return [unpack(bytes(item))[1] for item in items]

    @mapped
    async def hold_lease(self, name: str, token: str, ttl_ms: int) -> bool:
        return bool(await self._lease(keys=[f"{self.keys.prefix}lease:{name}"], args=[token, ttl_ms]))
