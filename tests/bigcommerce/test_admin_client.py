"""The REST Admin client against the simulator over real HTTP: what it sends and gets validates against the
vendor's OpenAPI files, money stays exact strings, webhooks register idempotently, it waits out rate limits
(sharing the wait) within its patience, every call carries a traceparent, and only our errors escape."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceRejected, BigCommerceUnavailable
from pricing_edge.jsonio import dumps
from pricing_edge.ops import tracing
from pricing_edge.sim.dataset import Dataset
from tests.bigcommerce.conftest import RecordedSim, served
from tests.sim.admin.support import ADMIN_TOKEN, STORE_HASH, check_recorded, order_body
from tests.support.redis_server import free_port

SCOPES = ["store/order/created", "store/order/updated", "store/order/statusUpdated", "store/shipment/created"]


def admin_for(sim: RecordedSim, **options: Any) -> BigCommerceAdmin:
    return BigCommerceAdmin(sim.server.base_url, store_hash=STORE_HASH, access_token=ADMIN_TOKEN, **options)


@pytest.fixture
async def admin(sim: RecordedSim) -> AsyncIterator[BigCommerceAdmin]:
    client = admin_for(sim)
    yield client
    await client.aclose()


def place_order(sim: RecordedSim, dataset: Dataset, **extra: Any) -> int:
    with sim.rest() as rest:
        response = rest.post("/v2/orders", content=dumps(order_body(dataset, **extra)))
    assert response.status_code == 200, response.text
    order_id: int = response.json()["id"]
    return order_id


async def test_an_order_round_trip_and_every_exchange_matches_the_spec(
        sim: RecordedSim, dataset: Dataset, admin: BigCommerceAdmin) -> None:
    assert await admin.get_order(4242) is None
    order_id = place_order(sim, dataset)
    start = len(sim.recorder.all())

    order = await admin.get_order(order_id)
    assert order is not None and order["id"] == order_id and order["status_id"] == 11
    assert isinstance(order["total_inc_tax"], str)  # v2 money: strings, never floats
    products = await admin.get_order_products(order_id)
    assert [p["sku"] for p in products][-1] == "CUSTOM-ENGRAVE-1"
    assert products[-1]["price_ex_tax"] == "4.5000"
    [address] = await admin.get_shipping_addresses(order_id)
    assert await admin.list_shipments(order_id) == []  # the v2 204
    updated = await admin.update_order(order_id, {"status_id": 9, "external_order_id": "SO-100001"})
    assert (updated["status"], updated["external_order_id"]) == ("Awaiting Shipment", "SO-100001")
    shipment = await admin.create_shipment(order_id, {
        "order_address_id": address["id"], "tracking_number": "1Z999", "shipping_provider": "ups",
        "items": [{"order_product_id": p["id"], "quantity": p["quantity"]} for p in products]})
    assert [s["id"] for s in await admin.list_shipments(order_id)] == [shipment["id"]]
    assert (await admin.get_order(order_id) or {})["status"] == "Shipped"
    statuses = await admin.list_order_statuses()
    assert [s["id"] for s in statuses] == list(range(15))
    assert [o["id"] for o in await admin.list_orders(min_id=order_id)] == [order_id]
    hook = await admin.create_hook("store/order/*", "https://example.com/hooks", headers={"X-Key": "v"})
    assert [h["id"] for h in await admin.list_hooks()] == [hook["id"]]
    assert (await admin.update_hook(hook["id"], {"is_active": False}))["is_active"] is False

    exchanges = [e for e in sim.recorder.all()[start:] if "traceparent" in e.headers]  # the client's
    assert len(exchanges) == 13
    for exchange in exchanges:
        assert exchange.headers["accept"] == "application/json"
        check_recorded(exchange)  # the client's request and the simulator's answer, against the vendor's spec


async def test_register_webhooks_is_idempotent(sim: RecordedSim, admin: BigCommerceAdmin) -> None:
    destination = "https://edge.example.com/webhooks/bigcommerce"
    headers = {"X-Pricing-Edge-Webhook": "token-1"}
    first = await admin.register_webhooks(destination, SCOPES, headers)
    assert [(r["scope"], r["action"]) for r in first] == [(s, "created") for s in SCOPES]
    hooks_after_first = await admin.list_hooks()
    second = await admin.register_webhooks(destination, SCOPES, headers)
    assert [(r["scope"], r["action"], r["id"]) for r in second] == \
        [(r["scope"], "unchanged", r["id"]) for r in first]
    assert await admin.list_hooks() == hooks_after_first

    # Someone deactivates one hook and edits another's headers; a third scope is new.
    await admin.update_hook(first[0]["id"], {"is_active": False})
    await admin.update_hook(first[1]["id"], {"headers": {"X-Pricing-Edge-Webhook": "stale"}})
    third = await admin.register_webhooks(destination, [*SCOPES, "store/order/archived"], headers)
    assert [r["action"] for r in third] == ["reactivated", "updated", "unchanged", "unchanged", "created"]
    assert [r["id"] for r in third[:4]] == [r["id"] for r in first]
    hooks = await admin.list_hooks()
    assert len(hooks) == 5
    assert all(h["is_active"] and h["headers"] == headers and h["destination"] == destination for h in hooks)
    assert [r["action"] for r in await admin.register_webhooks(destination, [*SCOPES, "store/order/archived"],
                                                               headers)] == ["unchanged"] * 5
    # Another destination is another set of hooks.
    other = await admin.register_webhooks("https://other.example.com/wh", SCOPES[:1], None)
    assert [r["action"] for r in other] == ["created"]


async def test_every_call_carries_the_current_traceparent(sim: RecordedSim, admin: BigCommerceAdmin) -> None:
    with tracing.span("worker.orders") as parent:
        await admin.list_order_statuses()
        await admin.get_order(1)
    await admin.list_hooks()  # outside any span: still a traceparent (a fresh trace)
    exchanges = sim.recorder.all()
    assert len(exchanges) == 3
    assert all(tracing.is_valid(e.headers.get("traceparent")) for e in exchanges)
    assert [tracing.trace_id(e.headers["traceparent"]) for e in exchanges[:2]] == [tracing.trace_id(parent)] * 2


@pytest.fixture
def tiny_quota(dataset: Dataset) -> Iterator[RecordedSim]:
    yield from served(dataset, rate_limit=(3, 0.4))


async def test_the_client_waits_for_the_window_when_nothing_is_left(tiny_quota: RecordedSim) -> None:
    admin = admin_for(tiny_quota)
    try:
        results = [await admin.list_order_statuses() for _ in range(8)]
    finally:
        await admin.aclose()
    assert all(len(r) == 15 for r in results)
    limiter = tiny_quota.admin.limiter
    assert limiter.rejected_total == 0  # it read X-Rate-Limit-Requests-Left and waited instead of hitting 429s
    assert limiter.windows >= 3 and admin.rate_limit_waits[0] >= 2


async def test_concurrent_callers_share_the_wait_and_all_succeed(tiny_quota: RecordedSim) -> None:
    admin = admin_for(tiny_quota)
    try:
        await admin.list_order_statuses()  # learn the window
        results = await asyncio.gather(*(admin.list_order_statuses() for _ in range(10)))
    finally:
        await admin.aclose()
    assert len(results) == 10 and all(len(r) == 15 for r in results)
    assert tiny_quota.admin.limiter.windows >= 4


async def test_a_429_is_waited_out_and_retried(dataset: Dataset) -> None:
    for sim in served(dataset, rate_limit=(2, 1.5)):
        with sim.rest() as rest:  # another app on the same store spends this window's quota first
            assert [rest.get("/v2/order_statuses").status_code for _ in range(3)] == [200, 200, 429]
        admin = admin_for(sim)
        try:
            statuses = await admin.list_order_statuses()
        finally:
            await admin.aclose()
        assert len(statuses) == 15
        ours = [e.status for e in sim.recorder.all() if "traceparent" in e.headers]
        assert ours == [429, 200]
        assert admin.rate_limit_waits[0] == 1


async def test_beyond_its_patience_the_client_raises_unavailable_with_retry_after(dataset: Dataset) -> None:
    for sim in served(dataset, rate_limit=(1, 30.0)):
        admin = admin_for(sim, max_rate_limit_wait=0.2)
        try:
            await admin.list_order_statuses()
            with pytest.raises(BigCommerceUnavailable) as proactive:  # Requests-Left said 0: no second request
                await admin.list_order_statuses()
            fresh = admin_for(sim, max_rate_limit_wait=0.2)
            with pytest.raises(BigCommerceUnavailable) as answered:  # a client that did not know gets the 429
                await fresh.list_hooks()
            await fresh.aclose()
        finally:
            await admin.aclose()
        for raised in (proactive.value, answered.value):
            assert raised.status == 429 and raised.retryable
            assert raised.retry_after is not None and 25 < raised.retry_after <= 30
        assert sim.admin.limiter.rejected_total == 1


async def test_errors_are_ours_transient_or_rejected(sim: RecordedSim, dataset: Dataset,
                                                     admin: BigCommerceAdmin) -> None:
    order_id = place_order(sim, dataset)
    with pytest.raises(BigCommerceRejected) as bad_field:
        await admin.update_order(order_id, {"colour": "blue"})
    assert bad_field.value.status == 400 and not bad_field.value.retryable
    assert "'colour' cannot be written to" in bad_field.value.vendor_message
    with pytest.raises(BigCommerceRejected) as bad_hook:
        await admin.create_hook("not a scope", "https://example.com")
    assert bad_hook.value.status == 422 and "scope" in bad_hook.value.vendor_message
    with pytest.raises(BigCommerceRejected) as missing:
        await admin.get_order_products(order_id + 1000)
    assert missing.value.status == 404

    wrong_token = BigCommerceAdmin(sim.server.base_url, store_hash=STORE_HASH, access_token="nope")
    with pytest.raises(BigCommerceRejected) as unauthorized:
        await wrong_token.list_hooks()
    await wrong_token.aclose()
    assert unauthorized.value.status == 401

    assert httpx.post(sim.server.base_url + "/_sim/faults", json={"error_rate": 1}).status_code == 200
    try:
        with pytest.raises(BigCommerceUnavailable) as server_error:
            await admin.get_order(order_id)
        assert server_error.value.status == 500
        httpx.post(sim.server.base_url + "/_sim/faults", json={"error_rate": 0, "latency_ms": 500})
        slow = admin_for(sim, timeout=0.1)
        with pytest.raises(BigCommerceUnavailable, match="timed out"):
            await slow.get_order(order_id)
        await slow.aclose()
    finally:
        httpx.delete(sim.server.base_url + "/_sim/faults")

    nowhere = BigCommerceAdmin(f"http://127.0.0.1:{free_port()}", store_hash=STORE_HASH, access_token=ADMIN_TOKEN)
    with pytest.raises(BigCommerceUnavailable) as refused:
        await nowhere.get_order(order_id)
    await nowhere.aclose()
    assert refused.value.status is None and not isinstance(refused.value, httpx.HTTPError)


async def test_clients_in_different_processes_share_the_stores_window_in_redis(
        tiny_quota: RecordedSim, redis_url: str, redis_prefix: str) -> None:
    """Two clients, each on its own Redis connection as two processes would be: one window between them, so
    neither meets a 429 — each alone would think the whole quota was its own."""
    from pricing_edge.store.keys import Keys
    from pricing_edge.store.redis_client import connect, disconnect
    from pricing_edge.store.rest_quota import RedisRestQuota

    connections = [connect(redis_url), connect(redis_url)]
    clients = [admin_for(tiny_quota, quota=RedisRestQuota(c, Keys(redis_prefix), STORE_HASH)) for c in connections]
    try:
        await clients[0].list_order_statuses()  # one of them learns the window; the other never asked
        results = await asyncio.gather(*(clients[i % 2].list_order_statuses() for i in range(10)))
    finally:
        for client in clients:
            await client.aclose()
        for connection in connections:
            await disconnect(connection)
    assert all(len(r) == 15 for r in results)
    assert tiny_quota.admin.limiter.rejected_total == 0
    assert clients[1].rate_limit_waits[0] >= 1  # the second client waited on what the first learned


async def test_the_poller_s_fees_and_coupons_calls_match_the_spec(
        sim: RecordedSim, dataset: Dataset, admin: BigCommerceAdmin) -> None:
    from datetime import UTC, datetime, timedelta

    fees = [{"display_name_customer": "Insurance", "cost_ex_tax": "3.00", "cost_inc_tax": "3.30"}]
    order_id = place_order(sim, dataset, fees=fees)
    start = len(sim.recorder.all())
    since = datetime.now(UTC) - timedelta(minutes=5)
    assert [o["id"] for o in await admin.orders_modified_since(since)] == [order_id]
    assert await admin.orders_modified_since(datetime.now(UTC) + timedelta(minutes=5)) == []
    assert [(f["display_name_customer"], f["cost_tax"]) for f in await admin.get_order_fees(order_id)] == \
        [("Insurance", "0.3000")]
    assert await admin.get_order_coupons(order_id) == []
    exchanges = [e for e in sim.recorder.all()[start:] if "traceparent" in e.headers]
    assert len(exchanges) == 4
    for exchange in exchanges:
        check_recorded(exchange)
