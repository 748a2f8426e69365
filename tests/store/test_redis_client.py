"""``PRICING_EDGE_REDIS_URL`` names one Redis or a Redis Cluster; a URL that cannot work is refused with
the reason, and credentials never appear in what is logged."""
from __future__ import annotations

import pytest

from pricing_edge.config import Settings
from pricing_edge.store import open_store
from pricing_edge.store.redis_client import ClusterUrl, RedisUrlError, is_cluster_url, parse_cluster_url, where


def test_a_cluster_url_lists_its_seed_nodes_and_credentials() -> None:
    assert parse_cluster_url("redis+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002/0") == ClusterUrl(
        (("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002)), "app", "s@cret", tls=False)
    assert parse_cluster_url("rediss+cluster://:pw@cache.example.com:6380").tls is True
    assert is_cluster_url("REDIS+CLUSTER://a:1") and not is_cluster_url("redis://a:1/0")


@pytest.mark.parametrize(("url", "reason"), [
    ("redis+cluster://a:7000/3", "database 0 only"),
    ("redis+cluster://a:port", "bad port"),
    ("redis+cluster://a:7000,,b:7001", "empty host"),
    ("redis://a:7000", "not a Redis Cluster URL"),
])
def test_a_cluster_url_that_cannot_work_is_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(RedisUrlError, match=reason):
        parse_cluster_url(url)


def test_logs_never_show_credentials() -> None:
    assert where("redis+cluster://app:secret@10.0.0.1:7000,10.0.0.2:7001") == "redis+cluster://10.0.0.1:7000,10.0.0.2:7001"
    with pytest.raises(RedisUrlError) as refused:
        parse_cluster_url("redis+cluster://app:secret@a:7000/2")
    assert "secret" not in str(refused.value)


async def test_the_url_picks_the_store_kind() -> None:
    for url, kind in (("redis://127.0.0.1:1/0", "redis"), ("redis+cluster://127.0.0.1:1", "redis-cluster")):
        store = open_store(Settings.from_env({"PRICING_EDGE_REDIS_URL": url}))
        assert store.kind == kind
        await store.aclose()
    assert open_store(Settings.from_env({})).kind == "embedded"
