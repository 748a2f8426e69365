"""Stores: the embedded one (one process, keeps nothing) and Redis (durable, shared)."""
from __future__ import annotations

from pricing_edge.config import Settings
from pricing_edge.store.base import Store
from pricing_edge.store.keys import Keys
from pricing_edge.store.ledger import Ledger
from pricing_edge.store.work_queue import WorkQueue


def open_store(settings: Settings) -> Store:
    """Redis when PRICING_EDGE_REDIS_URL is set, else the embedded store."""
    keys = Keys(settings.redis_prefix)
    if settings.redis_url:
        from pricing_edge.store.redis_store import RedisStore

        return RedisStore(settings.redis_url, keys, socket_timeout=settings.redis_timeout)
    from pricing_edge.store.embedded import EmbeddedStore

    return EmbeddedStore(keys)


def open_work_queue(store: Store) -> WorkQueue:
    """The worker's queue on the same backend as ``store``."""
    if store.kind == "redis":
        from pricing_edge.store.redis_store import RedisStore
        from pricing_edge.store.redis_work_queue import RedisWorkQueue

        assert isinstance(store, RedisStore)
        return RedisWorkQueue(store)
    from pricing_edge.store.work_queue import EmbeddedWorkQueue

    return EmbeddedWorkQueue(store)


def open_ledger(store: Store) -> Ledger:
    if store.kind == "redis":
        from pricing_edge.store.redis_ledger import RedisLedger
        from pricing_edge.store.redis_store import RedisStore

        assert isinstance(store, RedisStore)
        return RedisLedger(store)
    from pricing_edge.store.ledger import EmbeddedLedger

    return EmbeddedLedger()
