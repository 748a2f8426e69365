"""``python -m loadtests.event_cpu``: the CPU an edge process spends per ERP event on the work every event
repeats — receiving it (signature, envelope, data checked against its schema), reading a changed record
back from the store (decoded and checked), and applying its invalidation to a process's records (the message
read, the record it carries put into L1) — in microseconds of this process's CPU, not wall time, so the
figure holds on a busy machine. The events scenario (``python -m loadtests --scenario events``) measures
the whole system; this isolates the per-event path its profile pointed at (issue 20)."""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from pricing_edge.domain import events
from pricing_edge.edge.cache_updater import Invalidation
from pricing_edge.edge.records import RecordService
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.order_events import event_from_data
from pricing_edge.domain.pricing import BulkTier, PriceRecord
from pricing_edge.intake import envelope
from pricing_edge.store import codec


def cpu_us(work: Callable[[], object], rounds: int) -> float:
    """Mean CPU microseconds of ``work`` (after one call to warm caches)."""
    work()
    started = time.process_time()
    for _ in range(rounds):
        work()
    return round((time.process_time() - started) / rounds * 1e6, 1)


def _applying(price: PriceRecord) -> Callable[[], object]:
    """What every edge process does with the invalidation of one price event: read the message, and put the
    record it carries into L1 in place of the one there (``RecordService.changed``; the answers' part aside)."""
    records = RecordService(EmbeddedStore(announce=False), SimulatedErpAdapter("http://127.0.0.1:9"), EdgeMetrics())
    key = (price.price_list_id, price.currency, price.sku)
    records.changed([key], [], [codec.Stored(price, 1000)])
    message = Invalidation()
    message.add(replace(price, version=price.version + 1), 2000)
    raw = message.encode()

    def apply() -> None:
        change = Invalidation.decode(raw)
        records.changed(change.prices, change.stock, change.learned())
        records.renewed(change.renewed_prices, change.renewed_stock)

    return apply


def measure(rounds: int = 2000) -> dict[str, float]:
    price = PriceRecord(2, "PE-10000", "USD", Decimal("12.50"), sale_price=Decimal("11.00"),
                        bulk_tiers=(BulkTier(10, None, Decimal("9.75")),), version=17)
    level = StockLevel("PE-10000", 1, on_hand=40, allocated=2, safety_stock=1, version=9)
    stored_price, stored_level = codec.encode(price, 1000), codec.encode(level, 1000)
    secret = envelope.generate_secret()
    event = envelope.signed_event(events.PRICE_CHANGED, events.to_data(price), source="urn:bench", secret=secret,
                                  subject=events.record_key(price))
    headers = {name.lower(): value for name, value in event.headers.items()}

    def intake() -> None:
        envelope.verify(headers, event.body, secret)
        parsed = envelope.parse(event.body)
        event_from_data(parsed["type"], parsed["data"])

    return {"intake_one_event_us": cpu_us(intake, rounds),
            "invalidation_apply_price_us": cpu_us(_applying(price), rounds),
            "store_read_price_us": cpu_us(lambda: codec.decode(PriceRecord, stored_price), rounds),
            "store_read_stock_level_us": cpu_us(lambda: codec.decode(StockLevel, stored_level), rounds)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.event_cpu", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    for name, value in measure(parser.parse_args().rounds).items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
