"""Soft stock reservations: who holds how many units of a SKU, atomically, each hold expiring on its own.

Why this shape: hundreds of buyers may add the last units at once from many edge processes, so the
check "live holds + quantity ≤ promisable" and the write must be one atomic step — one Lua script
(one round trip) in Redis, one uninterrupted synchronous block in the embedded store. Expiry needs
no sweeper: per SKU a HASH holder → quantity plus a ZSET holder → expiry (ms, Redis's own clock,
so edge processes with skewed clocks agree); every script first drops the expired holders.

Keys, under the store's prefix (default ``pe:``): ``resv:q:<sku>`` (HASH), ``resv:e:<sku>`` (ZSET),
``resv:h:<holder>`` (SET of the holder's SKUs, so a whole cart is released in one step). Every key
carries a TTL just past its last hold, so abandoned keys vanish too. The holder-wide scripts build
the per-SKU key names inside Lua: fine on a single Redis (what DESIGN.md runs), not on Redis Cluster.

``promisable`` is the caller's available-to-promise *before* reservations (see
``domain.reservations.promisable``), ``None`` when unbounded (backorder): the hold is recorded,
never refused.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import redis.asyncio as aioredis

from pricing_edge.domain.reservations import DEFAULT_RESERVATION_TTL_SECONDS
from pricing_edge.store.redis_store import mapped as _mapped

TTL = DEFAULT_RESERVATION_TTL_SECONDS

_NOW_AND_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function prune(qkey, ekey)
  for _, h in ipairs(redis.call('ZRANGEBYSCORE', ekey, '-inf', now)) do redis.call('HDEL', qkey, h) end
  redis.call('ZREMRANGEBYSCORE', ekey, '-inf', now)
end
"""
# KEYS: qty hash, expiry zset, holder set. ARGV: holder, sku, mode (add|set), quantity, promisable (-1 = unbounded), ttl ms.
_HOLD = _NOW_AND_PRUNE + """
local qkey, ekey, hkey = KEYS[1], KEYS[2], KEYS[3]
local holder, sku, mode = ARGV[1], ARGV[2], ARGV[3]
local quantity, promisable, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
prune(qkey, ekey)
local current = tonumber(redis.call('HGET', qkey, holder) or '0')
local target = quantity
if mode == 'add' then target = current + quantity end
if target <= 0 then
  redis.call('HDEL', qkey, holder); redis.call('ZREM', ekey, holder); redis.call('SREM', hkey, sku)
  return 1
end
if target > current and promisable >= 0 then
  local total = 0
  for _, v in ipairs(redis.call('HVALS', qkey)) do total = total + tonumber(v) end
  if total - current + target > promisable then return 0 end
end
redis.call('HSET', qkey, holder, target); redis.call('ZADD', ekey, now + ttl, holder); redis.call('SADD', hkey, sku)
local last = tonumber(redis.call('ZRANGE', ekey, -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIREAT', qkey, last + 1000); redis.call('PEXPIREAT', ekey, last + 1000)
if redis.call('PTTL', hkey) < ttl then redis.call('PEXPIRE', hkey, ttl + 1000) end
return 1
"""
# KEYS: qty hash, expiry zset. Returns the live total.
_RESERVED = _NOW_AND_PRUNE + """
prune(KEYS[1], KEYS[2])
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
return total
"""
# KEYS: holder set. ARGV: prefix, holder, mode (read|take). Returns the live holds as [sku, qty, ...].
_HOLDINGS = _NOW_AND_PRUNE + """
local prefix, holder, mode = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for _, sku in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local qkey, ekey = prefix .. 'resv:q:' .. sku, prefix .. 'resv:e:' .. sku
  local expiry, qty = redis.call('ZSCORE', ekey, holder), redis.call('HGET', qkey, holder)
  if expiry and qty and tonumber(expiry) > now then out[#out + 1] = sku; out[#out + 1] = qty end
  if mode == 'take' then redis.call('HDEL', qkey, holder); redis.call('ZREM', ekey, holder) end
end
if mode == 'take' then redis.call('DEL', KEYS[1]) end
return out
"""
# KEYS: old holder set, new holder set. ARGV: prefix, old, new. Moves every live hold, keeping its expiry.
_RENAME = _NOW_AND_PRUNE + """
local prefix, old, new = ARGV[1], ARGV[2], ARGV[3]
local keep = redis.call('PTTL', KEYS[1])
local moved = 0
for _, sku in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local qkey, ekey = prefix .. 'resv:q:' .. sku, prefix .. 'resv:e:' .. sku
  prune(qkey, ekey)
  local qty = redis.call('HGET', qkey, old)
  if qty then
    local expiry = tonumber(redis.call('ZSCORE', ekey, old))
    redis.call('HDEL', qkey, old); redis.call('ZREM', ekey, old)
    local mine = redis.call('ZSCORE', ekey, new)
    if mine and tonumber(mine) > expiry then expiry = tonumber(mine) end
    redis.call('HINCRBY', qkey, new, tonumber(qty)); redis.call('ZADD', ekey, expiry, new); redis.call('SADD', KEYS[2], sku)
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[1])
if moved > 0 and keep > 0 and keep > redis.call('PTTL', KEYS[2]) then redis.call('PEXPIRE', KEYS[2], keep) end
return moved
"""


class ReservationStore(Protocol):
    """Soft holds on stock. Every method is atomic; ``StoreError`` when the store cannot be reached."""

    async def reserve(self, sku: str, holder: str, quantity: int, promisable: int | None,
                      ttl_seconds: float = TTL) -> bool:
        """Grow ``holder``'s hold by ``quantity`` if all live holds + quantity ≤ promisable; refreshes its TTL."""

    async def adjust(self, sku: str, holder: str, new_quantity: int, promisable: int | None,
                     ttl_seconds: float = TTL) -> bool:
        """Set the hold to ``new_quantity``: raising takes only the difference (or is refused); lowering always works."""

    async def release(self, sku: str, holder: str, quantity: int | None = None) -> None:
        """Drop the hold, or only ``quantity`` units of it."""

    async def release_holder(self, holder: str) -> None:
        """Drop every hold of ``holder`` (a whole cart)."""

    async def consume(self, holder: str) -> dict[str, int]:
        """The order was placed (the ERP allocates now): drop the holds, returning what they were."""

    async def rename_holder(self, old: str, new: str) -> None:
        """Move ``old``'s live holds to ``new`` (a provisional cart id becomes BigCommerce's), keeping expiries."""

    async def holdings(self, holder: str) -> dict[str, int]:
        """``holder``'s live holds by SKU."""

    async def reserved(self, sku: str) -> int:
        """The live total held on ``sku``."""

    async def reserved_many(self, skus: Iterable[str]) -> dict[str, int]:
        """Live totals for many SKUs in one round trip (what availability shown subtracts)."""

    async def aclose(self) -> None: ...


def _ttl_ms(ttl_seconds: float) -> int:
    return max(1, math.ceil(ttl_seconds * 1000))


def _check(quantity: int) -> None:
    if quantity < 0:
        raise ValueError(f"a quantity is never negative: {quantity}")


def _pairs(flat: list[Any]) -> dict[str, int]:
    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    return {text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


class RedisReservations:
    """Reservations in Redis, shared by every edge and worker process; one script call per operation."""

    def __init__(self, client_or_url: Any, keys_prefix: str = "pe:", *, socket_timeout: float = 2.0,
                 max_connections: int = 64) -> None:
        """From a URL, a blocking pool: a burst of add-to-carts waits for a connection instead of failing."""
        self.prefix = keys_prefix
        self._owned = isinstance(client_or_url, str)
        # redis-py's stubs type replies as bytes | str whatever the options say: Any, as in redis_store.
        self.client: Any = client_or_url
        if self._owned:
            pool = aioredis.BlockingConnectionPool.from_url(
                client_or_url, max_connections=max_connections, timeout=socket_timeout,
                socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
            self.client = aioredis.Redis(connection_pool=pool)
        self._hold = self.client.register_script(_HOLD)
        self._reserved = self.client.register_script(_RESERVED)
        self._holdings = self.client.register_script(_HOLDINGS)
        self._rename = self.client.register_script(_RENAME)

    def _sku_keys(self, sku: str) -> list[str]:
        return [f"{self.prefix}resv:q:{sku}", f"{self.prefix}resv:e:{sku}"]

    def _holder_key(self, holder: str) -> str:
        return f"{self.prefix}resv:h:{holder}"

    async def _call_hold(self, sku: str, holder: str, mode: str, quantity: int, promisable: int | None,
                         ttl_seconds: float) -> bool:
        bound = -1 if promisable is None else max(0, promisable)
        keys = [*self._sku_keys(sku), self._holder_key(holder)]
        return bool(await self._hold(keys=keys, args=[holder, sku, mode, quantity, bound, _ttl_ms(ttl_seconds)]))

    @_mapped
    async def reserve(self, sku: str, holder: str, quantity: int, promisable: int | None,
                      ttl_seconds: float = TTL) -> bool:
        _check(quantity)
        return await self._call_hold(sku, holder, "add", quantity, promisable, ttl_seconds)

    @_mapped
    async def adjust(self, sku: str, holder: str, new_quantity: int, promisable: int | None,
                     ttl_seconds: float = TTL) -> bool:
        _check(new_quantity)
        return await self._call_hold(sku, holder, "set", new_quantity, promisable, ttl_seconds)

    @_mapped
    async def release(self, sku: str, holder: str, quantity: int | None = None) -> None:
        if quantity is None:
            await self._call_hold(sku, holder, "set", 0, None, TTL)
        else:
            _check(quantity)
            await self._call_hold(sku, holder, "add", -quantity, None, TTL)

    @_mapped
    async def release_holder(self, holder: str) -> None:
        await self._holdings(keys=[self._holder_key(holder)], args=[self.prefix, holder, "take"])

    @_mapped
    async def consume(self, holder: str) -> dict[str, int]:
        return _pairs(await self._holdings(keys=[self._holder_key(holder)], args=[self.prefix, holder, "take"]))

    @_mapped
    async def rename_holder(self, old: str, new: str) -> None:
        if old != new:
            await self._rename(keys=[self._holder_key(old), self._holder_key(new)], args=[self.prefix, old, new])

    @_mapped
    async def holdings(self, holder: str) -> dict[str, int]:
        return _pairs(await self._holdings(keys=[self._holder_key(holder)], args=[self.prefix, holder, "read"]))

    @_mapped
    async def reserved(self, sku: str) -> int:
        return int(await self._reserved(keys=self._sku_keys(sku)))

    @_mapped
    async def reserved_many(self, skus: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for sku in wanted:
                await self._reserved(keys=self._sku_keys(sku), client=pipe)
            totals = await pipe.execute()
        return {sku: int(total) for sku, total in zip(wanted, totals, strict=True)}

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()
            await self.client.connection_pool.disconnect()


class EmbeddedReservations:
    """The same semantics in this process's memory (demo and tests): no await inside an operation, so atomic."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._holds: dict[str, dict[str, tuple[int, float]]] = {}  # sku -> holder -> (quantity, expires at)
        self._skus_of: dict[str, set[str]] = {}  # holder -> SKUs

    def _live(self, sku: str) -> dict[str, tuple[int, float]]:
        now = self._clock()
        holds = self._holds.get(sku, {})
        for holder in [h for h, (_, expires) in holds.items() if expires <= now]:
            del holds[holder]
            skus = self._skus_of.get(holder, set())
            skus.discard(sku)
            if not skus:
                self._skus_of.pop(holder, None)
        return holds

    def _drop(self, sku: str, holder: str) -> None:
        holds = self._live(sku)
        holds.pop(holder, None)
        if not holds:
            self._holds.pop(sku, None)
        self._skus_of.get(holder, set()).discard(sku)

    def _hold(self, sku: str, holder: str, target: int, promisable: int | None, ttl_seconds: float) -> bool:
        holds = self._live(sku)
        current = holds.get(holder, (0, 0.0))[0]
        if target <= 0:
            self._drop(sku, holder)
            return True
        if (target > current and promisable is not None
                and sum(q for q, _ in holds.values()) - current + target > max(0, promisable)):
            return False
        self._holds.setdefault(sku, holds)[holder] = (target, self._clock() + ttl_seconds)
        self._skus_of.setdefault(holder, set()).add(sku)
        return True

    async def reserve(self, sku: str, holder: str, quantity: int, promisable: int | None,
                      ttl_seconds: float = TTL) -> bool:
        _check(quantity)
        current = self._live(sku).get(holder, (0, 0.0))[0]
        return self._hold(sku, holder, current + quantity, promisable, ttl_seconds)

    async def adjust(self, sku: str, holder: str, new_quantity: int, promisable: int | None,
                     ttl_seconds: float = TTL) -> bool:
        _check(new_quantity)
        return self._hold(sku, holder, new_quantity, promisable, ttl_seconds)

    async def release(self, sku: str, holder: str, quantity: int | None = None) -> None:
        current = self._live(sku).get(holder, (0, 0.0))[0]
        if quantity is not None:
            _check(quantity)
        self._hold(sku, holder, 0 if quantity is None else current - quantity, None, TTL)

    def _take(self, holder: str, remove: bool) -> dict[str, int]:
        found: dict[str, int] = {}
        for sku in list(self._skus_of.get(holder, ())):
            hold = self._live(sku).get(holder)
            if hold is not None:
                found[sku] = hold[0]
            if remove:
                self._drop(sku, holder)
        if remove:
            self._skus_of.pop(holder, None)
        return found

    async def release_holder(self, holder: str) -> None:
        self._take(holder, remove=True)

    async def consume(self, holder: str) -> dict[str, int]:
        return self._take(holder, remove=True)

    async def rename_holder(self, old: str, new: str) -> None:
        if old == new:
            return
        for sku in list(self._skus_of.get(old, ())):
            holds = self._live(sku)
            moved = holds.pop(old, None)
            if moved is not None:
                mine = holds.get(new, (0, 0.0))
                holds[new] = (mine[0] + moved[0], max(mine[1], moved[1]))
                self._skus_of.setdefault(new, set()).add(sku)
        self._skus_of.pop(old, None)

    async def holdings(self, holder: str) -> dict[str, int]:
        return self._take(holder, remove=False)

    async def reserved(self, sku: str) -> int:
        return sum(q for q, _ in self._live(sku).values())

    async def reserved_many(self, skus: Iterable[str]) -> dict[str, int]:
        return {sku: await self.reserved(sku) for sku in skus}

    async def aclose(self) -> None:
        return None
