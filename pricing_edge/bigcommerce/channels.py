"""Price-list assignments and channel currencies from BigCommerce's REST Admin API, on ``BigCommerceAdmin``'s
request machinery (the shared rate-limit bucket, retries on 429, one error hierarchy):
``GET /v3/pricelists/assignments?channel_id:in=…`` (every page) and ``GET /v3/channels/currency-assignments``.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pricing_edge.bigcommerce.admin import PAGE_LIMIT, BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceBadResponse


def _rows(answer: Any, what: str) -> list[Any]:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise BigCommerceBadResponse(f"bigcommerce: expected {what} as {{\"data\": [...]}}")
    return data


async def price_list_assignments(admin: BigCommerceAdmin, channel_ids: Iterable[int]) -> list[Any]:
    """Every assignment on the channels given (rows as BigCommerce sends them; checked by the domain)."""
    rows: list[Any] = []
    page = 1
    channels = ",".join(str(c) for c in sorted(set(channel_ids)))
    while True:
        answer = await admin._call("GET", "/v3/pricelists/assignments",  # noqa: SLF001 - the shared machinery
                                   params={"channel_id:in": channels, "page": page, "limit": PAGE_LIMIT})
        got = _rows(answer, "price-list assignments")
        rows.extend(got)
        if len(got) < PAGE_LIMIT:
            return rows
        page += 1


async def currency_assignments(admin: BigCommerceAdmin) -> list[Any]:
    """Every channel's enabled currencies and default currency."""
    answer = await admin._call("GET", "/v3/channels/currency-assignments")  # noqa: SLF001
    return _rows(answer, "channel currency assignments")
