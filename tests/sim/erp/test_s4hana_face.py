"""The S/4HANA face read and written with SAP's own Python OData client (pyodata), so the connector
and the face cannot share one misunderstanding of OData V2; and its Gateway behaviour — logon,
``sap-client``, CSRF, throttling, ``$batch`` changesets all-or-nothing — over plain HTTP."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pyodata
import pytest
import requests

from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.sim.erp.app import ErpSim
from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON
from tests.support.servers import ServerThread, serve

ROOT = "/sap/opu/odata/sap"


@pytest.fixture(scope="module")
def face() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), face="s4hana", latency_ms=0, page_size=300)) as server:
        yield server


@pytest.fixture(scope="module")
def sim(face: ServerThread) -> ErpSim:
    return face.server.config.app.state.erp  # type: ignore[no-any-return,attr-defined]


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.auth = (DEMO_LOGON.user, DEMO_LOGON.password)
        s.params = {"sap-client": DEMO_LOGON.client}  # type: ignore[assignment]
        yield s


def client(face: ServerThread, session: requests.Session, service: str) -> pyodata.Client:
    return pyodata.Client(f"{face.base_url}{ROOT}/{service}", session)


def test_pyodata_reads_price_list_condition_records_with_scales_in_the_erps_codes(
        face: ServerThread, sim: ErpSim, session: requests.Session) -> None:
    codes = sim.vendor.codes
    prices = client(face, session, "API_SLSPRICINGCONDITIONRECORD_SRV")
    sku = next(s for s in sim.state.skus if sim.state.dataset.prices.get(2, s, "USD").bulk_tiers)  # type: ignore[union-attr]
    truth = sim.state.dataset.prices.get(2, sku, "USD")
    assert truth is not None
    rows = (prices.entity_sets.A_SlsPrcgCndnRecdValidity.get_entities()
            .filter(f"PriceListType eq '{codes.price_list_type(2)}' and Material eq '{codes.material(sku)}'")
            .expand("to_SlsPrcgConditionRecord/to_SlsPrcgCndnRecordScale").execute())
    by_currency = {row.TransactionCurrency: row for row in rows}
    assert set(by_currency) == {"USD", "EUR"}
    record = by_currency["USD"].to_SlsPrcgConditionRecord
    assert record.ConditionType == "PPR0" and record.ConditionRateValueUnit == "USD"
    assert Decimal(record.ConditionRateValue) == truth.price
    scales = sorted((Decimal(s.ConditionScaleQuantity), Decimal(s.ConditionRateValue))
                    for s in record.to_SlsPrcgCndnRecordScale)
    assert scales == [(Decimal(1), truth.price)] + [(Decimal(t.min_quantity), t.amount) for t in truth.bulk_tiers]
    assert codes.material(sku) != sku  # ERP codes, never BigCommerce's
    same = prices.entity_sets.A_SlsPrcgConditionRecord.get_entity(record.ConditionRecord).execute()
    assert Decimal(same.ConditionRateValue) == truth.price


def test_pyodata_reads_unrestricted_stock_per_plant(face: ServerThread, sim: ErpSim, session: requests.Session) -> None:
    codes = sim.vendor.codes
    sku = sim.state.skus[0]
    stock = client(face, session, "API_MATERIAL_STOCK_SRV")
    rows = stock.entity_sets.A_MatlStkInAcctMod.get_entities().filter(
        f"Material eq '{codes.material(sku)}' and InventoryStockType eq '01'").execute()
    assert {row.Plant: Decimal(row.MatlWrhsStkQtyInMatlBaseUnit) for row in rows} == {
        codes.plant(level.location_id): Decimal(level.on_hand) for level in sim.state.dataset.stock_for(sku)}


def test_pyodata_reads_business_partners_their_blocks_and_sales_areas(
        face: ServerThread, sim: ErpSim, session: requests.Session) -> None:
    codes = sim.vendor.codes
    held = next(c for c in sim.state.dataset.companies if c.status == "hold")
    partners = client(face, session, "API_BUSINESS_PARTNER")
    partner = partners.entity_sets.A_BusinessPartner.get_entity(codes.company_account(held.id)) \
        .expand("to_Customer/to_CustomerSalesArea").execute()
    assert partner.BusinessPartnerFullName == held.name
    assert partner.to_Customer.OrderIsBlockedForCustomer == "01"
    (area,) = partner.to_Customer.to_CustomerSalesArea
    assert area.CustomerGroup == codes.customer_group(held.customer_group_id)
    buyer = next(c for c in sim.state.dataset.customers if c.company_id == held.id)
    contacts = partners.entity_sets.A_BusinessPartnerContact.get_entities().filter(
        f"BusinessPartnerPerson eq '{codes.person(buyer.id)}'").execute()
    assert [c.BusinessPartnerCompany for c in contacts] == [codes.company_account(held.id)]


def test_pyodata_posts_a_sales_order_by_deep_insert_and_reads_it_back(
        face: ServerThread, sim: ErpSim, session: requests.Session) -> None:
    codes = sim.vendor.codes
    token = session.get(f"{face.base_url}{ROOT}/API_SALES_ORDER_SRV/", headers={"x-csrf-token": "Fetch"})
    session.headers["x-csrf-token"] = token.headers["x-csrf-token"]
    orders = client(face, session, "API_SALES_ORDER_SRV")
    sku = sim.state.skus[5]
    body = {"SalesOrderType": "OR", "SalesOrganization": "1710", "DistributionChannel": "10",
            "OrganizationDivision": "00", "SoldToParty": codes.company_account(2),
            "PurchaseOrderByCustomer": "BC-pyodata-1", "TransactionCurrency": "USD",
            "to_Item": [{"Material": codes.material(sku), "RequestedQuantity": "3",
                         "to_PricingElement": [{"ConditionType": "PPR0", "ConditionRateValue": "9.99",
                                                "ConditionCurrency": "USD"}]}]}
    created = orders.entity_sets.A_SalesOrder.create_entity().set(**body).execute()
    kept = sim.orders.find("BC-pyodata-1")
    assert kept is not None and kept.order.sold_to == "company:2"
    assert [(line.sku, line.quantity, line.unit_price) for line in kept.order.lines] == [(sku, 3, Decimal("9.99"))]
    read = orders.entity_sets.A_SalesOrder.get_entities().filter("PurchaseOrderByCustomer eq 'BC-pyodata-1'") \
        .expand("to_Item/to_PricingElement").execute()
    (order,) = read
    assert order.SalesOrder == created.SalesOrder and order.OverallSDProcessStatus == "A"
    (item,) = order.to_Item
    assert item.Material == codes.material(sku) and Decimal(item.RequestedQuantity) == 3
    assert Decimal(item.to_PricingElement[0].ConditionRateValue) == Decimal("9.99")


def _url(face: ServerThread, service: str, path: str = "") -> str:
    return f"{face.base_url}{ROOT}/{service}/{path}"


def test_the_gateway_refuses_a_wrong_logon_a_wrong_client_and_a_change_without_csrf(face: ServerThread) -> None:
    auth = (DEMO_LOGON.user, DEMO_LOGON.password)
    url = _url(face, "API_SALES_ORDER_SRV", "A_SalesOrder")
    assert httpx.get(url, auth=(DEMO_LOGON.user, "wrong"), params={"sap-client": "100"}).status_code == 401
    assert httpx.get(url, auth=auth, params={"sap-client": "200"}).status_code == 401
    refused = httpx.post(url, auth=auth, params={"sap-client": "100"}, json={})
    assert (refused.status_code, refused.headers["x-csrf-token"]) == (403, "Required")
    with httpx.Client(auth=auth, params={"sap-client": "100"}) as http:
        token = http.get(_url(face, "API_SALES_ORDER_SRV"), headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
        answer = http.post(url, json={"SoldToParty": "NOBODY"}, headers={"x-csrf-token": token})
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "V1/302"  # SAP's error body, naming what is wrong


def test_throttled_calls_answer_429_with_retry_after(face: ServerThread) -> None:
    httpx.post(f"{face.base_url}/_sim/s4hana/throttle", json={"requests": 1, "retry_after": 3})
    auth, params = (DEMO_LOGON.user, DEMO_LOGON.password), {"sap-client": "100"}
    throttled = httpx.get(_url(face, "API_MATERIAL_STOCK_SRV", "A_MaterialStock"), auth=auth, params=params)
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "3")
    assert httpx.get(_url(face, "API_MATERIAL_STOCK_SRV", "A_MaterialStock"), auth=auth, params=params).status_code == 200


def test_a_failing_changeset_changes_nothing(face: ServerThread, sim: ErpSim, session: requests.Session) -> None:
    codes = sim.vendor.codes
    sku = sim.state.skus[6]
    with httpx.Client(auth=(DEMO_LOGON.user, DEMO_LOGON.password), params={"sap-client": "100"}) as http:
        token = http.get(_url(face, "API_SALES_ORDER_SRV"), headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
        body = {"SoldToParty": codes.company_account(3), "PurchaseOrderByCustomer": "BC-batch-1",
                "TransactionCurrency": "USD", "to_Item": [{"Material": codes.material(sku), "RequestedQuantity": "1"}]}
        created = http.post(_url(face, "API_SALES_ORDER_SRV", "A_SalesOrder"), json=body,
                            headers={"x-csrf-token": token}).json()["d"]
        number, etag = created["SalesOrder"], created["__metadata"]["etag"]
        changeset = ("--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                     f"PATCH A_SalesOrderItem(SalesOrder='{number}',SalesOrderItem='10') HTTP/1.1\r\n"
                     "Content-Type: application/json\r\n\r\n{\"RequestedQuantity\": \"7\"}\r\n"
                     "--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                     f"PATCH A_SalesOrder('{number}') HTTP/1.1\r\nIf-Match: W/\"stale\"\r\n"
                     "Content-Type: application/json\r\n\r\n{}\r\n--cs--\r\n")
        batch = (f"--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n{changeset}\r\n--b--\r\n")
        answer = http.post(_url(face, "API_SALES_ORDER_SRV", "$batch"), content=batch.encode(),
                           headers={"x-csrf-token": token, "content-type": "multipart/mixed; boundary=b"})
        assert answer.status_code == 202 and "412 Precondition Failed" in answer.text
        assert etag
    kept = sim.orders.find("BC-batch-1")
    assert kept is not None and kept.order.lines[0].quantity == 1  # the first change was not applied either
