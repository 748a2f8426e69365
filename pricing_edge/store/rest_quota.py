"""The store's REST API quota window as BigCommerce last reported it — one per store hash, shared by every
caller of the REST Admin client in every process (edge cart pricing, the worker's flows, the order poller).

Why shared: BigCommerce's quota is per store, not per client. Each process keeping its own idea of
``X-Rate-Limit-Requests-Left`` lets N processes spend N windows' worth and meet 429s; one bucket in Redis
(one key, hash-tagged by store: ``<prefix>{quota:<store_hash>}``, so a Redis Cluster keeps it in one slot)
makes them count down one window together. Times are Redis's own clock (``TIME``), so processes with
skewed clocks agree.

Semantics (the client's module, ``bigcommerce/admin.py``, documents the headers):

* ``admit()`` — 0: go, one request counted out of the window; else the seconds to wait before asking again
  (nothing left and the window has not reset). A window known to have reset starts again at the quota.
* ``observe(left, reset_ms, quota, window_ms)`` — an answer's headers: within the same window (resets
  within half a window of each other) the lower count wins; a later window replaces an older one; an
  older answer arriving late is ignored.
* ``throttled(wait)`` — a 429: nothing left until ``wait`` seconds from now.
"""
from __future__ import annotations

import asyncio
from typing import Any, Protocol

from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import mapped


class RestQuota(Protocol):
    async def admit(self) -> float: ...
    async def observe(self, left: float | None, reset_ms: float | None, quota: float | None,
                      window_ms: float | None) -> None: ...
    async def throttled(self, wait: float) -> None: ...


class LocalRestQuota:
    """The same rules in this process only (embedded store, or a client built without a store)."""

    def __init__(self) -> None:
        self.left: int | None = None  # requests left in the window (None: unknown, go ahead)
        self.reset_at = 0.0  # loop time the window resets
        self.quota: int | None = None
        self.window = 0.0

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def admit(self) -> float:
        now = self._now()
        if self.left is not None and self.left <= 0 and now < self.reset_at:
            return self.reset_at - now
        if self.left is not None and now >= self.reset_at and self.quota is not None:
            self.left, self.reset_at = self.quota, now + self.window  # a new window: BigCommerce's quota
        if self.left is not None:
            self.left -= 1
        return 0.0

    async def observe(self, left: float | None, reset_ms: float | None, quota: float | None,
                      window_ms: float | None) -> None:
        if quota is not None:
            self.quota = int(quota)
        if window_ms is not None:
            self.window = window_ms / 1000
        if left is None or reset_ms is None:
            return
        reset_at = self._now() + reset_ms / 1000
        half = max(self.window / 2, 0.001)
        if self.left is not None and abs(reset_at - self.reset_at) < half:  # same window: the lower count wins
            self.left = min(self.left, int(left))
            self.reset_at = reset_at
        elif self.left is None or reset_at > self.reset_at:  # a newer window (an older answer is ignored)
            self.left, self.reset_at = int(left), reset_at

    async def throttled(self, wait: float) -> None:
        self.left = 0
        self.reset_at = max(self.reset_at, self._now() + wait)


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local k = KEYS[1]
local left = redis.call('HGET', k, 'left')
local reset_at = tonumber(redis.call('HGET', k, 'reset_at') or '0')
local quota = redis.call('HGET', k, 'quota')
local window = tonumber(redis.call('HGET', k, 'window') or '0')
"""
# Returns the ms to wait (0: admitted, one request counted).
_ADMIT = _NOW + """
if left and tonumber(left) <= 0 and now < reset_at then return reset_at - now end
if left and now >= reset_at and quota then
  left = quota; reset_at = now + window
  redis.call('HSET', k, 'left', left, 'reset_at', reset_at)
end
if left then redis.call('HSET', k, 'left', tonumber(left) - 1) end
redis.call('PEXPIRE', k, 86400000)
return 0
"""
# ARGV: left, reset_ms, quota, window_ms ('' = not given).
_OBSERVE = _NOW + """
if ARGV[3] ~= '' then redis.call('HSET', k, 'quota', ARGV[3]) end
if ARGV[4] ~= '' then window = tonumber(ARGV[4]); redis.call('HSET', k, 'window', window) end
if ARGV[1] ~= '' and ARGV[2] ~= '' then
  local new_left, new_reset = tonumber(ARGV[1]), now + tonumber(ARGV[2])
  local half = math.max(window / 2, 1)
  if left and math.abs(new_reset - reset_at) < half then
    redis.call('HSET', k, 'left', math.min(tonumber(left), new_left), 'reset_at', new_reset)
  elseif (not left) or new_reset > reset_at then
    redis.call('HSET', k, 'left', new_left, 'reset_at', new_reset)
  end
end
redis.call('PEXPIRE', k, 86400000)
return 1
"""
# ARGV: wait ms.
_THROTTLED = _NOW + """
redis.call('HSET', k, 'left', 0, 'reset_at', math.max(reset_at, now + tonumber(ARGV[1])))
redis.call('PEXPIRE', k, 86400000)
return 1
"""


def _arg(value: float | None) -> str:
    return "" if value is None else str(int(value))


class RedisRestQuota:
    """One store's window in Redis (``StoreError`` when Redis cannot be reached: the client then goes ahead)."""

    def __init__(self, client: Any, keys: Keys, store_hash: str) -> None:
        self.client = client
        self.key = keys.rest_quota(store_hash)
        self._admit, self._observe = client.register_script(_ADMIT), client.register_script(_OBSERVE)
        self._throttled = client.register_script(_THROTTLED)

    @mapped
    async def admit(self) -> float:
        return int(await self._admit(keys=[self.key])) / 1000

    @mapped
    async def observe(self, left: float | None, reset_ms: float | None, quota: float | None,
                      window_ms: float | None) -> None:
        await self._observe(keys=[self.key], args=[_arg(left), _arg(reset_ms), _arg(quota), _arg(window_ms)])

    @mapped
    async def throttled(self, wait: float) -> None:
        await self._throttled(keys=[self.key], args=[max(0, int(wait * 1000))])
