"""Sales orders in S/4's shape (pure): our reference in PurchaseOrderByCustomer, the buyer's PO beside
it, a manual PPR0 price per item; S/4's statuses back to ours; the changeset for an update."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from pricing_edge.config import Settings
from pricing_edge.domain.orders import Charge, Consignment, ErpStatus, SalesOrder, SalesOrderLine, ShipTo
from pricing_edge.erp.sap_s4 import orders
from pricing_edge.erp.sap_s4.mapping import S4Mapping
from pricing_edge.erp.sap_s4.settings import S4Settings, S4SettingsError

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


SECOND = ShipTo("Rob", "Acme", "9 Dock Road", "", "Dallas", "TX", "75201", "US")
COMPLETE = replace(
    ORDER, lines=(replace(ORDER.lines[0], discount=Decimal("2.00"), tax=Decimal("1.57"), options=(("Color", "Red"),
                                                                                                  ("Engraving", "Yes"))),
                  replace(ORDER.lines[1], tax=Decimal("0.25"), consignment=1)),
    consignments=(Consignment(ORDER.ship_to, "Ground"), Consignment(SECOND, "Express")),  # type: ignore[arg-type]
    charges=(Charge("shipping", "Ground", Decimal("5.00"), Decimal("0.41"), 0),
             Charge("shipping", "Express", Decimal("9.00"), Decimal("0.74"), 1),
             Charge("handling", "handling", Decimal("1.00")), Charge("fee", "Insurance", Decimal("3.00"), Decimal("0.25"))),
    discount=Decimal("1.50"), coupons=("SPRING10",), tax_inclusive=True)


def _kinds(elements: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(e["ConditionType"], e["ConditionRateValue"]) for e in elements]


def test_every_part_of_an_order_is_posted_where_s4_keeps_it() -> None:
    body = orders.deep_insert(COMPLETE, MAPPING, DEFAULTS)
    first, second = body["to_Item"]["results"]
    # items: price, discount (negative), the consignment's shipping on its first item, tax with that shipping's
    assert _kinds(first["to_PricingElement"]["results"]) == [("PPR0", "10.50"), ("RB00", "-2.00"), ("ZSHP", "5.00"),
                                                             ("ZTAX", "1.98")]
    assert _kinds(second["to_PricingElement"]["results"]) == [("PPR0", "3.00"), ("ZSHP", "9.00"), ("ZTAX", "0.99")]
    assert first["to_Text"]["results"] == [{"Language": "EN", "LongTextID": "0001",
                                            "LongText": "Color: Red\nEngraving: Yes"}]
    assert "to_Partner" not in first and "to_Text" not in second  # the header's ship-to; no options
    (partner,) = second["to_Partner"]["results"]
    assert (partner["PartnerFunction"], partner["Customer"]) == ("WE", "17100001")
    assert partner["to_Address"]["results"][0]["StreetName"] == "9 Dock Road"
    # header: the order's discount, the charges not on an item, their tax; the PO apart from our reference
    assert _kinds(body["to_PricingElement"]["results"]) == [("HB00", "-1.50"), ("ZHDL", "1.00"), ("ZFEE", "3.00"),
                                                            ("ZTAX", "0.25")]
    assert (body["PurchaseOrderByCustomer"], body["PurchaseOrderByShipToParty"]) == ("BC-demo-9", "PO-77")
    assert body["to_Text"]["results"] == [{"Language": "EN", "LongTextID": "0002",
                                           "LongText": "Coupons: SPRING10\nShipping 1: Ground\nShipping 2: Express"}]
    assert body["to_Partner"]["results"][0]["to_Address"]["results"][0]["CityName"] == "Austin"


def test_a_plain_order_posts_only_its_prices() -> None:
    body = orders.deep_insert(ORDER, MAPPING, DEFAULTS)
    assert "to_PricingElement" not in body and "to_Text" not in body
    assert [_kinds(i["to_PricingElement"]["results"]) for i in body["to_Item"]["results"]] == [
        [("PPR0", "10.50")], [("PPR0", "3.00")]]


def test_condition_types_come_from_the_setting_and_price_and_tax_keep_their_own() -> None:
    assert orders.OrderConditions.parse("", "PPR0") == orders.OrderConditions()
    chosen = orders.OrderConditions.parse("shipping=ZFR1, tax=MWST", "PPR0")
    assert (chosen.shipping, chosen.tax, chosen.discount) == ("ZFR1", "MWST", "RB00")
    defaults = replace(DEFAULTS, conditions=chosen)
    elements = orders.deep_insert(COMPLETE, MAPPING, defaults)["to_Item"]["results"][0]["to_PricingElement"]["results"]
    assert [e["ConditionType"] for e in elements] == ["PPR0", "RB00", "ZFR1", "MWST"]
    shared = orders.OrderConditions.parse("order_discount=RB00,handling=ZSUR,wrapping=ZSUR", "PPR0")
    assert (shared.order_discount, shared.handling, shared.wrapping) == ("RB00", "ZSUR", "ZSUR")
    for text, problem in (("freight=ZFR1", "unknown kind"), ("tax=mwst", "not a condition type"),
                          ("tax=RB00", "tax needs a condition type of its own"), ("fee=PPR0", "price's"),
                          ("tax=PPR0", "price's")):
        with pytest.raises(ValueError, match=problem):
            orders.OrderConditions.parse(text, "PPR0")


def test_a_bad_condition_setting_stops_the_connector_naming_it() -> None:
    settings = replace(Settings.from_env({}), erp="s4hana", erp_url="http://s4.example", s4_user="u",
                       s4_password="p", s4_order_conditions="tax=RB00")
    with pytest.raises(S4SettingsError, match="PRICING_EDGE_S4_ORDER_CONDITIONS"):
        S4Settings.of(settings)
    assert S4Settings.of(replace(settings, s4_order_conditions="tax=MWST")).order_defaults.conditions.tax == "MWST"


def test_the_total_read_back_is_s4s_net_value_and_the_tax_of_the_items_not_rejected() -> None:
    entity = _entity(("10", "M1", "2.000", "10.500000000"), ("20", "M2", "1.000", "3.000000000"))
    assert orders.erp_sales_order(entity, MAPPING, "PPR0").total is None  # S/4 said nothing: none is made up
    items = entity["to_Item"]["results"]  # type: ignore[index]
    items[0]["TaxAmount"], items[1]["TaxAmount"] = "1.570", "0.250"
    items[1]["SalesDocumentRjcnReason"] = "61"
    entity["TotalNetAmount"] = "24.000"
    assert orders.erp_sales_order(entity, MAPPING, "PPR0").total == Decimal("25.57")


def test_an_update_brings_each_items_discount_and_tax_along_changing_or_adding_their_conditions() -> None:
    entity = _entity(("10", "M1", "2.000", "10.500000000"), ("20", "M2", "1.000", "3.000000000"))
    first = entity["to_Item"]["results"][0]  # type: ignore[index]
    first["to_PricingElement"]["results"].append({"ConditionType": "RB00", "ConditionRateValue": "-2.000000000",
                                                  "PricingProcedureStep": "020", "PricingProcedureCounter": "001"})
    wanted = replace(ORDER, lines=(replace(ORDER.lines[0], quantity=3, discount=Decimal("3.00")),
                                   replace(ORDER.lines[1], tax=Decimal("0.25"))))
    ops = orders.changes("100", 'W/"x"', entity, wanted, MAPPING, DEFAULTS)
    assert [(method, path, body) for method, path, body, _ in ops[1:]] == [
        ("PATCH", "A_SalesOrderItem(SalesOrder='100',SalesOrderItem='10')", {"RequestedQuantity": "3"}),
        ("PATCH", "A_SalesOrderItemPrElement(SalesOrder='100',SalesOrderItem='10',PricingProcedureStep='020',"
                  "PricingProcedureCounter='001')", {"ConditionRateValue": "-3.00"}),
        ("POST", "A_SalesOrderItem(SalesOrder='100',SalesOrderItem='20')/to_PricingElement",
         {"ConditionType": "ZTAX", "ConditionRateValue": "0.25", "ConditionCurrency": "USD"}),
    ]
    withdrawn = orders.changes("100", 'W/"x"', entity, replace(ORDER, lines=(replace(ORDER.lines[0]), ORDER.lines[1])),
                               MAPPING, DEFAULTS)
    assert [body for _, _, body, _ in withdrawn[1:]] == [{"ConditionRateValue": "0"}]  # the discount withdrawn
