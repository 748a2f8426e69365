"""Soft stock reservations: who holds how many units of a SKU, atomically, each hold expiring on its own.

Why this shape: hundreds of buyers may add the last units at once from many edge processes, so the
check "live holds + quantity ≤ promisable" and the write must be one atomic step — one Lua script
(one round trip) in Redis, one uninterrupted synchronous block in the embedded store. Expiry needs
no sweeper: per SKU a HASH holder → quantity plus a ZSET holder → expiry (ms, Redis's own clock,
so edge processes with skewed clocks agree); every script first drops the expired holders.

Keys (``keys.Keys``): ``<prefix>{resv:<sku>}:q`` (HASH) and ``<prefix>{resv:<sku>}:e`` (ZSET) share the
SKU's hash tag — one Redis Cluster slot per SKU, so carts spread over the whole cluster — and
``<prefix>resv:h:<holder>`` (SET of the holder's SKUs, so a whole cart is released at once). Every
atomic step touches one SKU; cart-wide operations are per-SKU steps. The holder's set is written
with a hold (the same round trip) and trimmed only after the holds are gone, so it lists every SKU
the holder holds: a step that fails midway leaves a member with no hold (skipped); only a listing
that fails while its hold succeeds (two cluster nodes, one failing) leaves a hold to its own TTL —
units held back a while, never promised twice. Every key carries a TTL just past its last hold, so abandoned keys vanish too.

``promisable`` is the caller's available-to-promise *before* reservations (see
``domain.reservations.promisable``), ``None`` when unbounded (backorder): the hold is recorded,
never refused.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from pricing_edge.domain.reservations import DEFAULT_RESERVATION_TTL_SECONDS
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_client import connect, disconnect
from pricing_edge.store.redis_store import mapped as _mapped
from pricing_edge.store.redis_store import Call, pipelined

TTL = DEFAULT_RESERVATION_TTL_SECONDS

# Every per-SKU script: KEYS = qty hash, expiry zset.
_NOW_AND_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local qkey, ekey = KEYS[1], KEYS[2]
for _, h in ipairs(redis.call('ZRANGEBYSCORE', ekey, '-inf', now)) do redis.call('HDEL', qkey, h) end
redis.call('ZREMRANGEBYSCORE', ekey, '-inf', now)
local function keep_until_last()
  local last = redis.call('ZRANGE', ekey, -1, -1, 'WITHSCORES')[2]
  if last then
    redis.call('PEXPIREAT', qkey, tonumber(last) + 1000); redis.call('PEXPIREAT', ekey, tonumber(last) + 1000)
  end
end
"""
# ARGV: holder, mode (add|set), quantity, promisable (-1 = unbounded), ttl ms. Returns {ok, live total after}.
_HOLD = _NOW_AND_PRUNE + """
local holder, mode = ARGV[1], ARGV[2]
local quantity, promisable, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local current = tonumber(redis.call('HGET', qkey, holder) or '0')
local target = quantity
if mode == 'add' then target = current + quantity end
local total = 0
for _, v in ipairs(redis.call('HVALS', qkey)) do total = total + tonumber(v) end
if target <= 0 then
  redis.call('HDEL', qkey, holder); redis.call('ZREM', ekey, holder)
  return {1, total - current}
end
if target > current and promisable >= 0 and total - current + target > promisable then return {0, total} end
redis.call('HSET', qkey, holder, target); redis.call('ZADD', ekey, now + ttl, holder)
keep_until_last()
return {1, total - current + target}
"""
# Returns the live total.
_RESERVED = _NOW_AND_PRUNE + """
local total = 0
for _, v in ipairs(redis.call('HVALS', qkey)) do total = total + tonumber(v) end
return total
"""
# ARGV: holder, mode (read|take). Returns the holder's live quantity (0 if none); 'take' drops it.
_HOLDING = _NOW_AND_PRUNE + """
local qty = tonumber(redis.call('HGET', qkey, ARGV[1]) or '0')
if ARGV[2] == 'take' then redis.call('HDEL', qkey, ARGV[1]); redis.call('ZREM', ekey, ARGV[1]) end
return qty
"""
# ARGV: old, new. Moves old's live hold onto new's (quantities add, the later expiry is kept).
_MOVE = _NOW_AND_PRUNE + """
local qty = redis.call('HGET', qkey, ARGV[1])
if not qty then return 0 end
local expiry = tonumber(redis.call('ZSCORE', ekey, ARGV[1]))
redis.call('HDEL', qkey, ARGV[1]); redis.call('ZREM', ekey, ARGV[1])
local mine = redis.call('ZSCORE', ekey, ARGV[2])
if mine and tonumber(mine) > expiry then expiry = tonumber(mine) end
redis.call('HINCRBY', qkey, ARGV[2], tonumber(qty)); redis.call('ZADD', ekey, expiry, ARGV[2])
keep_until_last()
return 1
"""
# KEYS: holder set. ARGV: ttl ms, SKUs. Lists the SKUs and keeps the set at least ttl (+1 s) longer.
_LIST = """
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl + 1000) end
return 1
"""


class ReservationStore(Protocol):
    """Soft holds on stock. Every method is atomic; ``StoreError`` when the store cannot be reached."""

    async def reserve(self, sku: str, holder: str, quantity: int, promisable: int | None,
                      ttl_seconds: float = TTL) -> bool:
        """Grow ``holder``'s hold by ``quantity`` if all live holds + quantity ≤ promisable; refreshes its TTL."""

    async def reserve_counted(self, sku: str, holder: str, quantity: int, promisable: int | None,
                              ttl_seconds: float = TTL) -> tuple[bool, int]:
        """``reserve``, also answering the SKU's live total after the step (what the Redis-down rule starts from)."""

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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisReservations:
    """Reservations in Redis (one server or a cluster), shared by every edge and worker process."""

    def __init__(self, client_or_url: Any, keys_prefix: str = "pe:", *, socket_timeout: float = 2.0,
                 max_connections: int = 64) -> None:
        """A client to share (the store's), or a URL to open one of its own (closed by ``aclose``)."""
        self.keys = Keys(keys_prefix)
        self._owned = isinstance(client_or_url, str)
        # redis-py's stubs type replies as bytes | str whatever the options say: Any, as in redis_store.
        self.client: Any = (connect(client_or_url, socket_timeout=socket_timeout, max_connections=max_connections)
                            if self._owned else client_or_url)
        register = self.client.register_script
        self._hold, self._reserved, self._holding = register(_HOLD), register(_RESERVED), register(_HOLDING)
        self._move, self._list = register(_MOVE), register(_LIST)

    def _sku_keys(self, sku: str) -> list[str]:
        return [self.keys.held(sku), self.keys.expiries(sku)]

    def _listing(self, holder: str, skus: list[str], ttl_ms: int) -> Call:
        return self._list, [self.keys.holder(holder)], [ttl_ms, *skus]

    async def _listed(self, holder: str) -> list[str]:
        return sorted(_text(sku) for sku in await self.client.smembers(self.keys.holder(holder)))

    async def _call_hold(self, sku: str, holder: str, mode: str, quantity: int, promisable: int | None,
                         ttl_seconds: float) -> tuple[bool, int]:
        bound = -1 if promisable is None else max(0, promisable)
        ttl = _ttl_ms(ttl_seconds)
        hold: Call = (self._hold, self._sku_keys(sku), [holder, mode, quantity, bound, ttl])
        if quantity <= 0:  # lowers or drops: nothing new to list
            ok, total = await self._hold(keys=hold[1], args=hold[2])
            return bool(ok), int(total)
        # May hold: listed in the same round trip (on one server, first; on a cluster, the two servers at
        # once). A hold whose listing failed is reported as the failure it is and left to its own TTL.
        listed, held = await pipelined(self.client, [self._listing(holder, [sku], ttl), hold], raise_on_error=False)
        for outcome in (held, listed):
            if isinstance(outcome, Exception):
                raise outcome
        return bool(held[0]), int(held[1])

    @_mapped
    async def reserve(self, sku: str, holder: str, quantity: int, promisable: int | None,
                      ttl_seconds: float = TTL) -> bool:
        _check(quantity)
        return (await self._call_hold(sku, holder, "add", quantity, promisable, ttl_seconds))[0]

    @_mapped
    async def reserve_counted(self, sku: str, holder: str, quantity: int, promisable: int | None,
                              ttl_seconds: float = TTL) -> tuple[bool, int]:
        _check(quantity)
        return await self._call_hold(sku, holder, "add", quantity, promisable, ttl_seconds)

    @_mapped
    async def adjust(self, sku: str, holder: str, new_quantity: int, promisable: int | None,
                     ttl_seconds: float = TTL) -> bool:
        _check(new_quantity)
        return (await self._call_hold(sku, holder, "set", new_quantity, promisable, ttl_seconds))[0]

    @_mapped
    async def release(self, sku: str, holder: str, quantity: int | None = None) -> None:
        if quantity is None:
            await self._call_hold(sku, holder, "set", 0, None, TTL)
        else:
            _check(quantity)
            await self._call_hold(sku, holder, "add", -quantity, None, TTL)

    async def _per_sku(self, holder: str, mode: str) -> dict[str, int]:
        skus = await self._listed(holder)
        if not skus:
            return {}
        quantities = await pipelined(self.client, [(self._holding, self._sku_keys(sku), [holder, mode])
                                                   for sku in skus])
        if mode == "take":  # only the SKUs seen: one listed meanwhile by a concurrent hold stays
            await self.client.srem(self.keys.holder(holder), *skus)
        return {sku: int(qty) for sku, qty in zip(skus, quantities, strict=True) if int(qty) > 0}

    @_mapped
    async def release_holder(self, holder: str) -> None:
        await self._per_sku(holder, "take")

    @_mapped
    async def consume(self, holder: str) -> dict[str, int]:
        return await self._per_sku(holder, "take")

    @_mapped
    async def rename_holder(self, old: str, new: str) -> None:
        if old == new:
            return
        skus = await self._listed(old)
        if not skus:
            return
        keep = int(await self.client.pttl(self.keys.holder(old)))
        listing = self._listing(new, skus, keep if keep > 0 else _ttl_ms(TTL))
        await self._list(keys=listing[1], args=listing[2])  # before the moves: a moved hold is always listed
        await pipelined(self.client, [(self._move, self._sku_keys(sku), [old, new]) for sku in skus])
        await self.client.srem(self.keys.holder(old), *skus)

    @_mapped
    async def holdings(self, holder: str) -> dict[str, int]:
        return await self._per_sku(holder, "read")

    @_mapped
    async def reserved(self, sku: str) -> int:
        return int(await self._reserved(keys=self._sku_keys(sku)))

    @_mapped
    async def reserved_many(self, skus: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return {}
        totals = await pipelined(self.client, [(self._reserved, self._sku_keys(sku), []) for sku in wanted])
        return {sku: int(total) for sku, total in zip(wanted, totals, strict=True)}

    async def aclose(self) -> None:
        if self._owned:
            await disconnect(self.client)


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

    async def reserve_counted(self, sku: str, holder: str, quantity: int, promisable: int | None,
                              ttl_seconds: float = TTL) -> tuple[bool, int]:
        ok = await self.reserve(sku, holder, quantity, promisable, ttl_seconds)
        return ok, sum(q for q, _ in self._live(sku).values())

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
