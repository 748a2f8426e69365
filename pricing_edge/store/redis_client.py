"""Connecting to Redis from ``PRICING_EDGE_REDIS_URL``: one server or a Redis Cluster.

- ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS): one server (with its replicas
  behind Sentinel or a managed endpoint that follows the master).
- ``redis+cluster://[user:password@]host:port[,host:port...]`` (``rediss+cluster://`` for TLS): a
  Redis Cluster. The hosts are seed nodes — any reachable one is enough, several survive the loss of
  one at start; the client learns every node and slot from them and follows failovers and resharding.
  A cluster has database 0 only, so a path other than ``/`` or ``/0`` is refused.

Both clients queue a burst of commands for a free connection (a blocking pool, or the cluster's
per-node limit with a wait) instead of failing at the pool's limit, which would read as "Redis down".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster

CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}  # scheme -> TLS


class RedisUrlError(ValueError):
    """``PRICING_EDGE_REDIS_URL`` cannot be understood; the message names what is wrong."""


@dataclass(frozen=True)
class ClusterUrl:
    seeds: tuple[tuple[str, int], ...]
    username: str | None
    password: str | None
    tls: bool


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def parse_cluster_url(url: str) -> ClusterUrl:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in CLUSTER_SCHEMES:
        raise RedisUrlError(f"not a Redis Cluster URL (redis+cluster://host:port,...): {_redacted(url)}")
    credentials, _, hosts_and_path = rest.rpartition("@")
    hosts, _, path = hosts_and_path.partition("/")
    if path not in ("", "0"):
        raise RedisUrlError(f"a Redis Cluster has database 0 only; drop '/{path}' from {_redacted(url)}")
    seeds = []
    for part in hosts.split(","):
        parsed = urlsplit(f"//{part.strip()}")
        try:
            port = parsed.port or 6379
        except ValueError as exc:
            raise RedisUrlError(f"bad port in Redis Cluster seed {part!r}") from exc
        if not parsed.hostname:
            raise RedisUrlError(f"empty host in Redis Cluster URL {_redacted(url)}")
        seeds.append((parsed.hostname, port))
    username, password = None, None
    if credentials:
        user, has_password, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    return ClusterUrl(tuple(seeds), username, password, CLUSTER_SCHEMES[scheme.lower()])


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}***@{rest.rpartition('@')[2]}" if "@" in rest else url


def where(url: str) -> str:
    """The URL without credentials, for logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"


def connect(url: str, *, socket_timeout: float = 2.0, max_connections: int = 128) -> Any:
    """A client for ``url`` (see the module doc). Typed ``Any``: redis-py's stubs type every reply as
    ``bytes | str`` whatever the options say."""
    common: dict[str, Any] = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout,
                              "health_check_interval": 10}
    if not is_cluster_url(url):
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections,
                                                        timeout=socket_timeout, **common)
        return aioredis.Redis(connection_pool=pool)
    parsed = parse_cluster_url(url)
    return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in parsed.seeds],
                        username=parsed.username, password=parsed.password, ssl=parsed.tls,
                        max_connections=max_connections, **common)


async def disconnect(client: Any) -> None:
    """Close a client from :func:`connect` and every connection of its pool."""
    await client.aclose()
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        await pool.disconnect()
