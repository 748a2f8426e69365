"""One order is one trace: BigCommerce's webhook → the intake stream → the router → the flow's attempt →
its BigCommerce and ERP calls; the ERP order was created by the call the trace shows, and the ledger
names the trace of every attempt that touched the ERP — a replay is a trace of its own, linked back."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from pricing_edge.config import Settings
from tests.e2e.orders_system import OrderSystem, order_system
from tests.ops.conftest import Spans
from tests.support.polling import wait_until

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
BUYER = 1


@pytest.fixture
def system(tmp_path: Path) -> Iterator[OrderSystem]:
    with order_system(Settings.from_env({}), tmp_path, register_hooks=False) as running:
        yield running


def history(system: OrderSystem, order_id: int) -> list[dict[str, object]]:
    entry = system.ledger(order_id) or {}
    return list(orjson.loads(entry["detail"]).get("history", [])) if entry.get("detail") else []


def test_one_order_is_one_trace_from_the_webhook_to_the_erp(system: OrderSystem, spans: Spans) -> None:
    (sku,) = system.skus(1, offset=17)
    order = system.create_order(BUYER, [system.line(sku, 2, BUYER)])
    answer = system.deliver("store/order/created", {"type": "order", "id": order["id"]},
                            headers={"traceparent": f"00-{TRACE}-{CALLER_SPAN}-01"})
    assert answer.status_code == 200
    system.wait_synced(order["id"])

    def whole() -> list[ReadableSpan]:
        trace = spans.of_trace(TRACE)
        return trace if any(s.name == "bigcommerce PUT /stores/demo/v2/orders/{id}" for s in trace) else []

    trace = wait_until(whole, timeout=30, what="the order's trace down to the write-back")
    by_name = {s.name: s for s in trace}
    chain = ["POST /webhooks/bigcommerce", "intake:bigcommerce append", "intake:bigcommerce route",
             "orders store/order/created"]
    assert format(by_name[chain[0]].parent.span_id, "016x") == CALLER_SPAN  # type: ignore[union-attr]
    for parent, child in zip(chain, chain[1:], strict=False):
        assert by_name[child].parent.span_id == by_name[parent].context.span_id, f"{child} under {parent}"  # type: ignore[union-attr]
    attempt = by_name["orders store/order/created"]
    assert attempt.kind is SpanKind.CONSUMER and attempt.attributes["pricing_edge.entity"] == f"order:{order['id']}"
    calls = [s.name for s in spans.children(trace, attempt)]
    for expected in ("bigcommerce GET /stores/demo/v2/orders/{id}", "erp GET /api/v1/customers/{id}",
                     "erp GET /api/v1/sales-orders", "erp POST /api/v1/sales-orders",
                     "bigcommerce PUT /stores/demo/v2/orders/{id}"):
        assert expected in calls, (expected, calls)
    post = by_name["erp POST /api/v1/sales-orders"]
    assert post.kind is SpanKind.CLIENT and post.attributes["http.response.status_code"] == 201

    # The ERP's order was created by exactly the call the trace shows.
    (posted,) = system.erp_orders(system.reference(order["id"]))
    assert posted["created_by_trace"] == spans.traceparent(post)

    # The ledger names the attempt's trace and that it touched the ERP.
    (step,) = [s for s in history(system, order["id"]) if s["kind"] == "store/order/created"]
    assert step["trace_id"] == TRACE and step["traceparent"] == spans.traceparent(attempt)
    assert step["erp_calls"] >= 3 and step["bigcommerce_calls"] >= 2  # type: ignore[operator]


def test_every_attempt_that_touched_the_erp_is_in_the_ledger_and_a_replay_starts_a_linked_trace(
        system: OrderSystem, spans: Spans) -> None:
    order = system.create_order(BUYER, [{"name": "Not yet in the ERP", "sku": "TRACE-NEW-1", "quantity": 1,
                                        "price_ex_tax": "5.00", "price_inc_tax": "5.00"}])
    system.deliver("store/order/created", {"type": "order", "id": order["id"]},
                   headers={"traceparent": f"00-{TRACE}-{CALLER_SPAN}-01"})
    letter = wait_until(lambda: [i for i in system.ops("GET", "/ops/dlq").json()["items"]
                                 if i["entity"] == f"order:{order['id']}"], timeout=30, what="the dead letter")[0]
    failed = [s for s in history(system, order["id"]) if s["outcome"] == "dead-lettered"]
    assert failed and failed[0]["trace_id"] == TRACE and failed[0]["erp_calls"] >= 1  # type: ignore[operator]

    system.erp_sim("/items", {"sku": "TRACE-NEW-1", "price": "5.00"})  # the cause, fixed
    assert system.ops("POST", f"/ops/dlq/{letter['id']}/replay").status_code == 200
    system.wait_synced(order["id"])
    # The ledger's step is written when the attempt ends, which may be just after the ERP shows the order.
    ok = wait_until(lambda: [s for s in history(system, order["id"]) if s["outcome"] == "ok"], timeout=30,
                    what="the replay's step in the ledger")
    assert ok and ok[-1]["trace_id"] != TRACE and ok[-1]["erp_calls"] >= 1  # type: ignore[operator]
    (replay,) = wait_until(lambda: spans.named("orders replay"), timeout=15, what="the replay's span")
    assert format(replay.context.trace_id, "032x") == ok[-1]["trace_id"]  # type: ignore[union-attr]
    assert [format(link.context.trace_id, "032x") for link in replay.links] == [TRACE]
