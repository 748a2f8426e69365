"""The ops API is for operators only: a bearer token for scripts, a session with a CSRF token for the
page, nobody at all when no token is configured; every replay, drop and login is audited with who did
it; a token can be rotated (two valid at once) and removing one ends its sessions."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest

from pricing_edge.config import Settings
from pricing_edge.ops.access import OpsTokenError, parse_tokens
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.worker.main import worker_app
from tests.support.servers import ServerThread, serve

ALICE = "alice-0123456789abcdef"
ALICE_NEXT = "alice-fedcba9876543210"
BOB = "bob-0123456789abcdef01"
PROTECTED = [("GET", "/ops/status"), ("GET", "/ops/dlq"), ("GET", "/ops/dlq/orders:1-0"),
             ("POST", "/ops/dlq/orders:1-0/replay"), ("DELETE", "/ops/dlq/orders:1-0"), ("POST", "/ops/dlq/replay-all"),
             ("GET", "/ops/ledger/orders/1"), ("GET", "/ops/edges"), ("GET", "/ops/audit"),
             ("GET", "/ops/reconciliation"), ("GET", "/ops/session"), ("POST", "/ops/logout")]


@contextmanager
def worker(tokens: str | None) -> Iterator[ServerThread]:
    settings = replace(Settings.from_env({}), ops_tokens=tokens, erp_url="http://127.0.0.1:9",
                       admin_url="http://127.0.0.1:9")
    with serve(worker_app(settings, store=EmbeddedStore(announce=False))) as server:
        yield server


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with worker(f"alice:{ALICE},alice:{ALICE_NEXT},bob:{BOB}") as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def login(server: ServerThread, token: str) -> tuple[httpx.Client, str]:
    browser = httpx.Client(base_url=server.base_url, timeout=30)
    answer = browser.post("/ops/login", json={"token": token}, headers={"origin": server.base_url})
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ops" in cookie
    return browser, answer.json()["csrf"]


def test_ops_requests_without_a_valid_token_are_refused(server: ServerThread) -> None:
    for method, path in PROTECTED:
        for headers in ({}, bearer("not-a-token-at-all-xyz"), {"authorization": f"Basic {ALICE}"}):
            answer = httpx.request(method, server.base_url + path, headers=headers, timeout=30)
            assert answer.status_code == 401, (method, path, headers)
            assert "ops token" in answer.json()["error"]
            assert answer.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(server.base_url + "/ops/status", headers=bearer(BOB), timeout=30).status_code == 200
    # health and metrics stay open for probes and scrapers; the page itself holds no data
    for path in ("/healthz", "/metrics", "/ops/"):
        assert httpx.get(server.base_url + path, timeout=30).status_code == 200


def test_with_no_token_configured_the_ops_api_is_closed_to_everyone() -> None:
    with worker(None) as closed:
        for method, path in PROTECTED:
            answer = httpx.request(method, closed.base_url + path, headers=bearer(ALICE), timeout=30)
            assert answer.status_code == 403 and "PRICING_EDGE_OPS_TOKENS" in answer.json()["error"], path
        answer = httpx.post(closed.base_url + "/ops/login", json={"token": ALICE}, timeout=30)
        assert answer.status_code == 403


def test_a_page_action_without_the_csrf_token_is_refused_and_changes_nothing(server: ServerThread) -> None:
    browser, csrf = login(server, BOB)
    cookie = browser.cookies.get("pe_ops_session")
    assert cookie and cookie.startswith("bob|")
    assert browser.get("/ops/status").status_code == 200  # reading needs the session only
    before = len(httpx.get(server.base_url + "/ops/audit", headers=bearer(ALICE), timeout=30).json()["entries"])

    refused = browser.post("/ops/dlq/replay-all")  # the cookie alone, as a forged cross-site form would send it
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    assert browser.post("/ops/dlq/replay-all", headers={"x-csrf-token": "guessed"}).status_code == 403
    cross = browser.post("/ops/dlq/replay-all", headers={"x-csrf-token": csrf, "origin": "https://evil.example"})
    assert cross.status_code == 403 and "cross-origin" in cross.json()["error"]
    after = httpx.get(server.base_url + "/ops/audit", headers=bearer(ALICE), timeout=30).json()["entries"]
    assert len(after) == before  # nothing was done, so nothing was audited

    done = browser.post("/ops/dlq/replay-all", headers={"x-csrf-token": csrf, "origin": server.base_url})
    assert done.status_code == 200
    latest = httpx.get(server.base_url + "/ops/audit?limit=1", headers=bearer(ALICE), timeout=30).json()["entries"]
    assert (latest[0]["operator"], latest[0]["via"], latest[0]["action"]) == ("bob", "dashboard", "dlq.replay-all")
    assert browser.post("/ops/logout", headers={"x-csrf-token": csrf}).status_code == 200
    assert browser.get("/ops/status").status_code == 401


def test_a_bearer_token_needs_no_csrf_and_is_audited_by_name(server: ServerThread) -> None:
    answer = httpx.delete(server.base_url + "/ops/dlq/orders:1-0", headers=bearer(ALICE_NEXT), timeout=30)
    assert answer.status_code == 404  # nothing to drop; the attempt is still audited
    (entry,) = httpx.get(server.base_url + "/ops/audit?limit=1", headers=bearer(BOB), timeout=30).json()["entries"]
    assert (entry["operator"], entry["via"], entry["action"], entry["target"], entry["outcome"]) == (
        "alice", "api", "dlq.drop", "orders:1-0", "not found")
    assert entry["at_ms"] > 0 and entry["address"] == "127.0.0.1"


def test_login_refuses_wrong_tokens_cross_site_forms_and_guessing(server: ServerThread) -> None:
    url = server.base_url + "/ops/login"
    assert httpx.post(url, json={"token": "wrong-wrong-wrong-wrong"}, timeout=30).status_code == 401
    assert httpx.post(url, data={"token": ALICE}, timeout=30).status_code == 415  # a plain form cannot log in
    assert httpx.post(url, json={"token": ALICE}, headers={"origin": "https://evil.example"},
                      timeout=30).status_code == 403
    statuses = [httpx.post(url, json={"token": f"guess-{i:020d}"}, timeout=30).status_code for i in range(12)]
    assert statuses[-1] == 429 and set(statuses) <= {401, 429}


def test_rotation_two_tokens_valid_at_once_and_removing_one_ends_its_sessions() -> None:
    with worker(f"alice:{ALICE},alice:{ALICE_NEXT}") as before:
        old_session, _ = login(before, ALICE)
        new_session, _ = login(before, ALICE_NEXT)
        for token in (ALICE, ALICE_NEXT):
            assert httpx.get(before.base_url + "/ops/status", headers=bearer(token), timeout=30).status_code == 200
        cookies = {"old": old_session.cookies.get("pe_ops_session"), "new": new_session.cookies.get("pe_ops_session")}
    with worker(f"alice:{ALICE_NEXT}") as after:  # the rotation is over: the old token is gone
        assert httpx.get(after.base_url + "/ops/status", headers=bearer(ALICE), timeout=30).status_code == 401
        assert httpx.get(after.base_url + "/ops/status", headers=bearer(ALICE_NEXT), timeout=30).status_code == 200
        status = {name: httpx.get(after.base_url + "/ops/status", cookies={"pe_ops_session": value or ""},
                                  timeout=30).status_code for name, value in cookies.items()}
        assert status == {"old": 401, "new": 200}


def test_bad_token_settings_say_what_is_wrong() -> None:
    assert [t.name for t in parse_tokens(f"alice:{ALICE}, {BOB}")] == ["alice", "ops"]
    assert parse_tokens(None) == [] and parse_tokens(" , ") == []
    with pytest.raises(OpsTokenError, match="shorter than 16"):
        parse_tokens("alice:short")
    with pytest.raises(OpsTokenError, match="not a token name"):
        parse_tokens(f"al ice:{ALICE}")
