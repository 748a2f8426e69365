"""Every group of keys one operation touches hashes to one Redis Cluster slot, and the groups that should
spread (SKUs, flows, streams) do not share one."""
from __future__ import annotations

import pytest
from redis.crc import key_slot

from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, ERP_INTAKE, Keys
from pricing_edge.store.redis_work_queue import PARTS

KEYS = Keys("pe-test:")


def slots(*names: str) -> set[int]:
    return {key_slot(name.encode()) for name in names}


def test_a_stream_and_its_dedup_keys_share_a_slot() -> None:
    assert len(slots(KEYS.stream(ERP_INTAKE), KEYS.dedup(ERP_INTAKE, "evt-1"), KEYS.dedup(ERP_INTAKE, "x{y}"))) == 1
    assert slots(KEYS.stream(ERP_INTAKE)) != slots(KEYS.stream(BIGCOMMERCE_INTAKE))


def test_a_flows_queue_keys_entity_queues_and_routing_marks_share_a_slot() -> None:
    names = [KEYS.queue("orders", part) for part in PARTS]
    names += [KEYS.entity_queue("orders", f"order:{n}") for n in range(50)]
    names += [KEYS.routed("orders", f"{BIGCOMMERCE_INTAKE}:1700000000000-{n}") for n in range(50)]
    assert len(slots(*names)) == 1


def test_a_flows_ledger_shares_a_slot_both_ways() -> None:
    names = [KEYS.ledger_bc("orders", str(n)) for n in range(50)] + [KEYS.ledger_erp("orders", f"SO-{n}")
                                                                      for n in range(50)]
    assert len(slots(*names)) == 1


@pytest.mark.parametrize("sku", ["PE-10001", "odd{sku}", "}{", "ünï"])
def test_one_skus_reservation_keys_share_a_slot_and_skus_spread(sku: str) -> None:
    assert len(slots(KEYS.held(sku), KEYS.expiries(sku))) == 1
    assert len(slots(*(KEYS.held(f"PE-{n}") for n in range(200)))) > 100


def test_records_spread_over_slots() -> None:
    assert len(slots(*(KEYS.price(2, "USD", f"PE-{n}") for n in range(200)))) > 100


@pytest.mark.parametrize("prefix", ["pe{x}:", "pe}:"])
def test_a_prefix_with_braces_is_refused_with_the_reason(prefix: str) -> None:
    with pytest.raises(ValueError, match="hash tag"):
        Keys(prefix)
