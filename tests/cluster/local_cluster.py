"""A real Redis Cluster of our own on free ports: ``redis-server --cluster-enabled yes`` per node, joined
by ``redis-cli --cluster create``; masters can be killed (SIGKILL) and their replicas promoted."""
from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field

import redis

from pricing_edge.runtime import free_port
from tests.support.polling import wait_until
from tests.support.redis_server import INSTALL_HINT

NODE_TIMEOUT_MS = 1000  # how long a master may be silent before its replica takes over


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class LocalCluster:
    masters: int = 3
    replicas: int = 1  # per master
    aof: bool = False
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="pricing-edge-cluster-")

    @property
    def url(self) -> str:
        """``redis+cluster://`` with two seed nodes, as a merchant would configure it."""
        return "redis+cluster://" + ",".join(node.address for node in self.nodes[:2])

    def start(self) -> LocalCluster:
        binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if binary is None or cli is None:
            raise RuntimeError(INSTALL_HINT)
        for _ in range(self.masters * (1 + self.replicas)):
            port = free_port()
            process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-port", str(free_port()), "--cluster-config-file", f"nodes-{port}.conf",
                 "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--save", "", "--dir", self._dir,
                 "--appendonly", "yes" if self.aof else "no", "--appendfilename", f"aof-{port}.aof",
                 "--appenddirname", f"aof-{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.nodes.append(Node(port, process))
        try:
            for node in self.nodes:
                wait_until(lambda node=node: _pings(node), timeout=15, what=f"redis node {node.port}")
            subprocess.run([cli, "--cluster", "create", *(n.address for n in self.nodes), "--cluster-replicas",
                            str(self.replicas), "--cluster-yes"], check=True, capture_output=True, timeout=60)
            wait_until(self.healthy, timeout=30, interval=0.2, what="the cluster to be formed")
        except BaseException:
            self.stop()
            raise
        return self

    def roles(self) -> dict[int, str]:
        """port → "master" | "slave", as the live nodes see it (CLUSTER NODES of the first one alive)."""
        alive = next(node for node in self.nodes if node.alive())
        with alive.client() as client:
            nodes = client.execute_command("CLUSTER NODES")  # parsed by redis-py: address -> fields
        return {int(address.split("@")[0].rsplit(":", 1)[1]): "master" if "master" in fields["flags"] else "slave"
                for address, fields in nodes.items() if "fail" not in fields["flags"]}

    def master_of(self, key: str) -> Node:
        alive = next(node for node in self.nodes if node.alive())
        with alive.client() as client:
            slot = int(client.execute_command("CLUSTER KEYSLOT", key))
            for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                if start <= slot <= end:
                    return next(node for node in self.nodes if node.port == int(master[1]))
        raise AssertionError(f"no master serves {key}")

    def healthy(self) -> bool:
        """Every live node says the cluster is ok, with ``masters`` masters each having its replicas in sync."""
        try:
            for node in self.nodes:
                if node.alive():
                    with node.client() as client:
                        if client.execute_command("CLUSTER INFO")["cluster_state"] != "ok":
                            return False
                        info = client.info("replication")
                        if info["role"] == "slave" and info.get("master_link_status") != "up":
                            return False
            return list(self.roles().values()).count("master") == self.masters
        except (redis.RedisError, OSError):
            return False

    def kill(self, node: Node) -> None:
        """SIGKILL: no goodbye to the cluster, as a crashed host or OOM kill."""
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(timeout=10)

    def promoted_after(self, node: Node, timeout: float = 30.0) -> None:
        """Wait until the replica of a killed master has taken over and the cluster is ok again."""
        def taken_over() -> bool:
            try:
                roles = self.roles()
                ok = all(_state(n) == "ok" for n in self.nodes if n.alive())
                return ok and node.port not in roles and list(roles.values()).count("master") == self.masters
            except (redis.RedisError, OSError):
                return False

        wait_until(taken_over, timeout=timeout, interval=0.1, what=f"a replica promoted in place of {node.port}")

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive():
                node.process.kill()
            node.process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


def _state(node: Node) -> str:
    with node.client() as client:
        return str(client.execute_command("CLUSTER INFO")["cluster_state"])


def _pings(node: Node) -> bool:
    try:
        with node.client() as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
