"""Session-wide fixtures: a real Redis, each test with its own key prefix."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.redis_server import test_redis_url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with test_redis_url() as url:
        yield url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"pe-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
