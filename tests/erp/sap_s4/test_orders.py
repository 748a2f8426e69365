"""Sales orders in S/4's shape (pure): our reference in PurchaseOrderByCustomer, the buyer's PO beside
it, a manual PPR0 price per item; S/4's statuses back to ours; the changeset for an update."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pricing_edge.domain.orders import ErpStatus, SalesOrder, SalesOrderLine, ShipTo
from pricing_edge.erp.sap_s4 import orders
from pricing_edge.erp.sap_s4.mapping import S4Mapping

MAPPING = S4Mapping.parse({"price_lists": {"PA": 1}, "locations": {"1710": 1}, "customer_groups": {"G1": 1},
                           "companies": {"17100001": 1}, "customers": {"30000002": 2}, "guest_customer": "30000000",
                           "materials": {"M1": "SKU-1", "M2": "SKU-2", "M3": "SKU-3"}})
DEFAULTS = orders.OrderDefaults("1710", "10", "00", "PPR0", "61")
ORDER = SalesOrder("BC-demo-9", 9, 1, "company:1", "USD",
                   (SalesOrderLine("SKU-1", 2, Decimal("10.50")), SalesOrderLine("SKU-2", 1, Decimal("3.00"))),
                   ShipTo("Ada", "Acme", "1 Main", "", "Austin", "TX", "78701", "US"), "PO-77")


def test_the_deep_insert_carries_our_reference_the_buyers_po_and_our_prices() -> None:
    body = orders.deep_insert(ORDER, MAPPING, DEFAULTS)
    assert body["PurchaseOrderByCustomer"] == "BC-demo-9" and body["PurchaseOrderByShipToParty"] == "PO-77"
    assert (body["SoldToParty"], body["SalesOrganization"], body["TransactionCurrency"]) == ("17100001", "1710", "USD")
    items = body["to_Item"]["results"]
    assert [(i["Material"], i["RequestedQuantity"]) for i in items] == [("M1", "2"), ("M2", "1")]
    assert items[0]["to_PricingElement"]["results"] == [
        {"ConditionType": "PPR0", "ConditionRateValue": "10.50", "ConditionCurrency": "USD"}]
    (ship_to,) = body["to_Partner"]["results"]
    assert ship_to["PartnerFunction"] == "WE" and ship_to["to_Address"]["results"][0]["CityName"] == "Austin"


def test_an_unmapped_account_or_sku_is_a_mapping_problem_not_a_post() -> None:
    with pytest.raises(orders.OrderMappingProblem, match="company:5"):
        orders.deep_insert(SalesOrder("BC-demo-1", 1, 1, "company:5", "USD", ORDER.lines), MAPPING, DEFAULTS)
    with pytest.raises(orders.OrderMappingProblem, match="SKU-9"):
        orders.deep_insert(SalesOrder("BC-demo-1", 1, 1, "customer:0", "USD",
                                      (SalesOrderLine("SKU-9", 1, Decimal(1)),)), MAPPING, DEFAULTS)


@pytest.mark.parametrize(("statuses", "expected"), [
    ({}, ErpStatus.OPEN),
    ({"OverallSDProcessStatus": "B"}, ErpStatus.RELEASED),
    ({"OverallSDProcessStatus": "B", "OverallDeliveryStatus": "B"}, ErpStatus.PARTIALLY_SHIPPED),
    ({"OverallDeliveryStatus": "C", "OverallOrdReltdBillgStatus": "B"}, ErpStatus.SHIPPED),
    ({"OverallDeliveryStatus": "C", "OverallOrdReltdBillgStatus": "C"}, ErpStatus.COMPLETED),
    ({"OverallSDDocumentRejectionSts": "C", "OverallDeliveryStatus": "A"}, ErpStatus.CANCELLED),
])
def test_s4_statuses_map_to_ours(statuses: dict[str, str], expected: ErpStatus) -> None:
    assert orders.status_of(statuses) is expected


def _entity(*items: tuple[str, str, str, str]) -> dict[str, object]:
    return {"SalesOrder": "100", "PurchaseOrderByCustomer": "BC-demo-9", "LastChangeDateTime": "/Date(1000+0000)/",
            "to_Item": {"results": [
                {"SalesOrderItem": number, "Material": material, "RequestedQuantity": quantity,
                 "SalesDocumentRjcnReason": "", "NetAmount": "0",
                 "to_PricingElement": {"results": [{"ConditionType": "PPR0", "ConditionRateValue": price,
                                                    "PricingProcedureStep": "010", "PricingProcedureCounter": "001"}]}}
                for number, material, quantity, price in items]}}


def test_an_update_is_one_changeset_under_if_match_keeping_positions() -> None:
    entity = _entity(("10", "M1", "2.000", "10.500000000"), ("20", "M2", "1.000", "3.000000000"))
    read = orders.erp_sales_order(entity, MAPPING, "PPR0")
    assert read.lines == ORDER.lines and read.version == 1000
    wanted = SalesOrder("BC-demo-9", 9, 1, "company:1", "USD",
                        (SalesOrderLine("SKU-1", 5, Decimal("10.50")), SalesOrderLine("SKU-3", 1, Decimal("4.00")),
                         SalesOrderLine("SKU-2", 1, Decimal("3.00"))), po_number="PO-78")
    ops = orders.changes("100", 'W/"x"', entity, wanted, MAPPING, DEFAULTS)
    assert ops[0] == ("PATCH", "A_SalesOrder('100')", {"PurchaseOrderByShipToParty": "PO-78"}, {"If-Match": 'W/"x"'})
    assert [(method, path.split("(")[0], body) for method, path, body, _ in ops[1:]] == [
        ("PATCH", "A_SalesOrderItem", {"RequestedQuantity": "5"}),
        ("PATCH", "A_SalesOrderItem", {"Material": "M3"}),
        ("PATCH", "A_SalesOrderItemPrElement", {"ConditionRateValue": "4.00"}),
        ("POST", "A_SalesOrder", orders.item(wanted.lines[2], "USD", MAPPING, DEFAULTS)),
    ]
    cancel = orders.changes("100", 'W/"x"', entity, SalesOrder("BC-demo-9", 9, 1, "company:1", "USD", wanted.lines,
                                                               cancelled=True), MAPPING, DEFAULTS)
    assert [body for _, _, body, _ in cancel[1:]] == [{"SalesDocumentRjcnReason": "61"}] * 2
