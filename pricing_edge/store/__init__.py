"""Stores: the embedded one (one process, keeps nothing) and Redis (durable, shared)."""
from __future__ import annotations

from pricing_edge.config import Settings
from pricing_edge.store.base import Store
from pricing_edge.store.keys import Keys


def open_store(settings: Settings) -> Store:
    """Redis when PRICING_EDGE_REDIS_URL is set, else the embedded store."""
    keys = Keys(settings.redis_prefix)
    if settings.redis_url:
        from pricing_edge.store.redis_store import RedisStore

        return RedisStore(settings.redis_url, keys)
    from pricing_edge.store.embedded import EmbeddedStore

    return EmbeddedStore(keys)
