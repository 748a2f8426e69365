"""The S/4HANA face takes an order's parts only where SAP's ``API_SALES_ORDER_SRV`` has them — pricing elements
of its pricing procedure's manual types at item and header, an item's ship-to partner, its sales text — and
refuses anything else with an OData error, leaving nothing behind; the totals it shows are computed from what
it holds, never taken from the request."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.sim.erp.app import ErpSim
from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON
from tests.support.servers import ServerThread, serve

SERVICE = "/sap/opu/odata/sap/API_SALES_ORDER_SRV"


@pytest.fixture(scope="module")
def face() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), face="s4hana", latency_ms=0)) as server:
        yield server


@pytest.fixture(scope="module")
def sim(face: ServerThread) -> ErpSim:
    return face.server.config.app.state.erp  # type: ignore[union-attr]


@pytest.fixture
def http(face: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=face.base_url + SERVICE, auth=(DEMO_LOGON.user, DEMO_LOGON.password),
                      params={"sap-client": DEMO_LOGON.client}, timeout=30) as client:
        token = client.get("/", headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
        client.headers["x-csrf-token"] = token
        yield client


def condition(kind: str, rate: str) -> dict[str, str]:
    return {"ConditionType": kind, "ConditionRateValue": rate, "ConditionCurrency": "USD"}


def address(street: str) -> dict[str, str]:
    return {"AddresseeFullName": "Ada Buyer", "StreetName": street, "CityName": "Austin", "PostalCode": "78701",
            "Region": "TX", "Country": "US"}


def body(sim: ErpSim, reference: str, **header: Any) -> dict[str, Any]:
    """Two items (the second to a ship-to of its own, with options), discounts, shipping, a fee and taxes."""
    codes = sim.vendor.codes
    first, second = sim.state.skus[40], sim.state.skus[41]
    return {"SalesOrderType": "OR", "SoldToParty": codes.company_account(2), "PurchaseOrderByCustomer": reference,
            "TransactionCurrency": "USD",
            "to_Partner": {"results": [{"PartnerFunction": "WE", "Customer": codes.company_account(2),
                                        "to_Address": {"results": [address("1 Main St")]}}]},
            "to_Item": {"results": [
                {"Material": codes.material(first), "RequestedQuantity": "3", "to_PricingElement": {"results": [
                    condition("PPR0", "10.00"), condition("RB00", "-2.50"), condition("ZSHP", "5.00"),
                    condition("ZTAX", "2.70")]}},
                {"Material": codes.material(second), "RequestedQuantity": "1", "to_PricingElement": {"results": [
                    condition("PPR0", "20.00"), condition("ZSHP", "7.00"), condition("ZTAX", "1.62")]},
                 "to_Text": {"results": [{"Language": "EN", "LongTextID": "0001", "LongText": "Engraving: Yes"}]},
                 "to_Partner": {"results": [{"PartnerFunction": "WE", "Customer": codes.company_account(2),
                                             "to_Address": {"results": [address("9 Dock Road")]}}]}}]},
            "to_PricingElement": {"results": [condition("HB00", "-1.00"), condition("ZFEE", "3.00"),
                                              condition("ZTAX", "0.24")]},
            "to_Text": {"results": [{"Language": "EN", "LongTextID": "0002",
                                     "LongText": "Coupons: SPRING10\nShipping 2: Express\nCall before delivery"}]},
            **header}


def test_an_order_with_every_part_is_kept_and_its_totals_are_computed(
        http: httpx.Client, sim: ErpSim) -> None:
    reference = f"BC-parts-{uuid.uuid4().hex[:8]}"
    created = http.post("/A_SalesOrder", json=body(sim, reference))
    assert created.status_code == 201, created.text
    kept = sim.orders.find(reference)
    assert kept is not None
    order = kept.order
    assert [(line.discount, line.tax, line.options, line.consignment) for line in order.lines] == [
        (Decimal("2.50"), Decimal("2.70"), (), 0), (Decimal(0), Decimal("1.62"), (("Engraving", "Yes"),), 1)]
    assert [c.ship_to.street_1 for c in order.consignments] == ["1 Main St", "9 Dock Road"]
    assert sorted((c.kind, c.amount, c.tax, c.consignment) for c in order.charges) == [
        ("fee", Decimal("3.00"), Decimal("0.24"), None), ("shipping", Decimal("5.00"), 0, 0),
        ("shipping", Decimal("7.00"), 0, 1)]
    assert order.discount == Decimal("1.00") and order.coupons == ("SPRING10",)
    assert [c.method for c in order.consignments] == ["", "Express"]

    number = created.json()["d"]["SalesOrder"]
    read = http.get(f"/A_SalesOrder('{number}')", params={"$expand": "to_Item,to_PricingElement"}).json()["d"]
    items = read["to_Item"]["results"]
    net = Decimal("30.00") - Decimal("2.50") + Decimal("5.00") + Decimal("20.00") + Decimal("7.00") + 3 - 1
    assert Decimal(read["TotalNetAmount"]) == net == sum(Decimal(i["NetAmount"]) for i in items)
    assert sum(Decimal(i["TaxAmount"]) for i in items) == Decimal("2.70") + Decimal("1.62") + Decimal("0.24")
    header = sorted((e["ConditionType"], Decimal(e["ConditionAmount"])) for e in read["to_PricingElement"]["results"])
    assert header == [("HB00", Decimal("-1.00")), ("ZFEE", Decimal("3.00")), ("ZTAX", Decimal("0.24"))]
    partners = http.get(f"/A_SalesOrderItem(SalesOrder='{number}',SalesOrderItem='20')/to_Partner",
                        params={"$expand": "to_Address"}).json()["d"]["results"]
    assert [(p["PartnerFunction"], p["to_Address"]["results"][0]["StreetName"]) for p in partners] == [
        ("WE", "9 Dock Road")]


@pytest.mark.parametrize(("change", "code"), [
    (lambda b: b["to_Item"]["results"][0]["to_PricingElement"]["results"].append(condition("K007", "-1")), "V1/212"),
    (lambda b: b["to_Item"]["results"][0]["to_PricingElement"]["results"].append(condition("HB00", "-1")), "V1/212"),
    (lambda b: b["to_PricingElement"]["results"].append(condition("PPR0", "5")), "V1/212"),
    (lambda b: b["to_Item"]["results"][0]["to_PricingElement"]["results"].append(condition("RB00", "1")), "V1/061"),
    (lambda b: b.update(TotalNetAmount="1.00"), "V1/046"),
    (lambda b: b["to_Item"]["results"][0].update(TaxAmount="0.10"), "V1/046"),
    (lambda b: b["to_Item"]["results"][0].update(to_Discount={"results": []}), "/IWBEP/CM_MGW_RT/004"),
    (lambda b: b["to_Item"]["results"][1]["to_Text"]["results"][0].update(LongTextID="Z999"), "TD/600"),
    (lambda b: b["to_Text"]["results"][0].update(LongTextID="0001"), "TD/600"),
    (lambda b: b["to_Item"]["results"][1]["to_Partner"]["results"][0].update(PartnerFunction="RE"), "V1/128"),
])
def test_what_the_api_or_the_pricing_procedure_lacks_is_refused_and_leaves_nothing(
        http: httpx.Client, sim: ErpSim, change: Any, code: str) -> None:
    reference = f"BC-refused-{uuid.uuid4().hex[:8]}"
    refused = body(sim, reference)
    change(refused)
    answer = http.post("/A_SalesOrder", json=refused)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == code
    assert sim.orders.find(reference) is None


def test_an_items_discount_and_tax_change_and_its_shipping_stays_as_posted(http: httpx.Client, sim: ErpSim) -> None:
    reference = f"BC-change-{uuid.uuid4().hex[:8]}"
    number = http.post("/A_SalesOrder", json=body(sim, reference)).json()["d"]["SalesOrder"]
    item = f"SalesOrder='{number}',SalesOrderItem='20'"
    assert http.post(f"/A_SalesOrderItem({item})/to_PricingElement", json=condition("RB00", "-4.00")).status_code == 201
    discount = f"A_SalesOrderItemPrElement(SalesOrder='{number}',SalesOrderItem='10',PricingProcedureStep='020'," \
               "PricingProcedureCounter='001')"
    assert http.patch(f"/{discount}", json={"ConditionRateValue": "-1.00"}).status_code == 204
    kept = sim.orders.find(reference)
    assert kept is not None and [line.discount for line in kept.order.lines] == [Decimal("1.00"), Decimal("4.00")]
    shipping = f"A_SalesOrderItemPrElement(SalesOrder='{number}',SalesOrderItem='10',PricingProcedureStep='030'," \
               "PricingProcedureCounter='001')"
    refused = [http.patch(f"/{shipping}", json={"ConditionRateValue": "1.00"}),
               http.post(f"/A_SalesOrderItem({item})/to_PricingElement", json=condition("ZSHP", "1.00")),
               http.patch(f"/{discount}", json={"ConditionRateValue": "1.00"})]  # a discount is never positive
    assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [
        (400, "V1/046"), (400, "V1/212"), (400, "V1/061")]
    read = http.get(f"/A_SalesOrder('{number}')", params={"$expand": "to_Item"}).json()["d"]
    total = Decimal(read["TotalNetAmount"]) + sum(Decimal(i["TaxAmount"]) for i in read["to_Item"]["results"])
    assert total == kept.order.total
