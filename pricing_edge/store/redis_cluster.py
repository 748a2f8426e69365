"""The Redis store on a Redis Cluster: the same store (``redis_store``) where only what a cluster does
differently differs.

- Reads of many records (``MGET``) are split by slot: records spread over the whole cluster.
- Invalidation uses *sharded* pub/sub (``SPUBLISH``/``SSUBSCRIBE``, Redis 7): a message goes to the
  nodes serving the channel's slot only, where classic ``PUBLISH`` is copied to every node over the
  cluster bus (bus traffic growing with the cluster). redis-py's asyncio cluster client has it since 8.0
  and moves the subscription to the new master after a failover.
- The durability check reads every node's settings: any replica becomes a master in a failover.

Everything else — scripts, streams, the work queue, ledger and reservations — works unchanged because
every group of keys one operation touches shares a hash tag (``keys``).
"""
from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import ClusterNode
from redis.crc import key_slot

from pricing_edge.store.redis_store import RedisStore, mapped, server_config


class RedisClusterStore(RedisStore):
    kind = "redis-cluster"

    async def _mget(self, keys: list[str]) -> list[Any]:
        return list(await self.client.mget_nonatomic(keys))

    def _same_slot(self, keys: list[str]) -> list[list[int]]:
        """A multi-key script call must stay in one slot: group by the keys' slots."""
        groups: dict[int, list[int]] = {}
        for index, key in enumerate(keys):
            groups.setdefault(key_slot(key.encode()), []).append(index)
        return list(groups.values())

    @mapped
    async def publish(self, channel: str, message: bytes) -> None:
        await self.client.spublish(self.keys.channel(channel), message)

    MESSAGE = "smessage"

    async def _join(self, pubsub: Any, channel: str) -> None:
        await self.client.initialize()  # the slot map first: where the channel's shard is
        await pubsub.ssubscribe(channel)

    async def _next_message(self, pubsub: Any) -> Any:
        return await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=1.0)

    @mapped
    async def server_configs(self) -> dict[str, dict[str, str]]:
        """Every live node's settings, named ``host:port (primary|replica)``. The nodes come from CLUSTER
        NODES: the client itself knows replicas only once they hold data (CLUSTER SLOTS hides the others)."""
        await self.client.initialize()
        seed = self.client.get_nodes()[0]
        found: dict[str, dict[str, str]] = {}
        listed: dict[str, dict[str, Any]] = await self.client.execute_command("CLUSTER NODES", target_nodes=seed)
        for address, fields in sorted(listed.items()):
            flags = str(fields.get("flags", ""))
            if "fail" in flags or "noaddr" in flags or "handshake" in flags:
                continue  # down or not yet joined: the cluster's own failover handles it
            host, _, port = address.split("@", 1)[0].rpartition(":")
            role = "primary" if "master" in flags else "replica"
            node = self.client.get_node(host=host or seed.host, port=int(port))
            temporary = node is None
            if node is None:
                node = ClusterNode(host or seed.host, int(port), role, **self.client.nodes_manager.connection_kwargs)
            try:
                found[f"{node.name} ({role})"] = await server_config(self.client, target_nodes=node)
            finally:
                if temporary:
                    await node.disconnect()
        return found
