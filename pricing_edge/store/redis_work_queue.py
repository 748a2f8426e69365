"""The worker's queue in Redis (see ``work_queue`` for the model). Every state change is one Lua
script, so a crash between two commands cannot leave a message both queued and acknowledged twice,
or popped and not dead-lettered.

Keys, one hash tag per flow (``keys.Keys.queue``: ``<prefix>{wq:<flow>}:...``, one Redis Cluster slot):
``ready`` (ZSET entity → due or lease-expiry ms), ``q:<entity>`` (LIST), ``owners`` (HASH entity →
lease token), ``retrying`` (SET), ``since`` (ZSET entity → its head's enqueue ms, for lag), ``depth``
(counter), ``stats`` (HASH), ``dlq`` (STREAM), ``routed:<stream>:<entry id>`` (routing dedup). Every
script is given every key it touches (``KEYS``), as Redis Cluster requires. Taking is two steps for
that reason: a script leases the entity due longest (it cannot name that entity's queue in advance),
then the head is read; the lease, not atomicity, makes the head safe to read, since only the lease
holder pops, and a holder that dies between the steps simply lets its lease run out.

Routing is two steps as well, since the intake stream has its own tag: queue the message and mark
the entry routed (one script), then acknowledge the entry. A router that dies between them leaves the
entry pending; the next one re-routes it, finds the mark, and only acknowledges.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pricing_edge.store.base import StreamEntry
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore, mapped
from pricing_edge.store.work_queue import FlowCounts, Taken, now_ms, pack, unpack

PARTS = ("ready", "since", "depth", "owners", "retrying", "stats", "dlq")
# Every script below gets the flow's keys first, in this order, then its own.
_FLOW_KEYS = """
local ready, since, depth, owners, retrying, stats, dlq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
"""
_PUSH = _FLOW_KEYS + """
local function push(q, entity, item, now)
  local n = redis.call('RPUSH', q, item)
  redis.call('INCR', depth)
  if n == 1 then
    redis.call('ZADD', ready, 'NX', now, entity)
    redis.call('ZADD', since, now, entity)
  end
end
"""
# KEYS: flow keys, entity queue, routed mark. ARGV: entity, item, now, mark ttl ms.
_ROUTE = _PUSH + """
if not redis.call('SET', KEYS[9], '1', 'NX', 'PX', ARGV[4]) then return 0 end
push(KEYS[8], ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
"""
# KEYS: flow keys, entity queue. ARGV: entity, item, now.
_ENQUEUE = _PUSH + "push(KEYS[8], ARGV[1], ARGV[2], tonumber(ARGV[3])) return 1"
# KEYS: flow keys, entity queue. ARGV: entity, item, now, dlq entry id.
_REPLAY = _PUSH + """
if redis.call('XDEL', dlq, ARGV[4]) == 0 then return 0 end
push(KEYS[8], ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
"""
# KEYS: flow keys. ARGV: now, lease ms, token. Leases the entity due longest; its name, or nil.
_LEASE_DUE = _FLOW_KEYS + """
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', ready, '-inf', now, 'LIMIT', 0, 1)
if #due == 0 then return false end
redis.call('ZADD', ready, now + tonumber(ARGV[2]), due[1])
redis.call('HSET', owners, due[1], ARGV[3])
return due[1]
"""
# KEYS: flow keys, entity queue. ARGV: entity, token. A leased entity whose queue turned out empty
# (left behind by a partial restore): 1 dropped from the indexes, 2 a message arrived meanwhile, 0 not ours.
_FORGET = _FLOW_KEYS + """
if redis.call('HGET', owners, ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('LLEN', KEYS[8]) > 0 then return 2 end
redis.call('ZREM', ready, ARGV[1]); redis.call('ZREM', since, ARGV[1]); redis.call('HDEL', owners, ARGV[1])
return 1
"""
# KEYS: flow keys. ARGV: entity, token, expiry ms.
_RENEW = _FLOW_KEYS + """
if redis.call('HGET', owners, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', ready, 'XX', ARGV[3], ARGV[1])
return 1
"""
# KEYS: flow keys, entity queue. ARGV: entity, token, now, 'ok' | 'dead', then the dead letter's field/value pairs.
_POP = _FLOW_KEYS + """
local q, entity, now = KEYS[8], ARGV[1], tonumber(ARGV[3])
if redis.call('HGET', owners, entity) ~= ARGV[2] then return false end
redis.call('LPOP', q)
redis.call('DECR', depth)
redis.call('HDEL', owners, entity)
redis.call('SREM', retrying, entity)
local head = redis.call('LINDEX', q, 0)
if head then
  redis.call('ZADD', ready, now, entity)
  redis.call('ZADD', since, tonumber(string.match(head, '^(%d+)|')), entity)
else
  redis.call('ZREM', ready, entity); redis.call('ZREM', since, entity)
end
if ARGV[4] == 'ok' then
  redis.call('HSET', stats, 'last_success', now)
  return 'ok'
end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
return redis.call('XADD', dlq, '*', unpack(fields))
"""
# KEYS: flow keys, entity queue. ARGV: entity, token, item, due ms.
_RETRY = _FLOW_KEYS + """
local entity = ARGV[1]
if redis.call('HGET', owners, entity) ~= ARGV[2] then return 0 end
redis.call('LSET', KEYS[8], 0, ARGV[3])
redis.call('ZADD', ready, ARGV[4], entity)
redis.call('HDEL', owners, entity)
redis.call('SADD', retrying, entity)
return 1
"""
# KEYS: flow keys. ARGV: now.
_COUNTS = _FLOW_KEYS + """
local now = tonumber(ARGV[1])
local in_flight = 0
for _, entity in ipairs(redis.call('HKEYS', owners)) do
  local score = redis.call('ZSCORE', ready, entity)
  if score and tonumber(score) > now then in_flight = in_flight + 1 end
end
local oldest = redis.call('ZRANGE', since, 0, 0, 'WITHSCORES')
return {tonumber(redis.call('GET', depth) or '0'), redis.call('ZCARD', since), in_flight,
        redis.call('SCARD', retrying), oldest[2] or false, redis.call('XLEN', dlq),
        redis.call('HGET', stats, 'last_success') or false}
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
        self._lease_due, self._forget, self._renew = register(_LEASE_DUE), register(_FORGET), register(_RENEW)
        self._pop, self._retry, self._counts = register(_POP), register(_RETRY), register(_COUNTS)
        self._lease = register(_LEASE)

    def flow_keys(self, flow: str) -> list[str]:
        return [self.keys.queue(flow, part) for part in PARTS]

    def entity_keys(self, flow: str, entity: str) -> list[str]:
        return [*self.flow_keys(flow), self.keys.entity_queue(flow, entity)]

    @mapped
    async def route(self, flow: str, entity: str, body: bytes, *, dedup_key: str, dedup_ttl_seconds: float,
                    stream: str, group: str, entry_id: str) -> bool:
        keys = [*self.entity_keys(flow, entity), self.keys.routed(flow, dedup_key)]
        fresh = bool(await self._route(keys=keys, args=[entity, pack(now_ms(), body), now_ms(),
                                                        max(1, int(dedup_ttl_seconds * 1000))]))
        await self.client.xack(self.keys.stream(stream), group, entry_id)
        return fresh

    @mapped
    async def ack_only(self, stream: str, group: str, entry_id: str) -> None:
        await self.client.xack(self.keys.stream(stream), group, entry_id)

    @mapped
    async def enqueue(self, flow: str, entity: str, body: bytes) -> None:
        await self._enqueue(keys=self.entity_keys(flow, entity), args=[entity, pack(now_ms(), body), now_ms()])

    @mapped
    async def take(self, flow: str, token: str, lease_ms: int) -> Taken | None:
        while True:
            leased = await self._lease_due(keys=self.flow_keys(flow), args=[now_ms(), lease_ms, token])
            if not leased:
                return None
            entity = _text(leased)
            while True:
                head = await self.client.lindex(self.keys.entity_queue(flow, entity), 0)
                if head is not None:
                    return Taken(flow, entity, token, bytes(head))
                if await self._forget(keys=self.entity_keys(flow, entity), args=[entity, token]) != 2:
                    break  # forgotten (or no longer ours): lease the next due entity

    @mapped
    async def renew(self, taken: Taken, lease_ms: int) -> bool:
        return bool(await self._renew(keys=self.flow_keys(taken.flow),
                                      args=[taken.entity, taken.token, now_ms() + lease_ms]))

    @mapped
    async def complete(self, taken: Taken) -> bool:
        return bool(await self._pop(keys=self.entity_keys(taken.flow, taken.entity),
                                    args=[taken.entity, taken.token, now_ms(), "ok"]))

    @mapped
    async def retry(self, taken: Taken, body: bytes, due_ms: int) -> bool:
        item = pack(unpack(taken.item)[0], body)
        return bool(await self._retry(keys=self.entity_keys(taken.flow, taken.entity),
                                      args=[taken.entity, taken.token, item, due_ms]))

    @mapped
    async def dead_letter(self, taken: Taken, fields: Mapping[str, bytes]) -> str | None:
        flat: list[Any] = [taken.entity, taken.token, now_ms(), "dead"]
        for name, value in fields.items():
            flat += [name, value]
        result = await self._pop(keys=self.entity_keys(taken.flow, taken.entity), args=flat)
        return _text(result) if result else None

    @mapped
    async def dead_letters(self, flow: str, count: int) -> list[StreamEntry]:
        entries: Any = await self.client.xrange(self.keys.queue(flow, "dlq"), count=count)
        return [(_text(eid), {_text(k): v for k, v in fields.items()}) for eid, fields in entries]

    @mapped
    async def dead_letter_entry(self, flow: str, entry_id: str) -> dict[str, bytes] | None:
        entries: Any = await self.client.xrange(self.keys.queue(flow, "dlq"), min=entry_id, max=entry_id)
        return {_text(k): v for k, v in entries[0][1].items()} if entries else None

    @mapped
    async def drop_dead_letter(self, flow: str, entry_id: str) -> bool:
        return bool(await self.client.xdel(self.keys.queue(flow, "dlq"), entry_id))

    @mapped
    async def replay_dead_letter(self, flow: str, entry_id: str, entity: str, body: bytes) -> bool:
        return bool(await self._replay(keys=self.entity_keys(flow, entity),
                                       args=[entity, pack(now_ms(), body), now_ms(), entry_id]))

    @mapped
    async def counts(self, flow: str) -> FlowCounts:
        depth, entities, in_flight, retrying, oldest, dlq, last = await self._counts(keys=self.flow_keys(flow),
                                                                                     args=[now_ms()])
        return FlowCounts(int(depth), int(entities), int(in_flight), int(retrying),
                          int(float(oldest)) if oldest else None, int(dlq), int(last) if last else None)

    @mapped
    async def queued(self, flow: str, entity: str, limit: int | None = None) -> list[bytes]:
        last = -1 if limit is None else limit - 1
        items: Any = await self.client.lrange(self.keys.entity_queue(flow, entity), 0, last)
        return [unpack(bytes(item))[1] for item in items]

    @mapped
    async def hold_lease(self, name: str, token: str, ttl_ms: int) -> bool:
        return bool(await self._lease(keys=[self.keys.lease(name)], args=[token, ttl_ms]))
