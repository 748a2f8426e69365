"""``pricing-edge erp check`` for S/4HANA: before going live, against the real system — can we log on,
can we read every entity set the connector uses, can we get a CSRF token for posting orders, does
every code in the mapping exist in S/4, and which companies have customer-specific prices."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pricing_edge.erp.check import CheckReport
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.sap_s4.adapter import (
    BILLING,
    DELIVERIES,
    OPEN_ITEMS,
    PARTNERS,
    PRICING,
    SALES_ORDERS,
    STOCK,
    S4HanaAdapter,
)
from pricing_edge.erp.sap_s4.values import literal

READ_SETS = ((PRICING, "A_SlsPrcgCndnRecdValidity"), (PRICING, "A_SlsPrcgConditionRecord"),
             (PRICING, "A_SlsPrcgCndnRecordScale"), (STOCK, "A_MatlStkInAcctMod"), (PARTNERS, "A_BusinessPartner"),
             (PARTNERS, "A_BusinessPartnerContact"), (PARTNERS, "A_Customer"), (PARTNERS, "A_CustomerSalesArea"),
             (OPEN_ITEMS, "A_OperationalAcctgDocItemCube"), (SALES_ORDERS, "A_SalesOrder"),
             (SALES_ORDERS, "A_SalesOrderItem"), (DELIVERIES, "A_OutbDeliveryHeader"),
             (DELIVERIES, "A_OutbDeliveryItem"), (BILLING, "A_BillingDocument"))
CHUNK = 40


async def _step(report: CheckReport, what: str, probe: Callable[[], Awaitable[str | None]]) -> bool:
    try:
        detail = await probe()
    except ErpError as exc:
        report.fail(what, str(exc))
        return False
    report.ok(what, detail or "")
    return True


async def _existing(adapter: S4HanaAdapter, service: str, entity: str, field: str, codes: list[str]) -> set[str]:
    reads = [(entity, {"$filter": " or ".join(f"{field} eq {literal(c)}" for c in codes[i:i + CHUNK]),
                       "$select": field}) for i in range(0, len(codes), CHUNK)]
    found: set[str] = set()
    for i in range(0, len(reads), 10):
        for rows in await adapter.odata.batch_get(service, reads[i:i + 10]):
            found |= {str(row.get(field)) for row in rows}
    return found


async def check(adapter: S4HanaAdapter, report: CheckReport) -> None:
    odata, mapping, settings = adapter.odata, adapter.mapping, adapter.settings
    if not await _step(report, "logon", lambda: _service_document(adapter)):
        return  # nothing else can work
    for service, entity in READ_SETS:
        await _step(report, f"read {service}/{entity}", functools.partial(_first, adapter, service, entity))

    async def csrf() -> str:
        await odata._csrf_token(SALES_ORDERS)
        return "a token for posting sales orders"

    await _step(report, "CSRF token", csrf)

    async def tables() -> None:
        await _resolve(report, "materials", sorted(mapping.materials.to_bc) if mapping.materials else [],
                       await _existing(adapter, STOCK, "A_MaterialStock", "Material",
                                       sorted(mapping.materials.to_bc) if mapping.materials else []))
        await _resolve(report, "companies", sorted(mapping.companies.to_bc),
                       await _existing(adapter, PARTNERS, "A_Customer", "Customer", sorted(mapping.companies.to_bc)))
        partners = sorted(mapping.customers.to_bc) + ([mapping.guest_customer] if mapping.guest_customer else [])
        await _resolve(report, "customers (business partners)", partners,
                       await _existing(adapter, PARTNERS, "A_BusinessPartner", "BusinessPartner", partners))
        plants = sorted(mapping.locations.to_bc)
        await _resolve(report, "locations (plants with stock)", plants,
                       await _existing(adapter, STOCK, "A_MatlStkInAcctMod", "Plant", plants))
        lists = sorted(mapping.price_lists.to_bc)
        await _resolve(report, f"price lists ({settings.price_list_field} with {settings.condition_type} records)", lists,
                       await _existing(adapter, PRICING, "A_SlsPrcgCndnRecdValidity", settings.price_list_field, lists))

    try:
        await tables()
    except ErpError as exc:
        report.fail("mapping", f"could not be checked: {exc}")
    await _customer_specific(adapter, report)


async def _service_document(adapter: S4HanaAdapter) -> str:
    await adapter.odata.get(SALES_ORDERS, "")
    how = "OAuth client credentials" if adapter.settings.logon.oauth else f"Basic as {adapter.settings.logon.user}"
    return f"{how}, sap-client {adapter.settings.sap_client or '(default)'}"


async def _first(adapter: S4HanaAdapter, service: str, entity: str) -> str:
    body = await adapter.odata.get(service, entity, {"$top": "1", "$inlinecount": "allpages"})
    count = body.get("__count") if isinstance(body, dict) else None
    return f"{count} record(s)" if count is not None else "readable"


async def _resolve(report: CheckReport, table: str, codes: list[str], found: set[str]) -> None:
    if not codes:
        report.ok(f"mapping: {table}", "not mapped (identity)")
        return
    missing = [c for c in codes if c not in found]
    if missing:
        report.fail(f"mapping: {table}", f"{len(missing)} of {len(codes)} unknown to S/4: {', '.join(missing[:10])}"
                    + (" ..." if len(missing) > 10 else ""))
    else:
        report.ok(f"mapping: {table}", f"all {len(codes)} resolve")


async def _customer_specific(adapter: S4HanaAdapter, report: CheckReport) -> None:
    """Companies with customer-specific condition records: each needs a price list (and customer
    group) of its own in BigCommerce, so the edge's scopes stay per price list, never per buyer."""
    settings, mapping = adapter.settings, adapter.mapping
    query = {"$filter": f"ConditionType eq {literal(settings.condition_type)} and Customer ne ''", "$select": "Customer"}
    try:
        rows: list[Any] = await adapter.odata.all(PRICING, "A_SlsPrcgCndnRecdValidity", query)
    except ErpError as exc:
        report.fail("customer-specific prices", str(exc))
        return
    customers = sorted({str(r.get("Customer")) for r in rows if r.get("Customer")})
    served = [c for c in customers if mapping.own_price_list_of(c)]
    unserved = [c for c in customers if not mapping.own_price_list_of(c)]
    lines = [f"{c} → price list {mapping.own_price_list_of(c).price_list_id}" for c in served]  # type: ignore[union-attr]
    report.companies = [{"customer": c, "company_id": mapping.companies.bc(c),
                         "price_list_id": (mapping.own_price_list_of(c) or None) and mapping.own_price_list_of(c).price_list_id}  # type: ignore[union-attr]
                        for c in customers]
    if unserved:
        report.fail("customer-specific prices", f"no price list of their own in the mapping for {', '.join(unserved)}"
                    " (their condition records are not served)")
    else:
        report.ok("customer-specific prices", "; ".join(lines) if lines else "no company has customer-specific prices")
