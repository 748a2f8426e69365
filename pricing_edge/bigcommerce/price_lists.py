"""BigCommerce's price lists and their records (``/v3/pricelists``), on ``BigCommerceAdmin``'s request
machinery: the store's shared REST quota, 429s waited out, errors from ``bigcommerce.errors``.

Record upserts go one at a time per store (BigCommerce refuses concurrent bulk upserts with a 429), up to
1,000 records each; the caller (the worker's one price-sync entity per store) keeps them sequential.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from pricing_edge.bigcommerce.admin import PAGE_LIMIT, BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceBadResponse, BigCommerceRejected
from pricing_edge.domain.bc_mirror import MAX_RECORDS_PER_PUT

SKUS_PER_READ = 50  # ``sku:in`` lists stay well inside a URL's length


async def v3_pages(admin: BigCommerceAdmin, path: str, params: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
    """Every item of a paged v3 collection (``{"data": [...], "meta": {"pagination": ...}}``)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = await admin._call("GET", path, params={**params, "page": page, "limit": PAGE_LIMIT})
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise BigCommerceBadResponse(f"bigcommerce: {what}: expected a v3 collection")
        items.extend(item for item in body["data"] if isinstance(item, dict))
        pagination = (body.get("meta") or {}).get("pagination") or {}
        if page >= int(pagination.get("total_pages") or 1) or not body["data"]:
            return items
        page += 1


class PriceListsApi:
    def __init__(self, admin: BigCommerceAdmin) -> None:
        self.admin = admin

    async def price_lists(self) -> list[dict[str, Any]]:
        """Every price list of the store (``GET /v3/pricelists``)."""
        return await v3_pages(self.admin, "/v3/pricelists", {}, "price lists")

    async def records(self, price_list_id: int, *, skus: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The list's records with their SKU and volume breaks; only those of ``skus`` when given."""
        path, include = f"/v3/pricelists/{price_list_id}/records", {"include": "bulk_pricing_tiers,sku"}
        if skus is None:
            return await v3_pages(self.admin, path, include, "price-list records")
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), SKUS_PER_READ):
            chunk = unique[start:start + SKUS_PER_READ]
            found.extend(await v3_pages(self.admin, path, {**include, "sku:in": ",".join(chunk)},
                                        "price-list records"))
        return found

    async def upsert_records(self, price_list_id: int, items: Sequence[Mapping[str, Any]]) -> None:
        """``PUT /v3/pricelists/{id}/records``: create or replace up to 1,000 records in one request."""
        if len(items) > MAX_RECORDS_PER_PUT:
            raise ValueError(f"at most {MAX_RECORDS_PER_PUT} records per upsert, not {len(items)}")
        body = await self.admin._call("PUT", f"/v3/pricelists/{price_list_id}/records",
                                      body=cast(Mapping[str, Any], list(items)))
        errors = body.get("batch_errors") if isinstance(body, dict) else None
        if errors:
            raise BigCommerceRejected(f"bigcommerce: price list {price_list_id}: {len(errors)} record(s) refused: "
                                      f"{errors[:3]!r}", status=422)
