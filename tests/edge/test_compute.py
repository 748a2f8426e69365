"""The compute path's parts (``edge/compute.py``): an overlay is filled through the same lookups a re-projection
makes (prices per currency and stock, one ERP deadline), tagged with every record it asked for; answers keep
their flags and personal mark when handed to the requests that waited for them; tax-inclusive answers are
keyed by what decides the buyer's tax zone. The ERP is the simulator over real HTTP."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from starlette.responses import Response

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.scope import Scope
from pricing_edge.edge.answer_flags import STALE_HEADER
from pricing_edge.bigcommerce.storefront import COMPLEXITY_HEADER
from pricing_edge.edge.compute import Answer, PersonalResponse, fill, tax_zone_key
from pricing_edge.edge.hit_response import HitResponse
from pricing_edge.edge.overlay import Needs, Records
from pricing_edge.edge.records import Lookup, RecordService
from pricing_edge.edge.response_cache import price_tag, stock_tag
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.store.embedded import EmbeddedStore
from tests.support.servers import serve

PRICE_LIST = 2
KNOWN = ("PE-10000", "PE-10001")
UNKNOWN = "PE-NOT-SOLD"


@pytest.fixture
async def records() -> AsyncIterator[RecordService]:
    """Records read through from the ERP simulator over HTTP, kept on an embedded store."""
    with serve(create_app(build_dataset(7), latency_ms=0)) as erp:
        adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
        try:
            yield RecordService(EmbeddedStore(), adapter, EdgeMetrics(), erp_budget=10.0)
        finally:
            await adapter.aclose()


class Page:
    """An overlay as ``fill`` sees it: what it needs, and the records it is filled with."""

    def __init__(self, prices: Mapping[str, set[str]], stock: set[str]) -> None:
        self.needs = Needs()
        self.needs.prices.update({currency: set(skus) for currency, skus in prices.items()})
        self.needs.stock.update(stock)
        self.sites = [object()]
        self.filled: Records | None = None

    def fill(self, records: Records) -> list[Any]:
        self.filled = records
        wanted = {(c, sku) for c, skus in self.needs.prices.items() for sku in skus}
        return [key for key in wanted if key not in records.prices] + \
            [sku for sku in self.needs.stock if sku not in records.stock]


async def shown(lookup: Lookup[str, dict[int, StockLevel]]) -> dict[str, dict[int, StockLevel]]:
    return lookup.found


async def test_fill_uses_every_found_record_and_tags_every_asked_one(records: RecordService) -> None:
    page = Page({"USD": {*KNOWN, UNKNOWN}, "EUR": {KNOWN[0]}}, {*KNOWN, UNKNOWN})
    filled = await fill(page, records, shown, PRICE_LIST, records.deadline())  # type: ignore[arg-type]
    assert set(filled.tags) == {price_tag(PRICE_LIST, sku) for sku in (*KNOWN, UNKNOWN)} | \
        {stock_tag(sku) for sku in (*KNOWN, UNKNOWN)}
    assert page.filled is not None
    assert set(page.filled.prices) == {("USD", KNOWN[0]), ("USD", KNOWN[1]), ("EUR", KNOWN[0])}
    assert set(page.filled.stock) == set(KNOWN)
    assert len(filled.used) == 3 + 2  # one per record found: three prices, two stock levels
    assert filled.touched and not filled.complete  # the unknown SKU keeps BigCommerce's value


async def test_fill_of_known_records_is_complete_and_reads_them_once(records: RecordService) -> None:
    first = await fill(Page({"USD": set(KNOWN)}, set(KNOWN)), records, shown, PRICE_LIST,  # type: ignore[arg-type]
                       records.deadline())
    again = await fill(Page({"USD": set(KNOWN)}, set(KNOWN)), records, shown, PRICE_LIST,  # type: ignore[arg-type]
                       records.deadline())
    assert first.complete and again.complete and not again.degraded
    assert sorted(again.used, key=repr) == sorted(first.used, key=repr)  # the same records, held


def test_tax_inclusive_answers_are_keyed_by_what_decides_the_tax_zone() -> None:
    taxed, untaxed = type("D", (), {"taxed": True})(), type("D", (), {"taxed": False})()
    guest = Scope(1, 0, 1, "USD")
    buyer = Scope(1, 2, 3, "USD", customer_id=5)
    assert tax_zone_key(guest, untaxed) == tax_zone_key(buyer, untaxed) == ""
    assert tax_zone_key(guest, taxed) == "tz:guest"
    assert tax_zone_key(buyer, taxed) == "tz:c5"


def test_an_answer_keeps_its_flags_and_personal_mark_for_those_who_waited() -> None:
    stale = Answer.of(Response(b"{}", headers={STALE_HEADER: "1"}))
    assert stale.stale and not stale.personal
    assert (STALE_HEADER.lower().encode(), b"1") in sent_headers(stale)
    personal = Answer.of(PersonalResponse(b'{"data":{}}', 200))
    assert personal.personal and not personal.stale
    assert STALE_HEADER.lower().encode() not in dict(sent_headers(personal))


def sent_headers(answer: Answer) -> list[tuple[bytes, bytes]]:
    """The headers an answer is sent with (as a hit is sent, when it is a 200: ``HitResponse``)."""
    response = answer.response()
    return list(response.headers) if isinstance(response, HitResponse) else list(response.raw_headers)


def test_an_answer_is_sent_as_a_response_of_it_would_be() -> None:
    for answer in (Answer(b'{"data":{}}', 200, True, False, "17"), Answer(b'{"errors":[]}', 503, False, False)):
        response = answer.response()
        headers = {STALE_HEADER: "1"} if answer.stale else {}
        if answer.complexity:
            headers[COMPLEXITY_HEADER] = answer.complexity
        expected = Response(answer.body, answer.status, media_type="application/json", headers=headers or None)
        assert response.status_code == expected.status_code and response.body == expected.body
        assert sent_headers(answer) == expected.raw_headers
