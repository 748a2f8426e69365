"""The S/4 mapping is validated whole at start: every problem names its table and entry."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pricing_edge.erp.mapping import MappingError
from pricing_edge.erp.sap_s4.mapping import S4Mapping


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "price_lists": {"PA": 1, "PB": 2}, "locations": {"1710": 1}, "customer_groups": {"G0": 0, "G1": 1},
        "companies": {"17100001": 1, "17100002": 2}, "customers": {"30000001": 1}, "guest_customer": "30000000",
        "materials": {"M1": "SKU-1"}, "credit_limits": {"17100001": "5000.00"},
        "company_price_lists": {"17100002": {"price_list": 9, "customer_group": 9}}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_valid_document_maps_both_ways() -> None:
    mapping = S4Mapping.parse(document())
    assert mapping.price_list(2) == ("list", "PB") and mapping.price_list(9) == ("customer", "17100002")
    assert mapping.price_list(7) is None
    assert (mapping.material("SKU-1"), mapping.sku("M1"), mapping.sku("M2")) == ("M1", "SKU-1", None)
    assert mapping.sold_to("company:2") == "17100002" and mapping.sold_to("customer:0") == "30000000"
    assert mapping.sold_to("customer:1") == "30000001" and mapping.sold_to("customer:5") is None
    assert mapping.credit_limits == {"17100001": Decimal("5000.00")}


def test_without_materials_skus_are_material_numbers() -> None:
    mapping = S4Mapping.parse(document(materials=None))
    assert mapping.material("PE-1") == "PE-1" and mapping.sku("PE-1") == "PE-1"


@pytest.mark.parametrize(("change", "message"), [
    ({"price_lists": {"PA": 1, "PB": 1}}, "price_lists: 1 is mapped from both 'PA' and 'PB'"),
    ({"locations": {"1710": "1"}}, "locations['1710']: '1' is not a valid"),
    ({"locations": {}}, "'locations' must be a non-empty object"),
    ({"materials": {"M1": "SKU-1", "M2": "SKU-1"}}, "materials: 'SKU-1' is mapped from both"),
    ({"credit_limits": {"17100001": 5000}}, "credit_limits['17100001'] must be a decimal string"),
    ({"credit_limits": {"99": "1.00"}}, "credit_limits['99'] is not in companies"),
    ({"company_price_lists": {"17100002": {"price_list": 2, "customer_group": 9}}}, "price list 2 is also price_lists"),
    ({"company_price_lists": {"17100002": {"price_list": 9, "customer_group": 1}}}, "customer group 1 is also"),
    ({"company_price_lists": {"999": {"price_list": 9, "customer_group": 9}}}, "is not in companies"),
    ({"company_price_lists": {"17100002": 9}}, '{"price_list": <id>, "customer_group": <id>}'),
    ({"plants": {"1710": 1}}, "unknown section(s) plants"),
])
def test_a_bad_document_is_refused_naming_the_problem(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError) as refused:
        S4Mapping.parse(document(**change))
    assert message in str(refused.value)
