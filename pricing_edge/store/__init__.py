"""Stores: the embedded one (one process, keeps nothing), Redis (durable, shared) and Redis Cluster.

A store builds what lives beside its records on the same backend — the worker's queue, the sync
ledger, the cart reservations (``store.work_queue()``, ``store.ledger()``, ``store.reservations()``) —
so callers never ask which kind they hold.
"""
from __future__ import annotations

from pricing_edge.config import Settings
from pricing_edge.store.base import Store
from pricing_edge.store.keys import Keys


def open_store(settings: Settings) -> Store:
    """By ``PRICING_EDGE_REDIS_URL``: unset ⇒ embedded; ``redis://``/``rediss://`` ⇒ one Redis;
    ``redis+cluster://``/``rediss+cluster://`` ⇒ a Redis Cluster (see ``redis_client``)."""
    keys = Keys(settings.redis_prefix)
    if not settings.redis_url:
        from pricing_edge.store.embedded import EmbeddedStore

        return EmbeddedStore(keys)
    from pricing_edge.store.redis_client import is_cluster_url

    if is_cluster_url(settings.redis_url):
        from pricing_edge.store.redis_cluster import RedisClusterStore

        return RedisClusterStore(settings.redis_url, keys, socket_timeout=settings.redis_timeout)
    from pricing_edge.store.redis_store import RedisStore

    return RedisStore(settings.redis_url, keys, socket_timeout=settings.redis_timeout)
