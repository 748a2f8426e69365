"""The sync ledger: unique both ways, claims before writes, in memory and in a real Redis."""
from __future__ import annotations

import asyncio

import pytest

from pricing_edge.store.base import Store
from pricing_edge.store.ledger import LedgerConflict


async def test_a_pair_is_linked_once_and_never_contradicted(store: Store) -> None:
    ledger = store.ledger()
    entry = await ledger.link("orders", "100", "SO-1", "trace-1")
    assert (entry.erp_id, entry.status, entry.correlation_id) == ("SO-1", "synced", "trace-1")
    assert entry.last_synced_ms is not None
    assert (await ledger.link("orders", "100", "SO-1", "trace-2")).erp_id == "SO-1"  # idempotent
    with pytest.raises(LedgerConflict):
        await ledger.link("orders", "100", "SO-2", "t")  # the BigCommerce order maps elsewhere
    with pytest.raises(LedgerConflict):
        await ledger.link("orders", "101", "SO-1", "t")  # the ERP order maps elsewhere
    assert await ledger.bc_id_for("orders", "SO-1") == "100"


async def test_concurrent_links_of_one_erp_order_leave_exactly_one_mapping(store: Store) -> None:
    ledger = store.ledger()
    results = await asyncio.gather(*(ledger.link("orders", str(i), "SO-9", "t") for i in range(5)),
                                   return_exceptions=True)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, LedgerConflict) for r in results if isinstance(r, Exception)), results


async def test_a_live_claim_keeps_other_writers_out_until_it_expires_or_is_released(store: Store) -> None:
    ledger = store.ledger()
    assert await ledger.claim("orders", "5", "worker-a", 60_000, "t")
    assert (await ledger.get("orders", "5")).status == "claimed"  # type: ignore[union-attr]
    assert not await ledger.claim("orders", "5", "worker-b", 60_000, "t")
    assert await ledger.claim("orders", "5", "worker-a", 60_000, "t")  # the holder may renew
    await ledger.record("orders", "5", status="failed", correlation_id="t", last_error="ERP down")
    assert await ledger.claim("orders", "5", "worker-b", 60_000, "t")  # released by the record
    assert await ledger.claim("orders", "6", "worker-a", 1, "t")
    await asyncio.sleep(0.01)  # the 1 ms claim is certainly over: this waits out a TTL, it polls nothing
    assert await ledger.claim("orders", "6", "worker-b", 60_000, "t")


async def test_record_keeps_the_mapping_and_stores_the_flow_detail(store: Store) -> None:
    ledger = store.ledger()
    await ledger.link("orders", "7", "SO-7", "t")
    entry = await ledger.record("orders", "7", status="synced", correlation_id="t2", detail='{"x": 1}', synced=True)
    assert (entry.erp_id, entry.detail, entry.correlation_id) == ("SO-7", '{"x": 1}', "t2")
    assert await ledger.get("orders", "8") is None


async def test_link_writes_the_detail_in_the_same_step_so_no_reader_sees_synced_without_it(store: Store) -> None:
    ledger = store.ledger()
    await ledger.record("orders", "9", status="seen", correlation_id="t", detail='{"history": [1]}')
    entry = await ledger.link("orders", "9", "SO-9b", "t", detail='{"history": [1], "erp_status": "open"}')
    assert (entry.status, entry.erp_id, entry.detail) == ("synced", "SO-9b", '{"history": [1], "erp_status": "open"}')
    again = await ledger.link("orders", "9", "SO-9b", "t2")  # no detail given: the stored one stays
    assert again.detail == '{"history": [1], "erp_status": "open"}'


async def test_held_entries_are_listed_exactly_while_they_are_held(store: Store) -> None:
    ledger = store.ledger()
    await ledger.record("orders", "20", status="held", correlation_id="t", detail='{"hold": {}}')
    await ledger.record("orders", "21", status="held", correlation_id="t")
    await ledger.record("orders", "22", status="seen", correlation_id="t")
    assert await ledger.with_status("orders", "held") == ["20", "21"]
    assert await ledger.with_status("customers", "held") == []
    await ledger.record("orders", "21", status="cancelled-before-post", correlation_id="t")
    await ledger.link("orders", "20", "SO-20", "t")  # released and posted
    assert await ledger.with_status("orders", "held") == []
    assert (await ledger.get("orders", "20")).detail == '{"hold": {}}'  # type: ignore[union-attr]
