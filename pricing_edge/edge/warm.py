"""Bulk-load price lists and stock from the ERP into the store, so a fresh Redis does not send every
first request to the ERP. Versioned writes: warming never overwrites a newer record from an event."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pricing_edge.domain.scope import PriceListAssignments
from pricing_edge.erp.errors import ErpNotFound
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.store.base import Store

log = logging.getLogger(__name__)
WARM_STREAMS = 4  # exports read at once


@dataclass
class WarmReport:
    prices: int = 0
    stock_levels: int = 0
    price_lists: int = 0


async def warm(store: Store, erp: ErpAdapter, assignments: PriceListAssignments,
               currencies: Sequence[str], concurrency: int = WARM_STREAMS) -> WarmReport:
    """Every (price list, currency) export and the stock export, a few at a time: the ERP's page latency
    overlaps with the parsing and the store's writes (a real catalog is 2M prices, 4,000 pages).
    ``currencies``: those the store sells in (``edge.assignments.store_currencies``)."""
    report = WarmReport()
    price_lists = sorted({*assignments.by_group.values(), assignments.default_price_list_id})
    slots = asyncio.Semaphore(max(1, concurrency))

    async def prices(price_list_id: int, currency: str) -> None:
        async with slots:
            try:
                async for batch in erp.iter_price_list(price_list_id, currency):
                    await store.put_prices(batch)  # one pipelined round trip per batch, not one call per record
                    report.prices += len(batch)
            except ErpNotFound:  # a currency BigCommerce sells in that the ERP does not price this list in
                log.warning("price list %d in %s is unknown to the ERP: not warmed", price_list_id, currency)

    async def stock() -> None:
        async with slots:
            async for levels in erp.iter_stock():
                await store.put_stock_levels(levels)
                report.stock_levels += len(levels)

    tasks = [asyncio.ensure_future(stock())] + [asyncio.ensure_future(prices(p, c))
                                                for p in price_lists for c in currencies]
    try:
        await asyncio.gather(*tasks)
    except BaseException:  # one export failed: stop the others before saying so
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    report.price_lists = len(price_lists)
    log.info("warmed %d prices on %d price lists and %d stock levels", report.prices, report.price_lists,
             report.stock_levels)
    return report
