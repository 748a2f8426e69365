"""Per-client token limits (issue 19): one client sending tokens the edge has never seen gets at most
``UNKNOWN_TOKENS_PER_MINUTE`` of them checked by BigCommerce, then BigCommerce's own 429 without an
upstream call. Counted, not timed: the BigCommerce simulator counts the calls it serves."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pricing_edge.config import Settings
from tests.e2e.conftest import System, start_system

LIMIT = 5
QUERY = "{ site { settings { storeName } } }"


def system_with(redis_url: str, redis_prefix: str, tmp_path: Path, **settings: object) -> Iterator[System]:
    yield from start_system(replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix,
                                    unknown_tokens_per_minute=LIMIT, **settings), tmp_path)


@pytest.fixture
def system(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    yield from system_with(redis_url, redis_prefix, tmp_path)


@pytest.fixture
def proxied(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[System]:
    """The edge behind a proxy at 127.0.0.1 (where the test's requests come from)."""
    yield from system_with(redis_url, redis_prefix, tmp_path, trusted_proxies=("127.0.0.1/32",))


def upstream_calls(system: System) -> int:
    count: int = httpx.get(system.bigcommerce.base_url + "/_sim/requests", timeout=30).json()["requests"]
    return count


def ask(system: System, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(system.edge_url, json={"query": QUERY}, headers=headers, timeout=30)


def random_token() -> dict[str, str]:
    return {"Authorization": f"Bearer {secrets.token_hex(16)}"}


def test_random_tokens_from_one_client_cost_at_most_the_limit_in_upstream_checks(system: System) -> None:
    guest = system.buyer("guest")["headers"]
    assert ask(system, guest).status_code == 200  # its token is checked once: 1 of the 5
    before = upstream_calls(system)
    answers = [ask(system, random_token()) for _ in range(20)]
    assert upstream_calls(system) - before == LIMIT - 1  # 4 checks, then nothing reaches BigCommerce
    assert [a.status_code for a in answers[LIMIT - 1:]] == [429] * (21 - LIMIT)
    limited = answers[-1]
    assert limited.json() == {"status": 429, "title": "Too many requests",
                              "type": "/api-docs/getting-started/api-status-codes", "errors": {}}
    assert limited.headers["x-rate-limit-requests-left"] == "0"
    assert int(limited.headers["x-rate-limit-time-reset-ms"]) > 0
    # Random customer access tokens count the same way (each would be a customer lookup upstream).
    before = upstream_calls(system)
    for _ in range(10):
        answer = ask(system, guest | {"X-Bc-Customer-Access-Token": secrets.token_hex(16)})
        assert answer.status_code == 429
    assert upstream_calls(system) - before == 0
    # A token already known is never counted: the buyer who was here first is still served.
    assert ask(system, guest).status_code == 200
    metrics = httpx.get(system.edge.base_url + "/metrics", timeout=30).text
    assert 'pricing_edge_client_limited_total{limit="unknown_tokens"} 26.0' in metrics


def test_behind_a_trusted_proxy_each_true_client_ip_has_its_own_limit(proxied: System) -> None:
    attacker = {"True-Client-IP": "203.0.113.7"}
    before = upstream_calls(proxied)
    answers = [ask(proxied, random_token() | attacker) for _ in range(LIMIT + 3)]
    assert [a.status_code for a in answers].count(429) == 3
    assert upstream_calls(proxied) - before == LIMIT
    neighbour = ask(proxied, random_token() | {"True-Client-IP": "203.0.113.8"})
    assert neighbour.status_code != 429  # checked upstream (and refused there): another client
    assert upstream_calls(proxied) - before == LIMIT + 1


def test_without_a_trusted_proxy_true_client_ip_is_not_believed(system: System) -> None:
    answers = [ask(system, random_token() | {"True-Client-IP": f"198.51.100.{i}"}) for i in range(LIMIT + 2)]
    assert [a.status_code for a in answers].count(429) == 2  # one client: the peer address


HOSTILE = "{ " + " ".join("a: site" if i % 2 else "a: __typename" for i in range(6000)) + " }"


def test_a_client_whose_documents_keep_being_refused_is_turned_away_before_its_body_is_read(
        proxied: System) -> None:
    attacker = proxied.buyer("guest")["headers"] | {"True-Client-IP": "203.0.113.9"}
    refused = [httpx.post(proxied.edge_url, json={"query": HOSTILE}, headers=attacker, timeout=30)
               for _ in range(Settings.from_env({}).refused_documents_per_minute + 1)]
    assert all(r.status_code == 200 and r.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
               for r in refused)  # each refused by the budget, in a GraphQL error
    # Past the allowance even a body that is not JSON gets the 429: the body is no longer read at all.
    turned_away = httpx.post(proxied.edge_url, content=b"{not json", headers=attacker | {"Content-Type":
                                                                                       "application/json"},
                             timeout=30)
    assert turned_away.status_code == 429
    assert turned_away.headers["x-rate-limit-requests-left"] == "0"
    # Another client behind the same proxy is heard as before.
    neighbour = proxied.buyer("guest")["headers"] | {"True-Client-IP": "203.0.113.10"}
    assert httpx.post(proxied.edge_url, content=b"{not json", headers=neighbour | {"Content-Type":
                                                                                 "application/json"},
                      timeout=30).status_code == 400
    assert ask(proxied, neighbour).status_code == 200
    metrics = httpx.get(proxied.edge.base_url + "/metrics", timeout=30).text
    assert 'pricing_edge_client_limited_total{limit="refused_documents"} 1.0' in metrics
