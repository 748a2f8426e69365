"""Bulk-load price lists and stock from the ERP into the store, so a fresh Redis does not send every
first request to the ERP. Versioned writes: warming never overwrites a newer record from an event."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from pricing_edge.domain.scope import PriceListAssignments
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.store.base import Store

log = logging.getLogger(__name__)


@dataclass
class WarmReport:
    prices: int = 0
    stock_levels: int = 0
    price_lists: int = 0


async def warm(store: Store, erp: ErpAdapter, assignments: PriceListAssignments,
               currencies: list[str]) -> WarmReport:
    report = WarmReport()
    price_lists = sorted({*assignments.by_group.values(), assignments.default_price_list_id})
    for price_list_id in price_lists:
        for currency in currencies:
            async for batch in erp.iter_price_list(price_list_id, currency):
                await store.put_prices(batch)  # one pipelined round trip per batch, not one call per record
                report.prices += len(batch)
        report.price_lists += 1
    async for levels in erp.iter_stock():
        await store.put_stock_levels(levels)
        report.stock_levels += len(levels)
    log.info("warmed %d prices on %d price lists and %d stock levels", report.prices, report.price_lists,
             report.stock_levels)
    return report
