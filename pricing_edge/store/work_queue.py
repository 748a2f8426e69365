"""The worker's queue: one ordered queue per entity, a due-time index over entities, leases, dead letters.

Why not one stream per shard: a stream shard is strictly sequential, so one order waiting out an
ERP outage with backoff would hold up every other entity hashed to its shard. Here each entity
(``order:123``, ``sku:ABC``) has its own FIFO list and one score in the flow's *ready* index: the
time it is next due. Taking an entity leases it (its score moves to the lease's expiry, a token
records the holder), so one entity is never processed twice at once, different entities run in
parallel, a retry only delays its own entity, and a crashed holder's lease simply runs out — the
entity comes due again and the next worker takes it from the head: at-least-once, in order.

Messages enter from the intake streams through ``route``, which appends the message and marks the
intake entry routed in one atomic step (ignoring an entry routed before), then acknowledges the
entry, so the hand-over from stream to queue loses and duplicates nothing: a router that dies in
between leaves the entry pending, and re-routing it only acknowledges it.

Items are stored as ``b"<enqueued ms>|<json>"`` so Lua can read the enqueue time of a head.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pricing_edge.store.base import Store, StreamEntry


def now_ms() -> int:
    return int(time.time() * 1000)


def pack(enqueued_ms: int, body: bytes) -> bytes:
    return b"%d|" % enqueued_ms + body


def unpack(item: bytes) -> tuple[int, bytes]:
    head, _, body = item.partition(b"|")
    return int(head), body


@dataclass(frozen=True)
class Taken:
    """An entity leased to one worker, with the message at the head of its queue."""

    flow: str
    entity: str
    token: str
    item: bytes  # packed

    @property
    def body(self) -> bytes:
        return unpack(self.item)[1]


@dataclass(frozen=True)
class FlowCounts:
    depth: int  # messages queued, in-flight included
    entities: int  # entities with work
    in_flight: int  # entities leased right now
    retrying: int  # entities whose head waits for a retry
    oldest_enqueued_ms: int | None  # the oldest head's enqueue time (lag = now - this)
    dead_letters: int
    last_success_ms: int | None


class WorkQueue(Protocol):
    kind: str

    async def route(self, flow: str, entity: str, body: bytes, *, dedup_key: str, dedup_ttl_seconds: float,
                    stream: str, group: str, entry_id: str) -> bool:
        """Append to the entity's queue unless this entry was routed before (False), then ack the entry."""
        ...

    async def ack_only(self, stream: str, group: str, entry_id: str) -> None:
        """Ack an intake entry no flow wants."""
        ...

    async def enqueue(self, flow: str, entity: str, body: bytes) -> None: ...

    async def take(self, flow: str, token: str, lease_ms: int) -> Taken | None:
        """Lease the entity that has been due longest, or None when nothing is due."""
        ...

    async def renew(self, taken: Taken, lease_ms: int) -> bool: ...

    async def complete(self, taken: Taken) -> bool:
        """Pop the head (done); the entity is due again at once if more is queued. False if the lease was lost."""
        ...

    async def retry(self, taken: Taken, body: bytes, due_ms: int) -> bool:
        """Keep the head (with its updated attempt count) and make the entity due at ``due_ms``."""
        ...

    async def dead_letter(self, taken: Taken, fields: Mapping[str, bytes]) -> str | None:
        """Pop the head into the flow's dead-letter stream; the new entry id (None if the lease was lost)."""
        ...

    async def dead_letters(self, flow: str, count: int) -> list[StreamEntry]: ...
    async def dead_letter_entry(self, flow: str, entry_id: str) -> dict[str, bytes] | None: ...
    async def drop_dead_letter(self, flow: str, entry_id: str) -> bool: ...
    async def replay_dead_letter(self, flow: str, entry_id: str, entity: str, body: bytes) -> bool:
        """Remove the dead letter and queue ``body`` for ``entity`` again, atomically; False if it is gone."""
        ...

    async def counts(self, flow: str) -> FlowCounts: ...
    async def hold_lease(self, name: str, token: str, ttl_ms: int) -> bool:
        """Take or extend a named lease (one router per intake stream); False while another token holds it."""
        ...

    async def queued(self, flow: str, entity: str, limit: int | None = None) -> list[bytes]:
        """The entity's queued bodies, head first, the first ``limit`` of them (ops, tests, flows that batch)."""
        ...


# -- the embedded implementation: the same semantics in one process -------------------------------

@dataclass
class _Flow:
    queues: dict[str, deque[bytes]] = field(default_factory=dict)
    ready: dict[str, int] = field(default_factory=dict)  # entity -> due (or lease expiry) ms
    owners: dict[str, str] = field(default_factory=dict)  # entity -> lease token
    retrying: set[str] = field(default_factory=set)
    dlq: list[StreamEntry] = field(default_factory=list)
    last_success_ms: int | None = None


class EmbeddedWorkQueue:
    """For the one-process demo and tests; ``store`` is the embedded store whose intake streams it acks."""

    kind = "embedded"

    def __init__(self, store: Store) -> None:
        self.store = store
        self._flows: dict[str, _Flow] = {}
        self._dlq_ids = 0
        self._leases: dict[str, tuple[str, float]] = {}

    def _flow(self, name: str) -> _Flow:
        return self._flows.setdefault(name, _Flow())

    async def route(self, flow: str, entity: str, body: bytes, *, dedup_key: str, dedup_ttl_seconds: float,
                    stream: str, group: str, entry_id: str) -> bool:
        key = f"route:{dedup_key}"
        fresh = await self.store.get_value(key) is None
        if fresh:
            await self.store.set_value(key, b"1", dedup_ttl_seconds)
            self._push(flow, entity, body)
        await self.store.ack(stream, group, [entry_id])
        return fresh

    async def ack_only(self, stream: str, group: str, entry_id: str) -> None:
        await self.store.ack(stream, group, [entry_id])

    def _push(self, flow: str, entity: str, body: bytes) -> None:
        state = self._flow(flow)
        queue = state.queues.setdefault(entity, deque())
        queue.append(pack(now_ms(), body))
        state.ready.setdefault(entity, now_ms())

    async def enqueue(self, flow: str, entity: str, body: bytes) -> None:
        self._push(flow, entity, body)

    async def take(self, flow: str, token: str, lease_ms: int) -> Taken | None:
        state = self._flow(flow)
        now = now_ms()
        due = [(at, entity) for entity, at in state.ready.items() if at <= now]
        if not due:
            return None
        _, entity = min(due)
        state.ready[entity] = now + lease_ms
        state.owners[entity] = token
        return Taken(flow, entity, token, state.queues[entity][0])

    def _holds(self, taken: Taken) -> _Flow | None:
        state = self._flow(taken.flow)
        return state if state.owners.get(taken.entity) == taken.token else None

    async def renew(self, taken: Taken, lease_ms: int) -> bool:
        state = self._holds(taken)
        if state is None:
            return False
        state.ready[taken.entity] = now_ms() + lease_ms
        return True

    def _pop(self, state: _Flow, entity: str) -> None:
        queue = state.queues[entity]
        queue.popleft()
        state.owners.pop(entity, None)
        state.retrying.discard(entity)
        if queue:
            state.ready[entity] = now_ms()
        else:
            del state.queues[entity]
            state.ready.pop(entity, None)

    async def complete(self, taken: Taken) -> bool:
        state = self._holds(taken)
        if state is None:
            return False
        self._pop(state, taken.entity)
        state.last_success_ms = now_ms()
        return True

    async def retry(self, taken: Taken, body: bytes, due_ms: int) -> bool:
        state = self._holds(taken)
        if state is None:
            return False
        queue = state.queues[taken.entity]
        queue[0] = pack(unpack(queue[0])[0], body)
        state.ready[taken.entity] = due_ms
        state.owners.pop(taken.entity, None)
        state.retrying.add(taken.entity)
        return True

    async def dead_letter(self, taken: Taken, fields: Mapping[str, bytes]) -> str | None:
        state = self._holds(taken)
        if state is None:
            return None
        self._dlq_ids += 1
        entry_id = f"{now_ms()}-{self._dlq_ids}"
        state.dlq.append((entry_id, dict(fields)))
        self._pop(state, taken.entity)
        return entry_id

    async def dead_letters(self, flow: str, count: int) -> list[StreamEntry]:
        return self._flow(flow).dlq[:count]

    async def dead_letter_entry(self, flow: str, entry_id: str) -> dict[str, bytes] | None:
        return next((fields for eid, fields in self._flow(flow).dlq if eid == entry_id), None)

    async def drop_dead_letter(self, flow: str, entry_id: str) -> bool:
        state = self._flow(flow)
        before = len(state.dlq)
        state.dlq = [(eid, fields) for eid, fields in state.dlq if eid != entry_id]
        return len(state.dlq) < before

    async def replay_dead_letter(self, flow: str, entry_id: str, entity: str, body: bytes) -> bool:
        if not await self.drop_dead_letter(flow, entry_id):
            return False
        self._push(flow, entity, body)
        return True

    async def counts(self, flow: str) -> FlowCounts:
        state = self._flow(flow)
        now = now_ms()
        heads = [unpack(queue[0])[0] for queue in state.queues.values() if queue]
        in_flight = sum(1 for entity in state.owners if state.ready.get(entity, 0) > now)
        return FlowCounts(sum(len(q) for q in state.queues.values()), len(state.queues), in_flight,
                          len(state.retrying), min(heads) if heads else None, len(state.dlq), state.last_success_ms)

    async def queued(self, flow: str, entity: str, limit: int | None = None) -> list[bytes]:
        items = list(self._flow(flow).queues.get(entity, ()))
        return [unpack(item)[1] for item in items[:limit]]

    async def hold_lease(self, name: str, token: str, ttl_ms: int) -> bool:
        holder, until = self._leases.get(name, ("", 0.0))
        now = time.monotonic()
        if holder and holder != token and until > now:
            return False
        self._leases[name] = (token, now + ttl_ms / 1000)
        return True

