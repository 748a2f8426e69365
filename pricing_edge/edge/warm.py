"""Bulk-load price lists and stock from the ERP into the store, so a fresh Redis does not send every
first request to the ERP. Versioned writes: warming never overwrites a newer record from an event."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pricing_edge.domain.scope import PriceListAssignments
from pricing_edge.erp.errors import ErpNotFound
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.store.base import Store

log = logging.getLogger(__name__)


@dataclass
class WarmReport:
    prices: int = 0
    stock_levels: int = 0
    price_lists: int = 0


async def warm(store: Store, erp: ErpAdapter, assignments: PriceListAssignments,
               currencies: Sequence[str]) -> WarmReport:
    """``currencies``: those the store sells in (``edge.assignments.store_currencies``)."""
    report = WarmReport()
    price_lists = sorted({*assignments.by_group.values(), assignments.default_price_list_id})
    for price_list_id in price_lists:
        for currency in currencies:
            try:
                async for batch in erp.iter_price_list(price_list_id, currency):
                    for record in batch:
                        await store.put_price(record)
                    report.prices += len(batch)
            except ErpNotFound:  # a currency BigCommerce sells in that the ERP does not price this list in
                log.warning("price list %d in %s is unknown to the ERP: not warmed", price_list_id, currency)
        report.price_lists += 1
    async for levels in erp.iter_stock():
        await store.put_stock_levels(levels)
        report.stock_levels += len(levels)
    log.info("warmed %d prices on %d price lists and %d stock levels", report.prices, report.price_lists,
             report.stock_levels)
    return report
