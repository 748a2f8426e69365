"""The Redis store: durable (as Redis is configured to be) and shared by every edge and worker process.

Versioned writes are one Lua script each (compare the version prefix, then set), so concurrent
updaters never let an older record overwrite a newer one. ``append_once`` sets the dedup key and
appends to the stream in one script: an accepted event is never lost between the two (they share
the stream's hash tag, see ``keys``, so this holds on Redis Cluster too; ``redis_cluster`` is the
cluster's kind of this store). The store builds the worker's queue, the ledger and the cart
reservations on its own client.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import Record
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.store import codec
from pricing_edge.store.base import BuildsItsParts, RecordReads, StoreBusy, StoreError, StreamEntry
from pricing_edge.store.codec import StockSnapshot
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_client import connect, disconnect, where

if TYPE_CHECKING:
    from pricing_edge.store.audit import AuditLog
    from pricing_edge.store.ledger import Ledger
    from pricing_edge.store.reservations import ReservationStore
    from pricing_edge.store.rest_quota import RestQuota
    from pricing_edge.store.work_queue import WorkQueue

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

COMPLETE_FIELD = b"complete"  # in a SKU's stock hash: every location's level is present

# ARGV[3] = '1' (touch): an equal version is written too, re-stamping when the state was learned.
_PUT_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%d+)|'))
  local incoming = tonumber(ARGV[1])
  if version and (version > incoming or (version == incoming and ARGV[3] ~= '1')) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""
_HPUT_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local version = tonumber(string.match(current, '^(%d+)|'))
  local incoming = tonumber(ARGV[2])
  if version and (version > incoming or (version == incoming and ARGV[4] ~= '1')) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""
# Many records in one call: KEYS[i] gets ARGV[2i+1] if ARGV[2i] is a newer version (with ARGV[1] = '1',
# touch: an equal one too, as _PUT_IF_NEWER).
_PUT_MANY_IF_NEWER = """
local written = 0
local touch = ARGV[1] == '1'
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  local version = current and tonumber(string.match(current, '^(%d+)|'))
  local incoming = tonumber(ARGV[2 * i])
  if not version or version < incoming or (touch and version == incoming) then
    redis.call('SET', key, ARGV[2 * i + 1])
    written = written + 1
  end
end
return written
"""
BULK_KEYS = 200  # records per script call of a bulk put
# A fixed-window counter: the first count starts the window (one key: cluster-safe, atomic).
_COUNT = """
local counted = redis.call('INCR', KEYS[1])
if counted == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return counted
"""
# Release a short lock only while it still holds this holder's token (one key: cluster-safe, atomic).
_RELEASE_OWN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_APPEND_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) == false then return false end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
return redis.call('XADD', KEYS[2], '*', unpack(fields))
"""


def mapped(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Redis's and the socket's exceptions become StoreError: callers handle one error type."""

    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise store_error(exc) from exc

    return wrapper


def store_error(exc: BaseException) -> StoreError:
    """A timeout or an exhausted connection pool is ``StoreBusy`` (load); anything else is ``StoreError`` (down)."""
    if isinstance(exc, (RedisTimeoutError, TimeoutError, MaxConnectionsError)) or (
            isinstance(exc, RedisConnectionError) and "No connection available" in str(exc)):
        return StoreBusy(f"redis busy: {exc}")
    return StoreError(f"redis: {exc}")


def stream_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def now_ms() -> int:
    return int(time.time() * 1000)


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


Call = tuple[Any, list[str], list[Any]]  # (registered script, keys, args)


async def pipelined(client: Any, calls: list[Call], *, raise_on_error: bool = True) -> list[Any]:
    """Script calls in one pipeline: one round trip per server, in order on each. A server that does not
    have a script yet (first use, a replica just promoted, a restart) answers NOSCRIPT to its calls, which
    changed nothing: load those scripts (on every master) and run just those calls again. Without
    ``raise_on_error`` a failed call's exception stands in its result."""
    results: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for attempt in range(2):
        async with client.pipeline(transaction=False) as pipe:
            for index in todo:  # EVALSHA as is: a script object would make the pipeline ask SCRIPT EXISTS first
                script, keys, args = calls[index]
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            answers = await pipe.execute(raise_on_error=False)
        for index, answer in zip(todo, answers, strict=True):
            results[index] = answer
        todo = [index for index in todo if isinstance(results[index], NoScriptError)]
        if not todo or attempt:
            break
        for script in {id(calls[index][0]): calls[index][0] for index in todo}.values():
            await client.script_load(script.script)
    error = next((answer for answer in results if isinstance(answer, Exception)), None)
    if error is not None and raise_on_error:
        raise error
    return results


async def server_config(client: Any, **route: Any) -> dict[str, str]:
    """One server's ``CONFIG GET`` of appendonly, appendfsync and maxmemory-policy; where CONFIG is
    disabled or renamed (managed Redis), the ``INFO`` fields ``aof_enabled`` and ``maxmemory_policy``.
    ``route``: which node, on a cluster client (``target_nodes=``)."""
    try:
        found: dict[str, str] = {}
        for name in ("appendonly", "appendfsync", "maxmemory-policy"):
            found.update({text(k): text(v) for k, v in (await client.config_get(name, **route)).items()})
        return found
    except ResponseError:  # CONFIG renamed, disabled or not permitted (ACL)
        info = {**await client.info("persistence", **route), **await client.info("memory", **route)}
        return {name: text(info[name]) for name in ("aof_enabled", "maxmemory_policy") if name in info}


class RedisStore(BuildsItsParts, RecordReads):
    kind = "redis"

    def __init__(self, url: str, keys: Keys | None = None, *, socket_timeout: float = 2.0,
                 max_connections: int = 128) -> None:
        self.keys = keys or Keys()
        self.url = url
        self.client: Any = connect(url, socket_timeout=socket_timeout, max_connections=max_connections)
        self._put_if_newer = self.client.register_script(_PUT_IF_NEWER)
        self._put_many_if_newer = self.client.register_script(_PUT_MANY_IF_NEWER)
        self._hput_if_newer = self.client.register_script(_HPUT_IF_NEWER)
        self._append_once = self.client.register_script(_APPEND_ONCE)
        self._count = self.client.register_script(_COUNT)
        self._release_own = self.client.register_script(_RELEASE_OWN)

    # -- what this store builds on its own client ----------------------------------------------
    def _new_work_queue(self) -> WorkQueue:
        from pricing_edge.store.redis_work_queue import RedisWorkQueue

        return RedisWorkQueue(self)

    def _new_ledger(self) -> Ledger:
        from pricing_edge.store.redis_ledger import RedisLedger

        return RedisLedger(self)

    def _new_reservations(self) -> ReservationStore:
        from pricing_edge.store.reservations import RedisReservations

        return RedisReservations(self.client, self.keys.prefix)

    def _new_audit_log(self) -> AuditLog:
        from pricing_edge.store.redis_audit import RedisAuditLog

        return RedisAuditLog(self)

    def _new_rest_quota(self, store_hash: str) -> RestQuota:
        from pricing_edge.store.rest_quota import RedisRestQuota

        return RedisRestQuota(self.client, self.keys, store_hash)

    async def _mget(self, keys: list[str]) -> list[Any]:
        """MGET: one command on one server (the cluster's kind splits it by slot)."""
        return list(await self.client.mget(keys))

    # -- records -------------------------------------------------------------------------------
    async def _put(self, key: str, record: Record, touch: bool = False) -> bool:
        return bool(await self._put_if_newer(
            keys=[key], args=[record.version, codec.encode(record, now_ms()), "1" if touch else "0"]))

    @mapped
    async def prices_as_of(self, price_list_id: int, currency: str,
                           skus: Iterable[str]) -> dict[str, codec.Stored[PriceRecord]]:
        wanted = list(skus)
        if not wanted:
            return {}
        raws = await self._mget([self.keys.price(price_list_id, currency, sku) for sku in wanted])
        return {sku: codec.decode(PriceRecord, raw) for sku, raw in zip(wanted, raws, strict=True) if raw is not None}

    @mapped
    async def put_price(self, record: PriceRecord, *, touch: bool = False) -> bool:
        return await self._put(self.keys.price(record.price_list_id, record.currency, record.sku), record, touch)

    def _same_slot(self, keys: list[str]) -> list[list[int]]:
        """Indexes of ``keys`` that one script call may touch together: on one server, all of them."""
        return [list(range(len(keys)))]

    @mapped
    async def put_prices(self, records: Sequence[PriceRecord], *, touch: bool = False) -> int:
        """A script call per ``BULK_KEYS`` records of one slot, all pipelined: one round trip per server."""
        stamp = now_ms()
        keys = [self.keys.price(r.price_list_id, r.currency, r.sku) for r in records]
        calls: list[Call] = []
        for group in self._same_slot(keys):
            for start in range(0, len(group), BULK_KEYS):
                chunk = group[start:start + BULK_KEYS]
                args: list[Any] = ["1" if touch else "0"]
                for index in chunk:
                    args += [records[index].version, codec.encode(records[index], stamp)]
                calls.append((self._put_many_if_newer, [keys[index] for index in chunk], args))
        return sum(int(written) for written in await pipelined(self.client, calls))

    @mapped
    async def stock_as_of(self, skus: Iterable[str]) -> dict[str, StockSnapshot]:
        wanted = list(skus)
        if not wanted:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for sku in wanted:
                pipe.hgetall(self.keys.stock(sku))
            results = await pipe.execute()
        found: dict[str, StockSnapshot] = {}
        for sku, levels in zip(wanted, results, strict=True):
            if levels.pop(COMPLETE_FIELD, None) is not None and levels:
                found[sku] = codec.snapshot(levels.values())
        return found

    async def _put_level(self, level: StockLevel, touch: bool) -> bool:
        return bool(await self._hput_if_newer(keys=[self.keys.stock(level.sku)], args=[
            level.location_id, level.version, codec.encode(level, now_ms()), "1" if touch else "0"]))

    @mapped
    async def put_stock(self, level: StockLevel) -> bool:
        return await self._put_level(level, touch=False)

    @mapped
    async def put_stock_levels(self, levels: list[StockLevel]) -> None:
        stamp = now_ms()
        await pipelined(self.client, [(self._hput_if_newer, [self.keys.stock(level.sku)],
                                       [level.location_id, level.version, codec.encode(level, stamp), "1"])
                                      for level in levels])
        async with self.client.pipeline(transaction=False) as pipe:
            for sku in {level.sku for level in levels}:
                pipe.hset(self.keys.stock(sku), COMPLETE_FIELD, b"1")
            await pipe.execute()

    @mapped
    async def get_credit(self, company_id: int) -> CreditRecord | None:
        raw = await self.client.get(self.keys.credit(company_id))
        return codec.decode_record(CreditRecord, raw) if raw else None

    @mapped
    async def credit_as_of(self, company_id: int) -> codec.Stored[CreditRecord] | None:
        raw = await self.client.get(self.keys.credit(company_id))
        return codec.decode(CreditRecord, raw) if raw else None

    @mapped
    async def put_credit(self, record: CreditRecord, *, touch: bool = False) -> bool:
        return await self._put(self.keys.credit(record.company_id), record, touch)

    @mapped
    async def get_customer(self, customer_id: int) -> CustomerRecord | None:
        raw = await self.client.get(self.keys.customer(customer_id))
        return codec.decode_record(CustomerRecord, raw) if raw else None

    @mapped
    async def put_customer(self, record: CustomerRecord) -> bool:
        return await self._put(self.keys.customer(record.customer_id), record)

    # -- values --------------------------------------------------------------------------------
    @mapped
    async def get_value(self, key: str) -> bytes | None:
        value: bytes | None = await self.client.get(self.keys.value(key))
        return value

    @mapped
    async def set_value(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self.client.set(self.keys.value(key), value, px=max(1, int(ttl_seconds * 1000)))

    @mapped
    async def count(self, key: str, window_seconds: float) -> int:
        counted = await self._count(keys=[self.keys.value(key)], args=[max(1, int(window_seconds * 1000))])
        return int(counted)

    @mapped
    async def delete_value(self, key: str) -> None:
        await self.client.delete(self.keys.value(key))

    # -- streams -------------------------------------------------------------------------------
    @mapped
    async def append_once(self, stream: str, dedup_key: str, fields: Mapping[str, bytes],
                          dedup_ttl_seconds: float) -> str | None:
        flat: list[Any] = [max(1, int(dedup_ttl_seconds * 1000))]
        for name, value in fields.items():
            flat += [name, value]
        entry_id = await self._append_once(
            keys=[self.keys.dedup(stream, dedup_key), self.keys.stream(stream)], args=flat)
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id

    @mapped
    async def ensure_group(self, stream: str, group: str) -> None:
        try:
            await self.client.xgroup_create(self.keys.stream(stream), group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    @mapped
    async def read_group(self, stream: str, group: str, consumer: str, count: int, block_ms: int) -> list[StreamEntry]:
        # BLOCK 0 would wait forever in Redis; the contract's 0 means "do not wait", as in the embedded store.
        response: Any = await self.client.xreadgroup(group, consumer, {self.keys.stream(stream): ">"}, count=count,
                                                     block=block_ms if block_ms > 0 else None)
        return [(eid.decode(), {k.decode(): v for k, v in fields.items()})
                for _, entries in response or [] for eid, fields in entries]

    @mapped
    async def ack(self, stream: str, group: str, entry_ids: Iterable[str]) -> None:
        ids = list(entry_ids)
        if ids:
            await self.client.xack(self.keys.stream(stream), group, *ids)

    @mapped
    async def claim_stale(self, stream: str, group: str, consumer: str, min_idle_ms: int,
                          count: int) -> list[StreamEntry]:
        result: Any = await self.client.xautoclaim(self.keys.stream(stream), group, consumer, min_idle_ms, "0-0",
                                              count=count)
        entries = result[1] if len(result) > 1 else []
        return [(eid.decode(), {k.decode(): v for k, v in fields.items()}) for eid, fields in entries if fields]

    @mapped
    async def trim_acknowledged(self, stream: str) -> int:
        key = self.keys.stream(stream)
        try:
            groups: Any = await self.client.xinfo_groups(key)
        except ResponseError:
            return 0  # no such stream yet
        floor: tuple[int, int] | None = None
        for group in groups:
            if group["pending"]:
                summary: Any = await self.client.xpending(key, group["name"])
                keep = stream_id(summary["min"])
            else:
                ms, seq = stream_id(group["last-delivered-id"])
                keep = (ms, seq + 1)
            floor = keep if floor is None else min(floor, keep)
        if floor is None:
            return 0
        return int(await self.client.xtrim(key, minid=f"{floor[0]}-{floor[1]}", approximate=False))

    # -- pub/sub -------------------------------------------------------------------------------
    @mapped
    async def publish(self, channel: str, message: bytes) -> None:
        await self.client.publish(self.keys.channel(channel), message)

    async def subscribe(self, channel: str, on_joined: Callable[[], None] | None = None) -> AsyncIterator[bytes]:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await self._join(pubsub, self.keys.channel(channel))
            if on_joined is not None:
                on_joined()
            while True:
                message = await self._next_message(pubsub)
                if message is not None and text(message.get("type")) == self.MESSAGE:
                    yield message["data"]
        except (RedisError, OSError) as exc:
            raise StoreError(f"redis subscription: {exc}") from exc
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    MESSAGE = "message"  # the pub/sub message type this kind subscribes to

    async def _join(self, pubsub: Any, channel: str) -> None:
        await pubsub.subscribe(channel)

    async def _next_message(self, pubsub: Any) -> Any:
        return await pubsub.get_message(timeout=1.0)

    @mapped
    async def acquire(self, names: Iterable[str], ttl_ms: int, *, holder: str | None = None) -> set[str]:
        wanted = list(names)
        token = (holder or self.lock_holder).encode()
        async with self.client.pipeline(transaction=False) as pipe:
            for name in wanted:
                pipe.set(self.keys.lock(name), token, nx=True, px=ttl_ms)
            results = await pipe.execute()
        return {name for name, ok in zip(wanted, results, strict=True) if ok}

    @mapped
    async def release(self, names: Iterable[str], *, holder: str | None = None) -> None:
        token = (holder or self.lock_holder).encode()
        # one key per script call (each goes to its own slot on a cluster), all in one pipeline
        await pipelined(self.client, [(self._release_own, [self.keys.lock(name)], [token]) for name in names])

    @mapped
    async def server_configs(self) -> dict[str, dict[str, str]]:
        """Each server's durability settings by where it is, for the check at start
        (``pricing_edge.ops.durability``): here the one server (the cluster's kind: every node)."""
        return {where(self.url): await server_config(self.client)}

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def aclose(self) -> None:
        await disconnect(self.client)
