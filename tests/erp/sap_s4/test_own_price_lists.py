"""Customer-specific condition records: a company's prices of its own are a price list of its own (and
a customer group of its own) in BigCommerce, so the edge's scopes stay per price list, never per buyer."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson

from tests.erp.connectors import Face


async def test_a_companys_own_condition_records_are_its_own_price_list_and_group(face: Face, tmp_path: Path) -> None:
    company = face.sim.state.dataset.companies[4]
    sku, other = face.sim.state.skus[500], face.sim.state.skus[501]
    face.control("/price-lists", {"id": 40, "name": f"{company.name} contract", "company_id": company.id,
                                  "prices": [{"sku": sku, "currency": "USD", "price": "1.11"}]})
    mapping = orjson.loads(Path(face.settings.erp_mapping or "").read_bytes())
    account = f"{17100000 + company.id}"
    mapping["company_price_lists"] = {account: {"price_list": 40, "customer_group": 140}}
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps(mapping))
    erp = face.adapter(erp_mapping=str(path))
    try:
        own = await erp.get_prices(40, "USD", [sku, other])
        assert set(own) == {sku} and own[sku].price == Decimal("1.11") and own[sku].price_list_id == 40
        listed = [r async for batch in erp.iter_price_list(40, "USD") for r in batch]
        assert [(r.sku, r.price) for r in listed] == [(sku, Decimal("1.11"))]
        general = await erp.get_prices(company.customer_group_id + 1, "USD", [sku])  # its group's list is untouched
        assert general[sku].price != Decimal("1.11")
        buyer = next(c for c in face.sim.state.dataset.customers if c.company_id == company.id)
        record = await erp.get_customer(buyer.id)
        assert record is not None and (record.customer_group_id, record.company_id) == (140, company.id)
    finally:
        await erp.aclose()
    plain = face.adapter(erp_mapping=face.settings.erp_mapping)
    try:
        assert await plain.get_prices(40, "USD", [sku]) == {}  # unmapped: not served under any list
    finally:
        await plain.aclose()
