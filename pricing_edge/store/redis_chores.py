"""Small synchronous Redis chores for tools and tests: is a Redis there, and clear a key prefix
(a test's or a benchmark run's own keys). Not for the serving path, which is async."""
from __future__ import annotations

import redis


def answers(url: str) -> bool:
    """True when a Redis at ``url`` answers PING within half a second."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def delete_prefix(url: str, prefix: str) -> int:
    """Remove every key under ``prefix``; how many there were."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
        return len(keys)
    finally:
        client.close()
