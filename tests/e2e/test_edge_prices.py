"""Through HTTP with both simulators: each buyer sees the ERP's price for its price list, an ERP
event changes exactly the buyers it concerns, and forged events change nothing."""
from __future__ import annotations

from decimal import Decimal

import httpx

from pricing_edge.domain.money import quantize
from pricing_edge.intake.envelope import signed_event
from tests.e2e.conftest import System
from tests.support.polling import wait_until

PRICE = "query Price($id: Int!) { site { product(entityId: $id) { entityId prices { price { value currencyCode } } } } }"


def price_of(system: System, product_id: int, buyer: str) -> Decimal:
    data = system.query(PRICE, buyer, {"id": product_id})["data"]
    return Decimal(str(data["site"]["product"]["prices"]["price"]["value"]))


def test_each_demo_buyer_sees_its_erp_price(system: System) -> None:
    for product in system.fixtures["products"]:
        for buyer, expected in product["expected_price"].items():
            assert price_of(system, product["entity_id"], buyer) == Decimal(expected), (product["sku"], buyer)


def test_money_values_keep_their_digits_on_the_wire(system: System) -> None:
    product = system.fixtures["products"][1]
    raw = httpx.post(system.edge_url, json={"query": PRICE, "variables": {"id": product["entity_id"]}},
                     headers=system.buyer("guest")["headers"]).content
    assert f'"value":{product["expected_price"]["guest"]}'.encode() in raw


def test_an_erp_price_event_changes_one_buyer_and_not_the_other(system: System) -> None:
    product = system.fixtures["products"][4]
    wholesale, distributor = system.buyer("1"), system.buyer("2")
    before_other = price_of(system, product["entity_id"], "2")
    assert price_of(system, product["entity_id"], "1") == Decimal(product["expected_price"]["1"])
    sku = product["variants"][0]["sku"]
    system.change_price(price_list_id=wholesale["price_list_id"], sku=sku, currency="USD", price="7.77",
                        sale_price=None)
    wait_until(lambda: price_of(system, product["entity_id"], "1") == Decimal("7.77"), timeout=15,
               what="the wholesale buyer to see the new ERP price")
    assert price_of(system, product["entity_id"], "2") == before_other
    assert distributor["price_list_id"] != wholesale["price_list_id"]


def test_a_badly_signed_event_is_rejected_and_changes_nothing(system: System) -> None:
    product = system.fixtures["products"][5]
    buyer = system.buyer("1")
    before = price_of(system, product["entity_id"], "1")
    data = {"price_list_id": buyer["price_list_id"], "sku": product["variants"][0]["sku"], "currency": "USD",
            "price": "0.01", "version": 10**12}
    forged = signed_event("com.pricingedge.price.changed", data, source="urn:attacker",
                          secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    response = httpx.post(system.edge.base_url + "/events/erp", content=forged.body, headers=forged.headers)
    assert response.status_code == 401
    correctly_signed_but_tampered = signed_event("com.pricingedge.price.changed", data, source="urn:erp",
                                                 secret=system.settings.event_secret)
    body = correctly_signed_but_tampered.body.replace(b'"0.01"', b'"0.02"')
    response = httpx.post(system.edge.base_url + "/events/erp", content=body,
                          headers=correctly_signed_but_tampered.headers)
    assert response.status_code == 401
    assert price_of(system, product["entity_id"], "1") == before


def test_currency_argument_selects_the_erp_price_in_that_currency(system: System) -> None:
    product = system.fixtures["products"][1]
    doc = """query($id: Int!) { site { product(entityId: $id) {
        usd: prices(currencyCode: USD) { price { value currencyCode formattedV2 } }
        eur: prices(currencyCode: EUR) { price { value currencyCode formattedV2 } } } } }"""
    answer = system.query(doc, "2", {"id": product["entity_id"]})["data"]["site"]["product"]
    assert answer["usd"]["price"]["currencyCode"] == "USD"
    assert answer["eur"]["price"]["currencyCode"] == "EUR"
    assert Decimal(str(answer["usd"]["price"]["value"])) == Decimal(product["expected_price"]["2"])
    assert answer["eur"]["price"]["formattedV2"].endswith("€")


def test_a_customer_change_event_moves_the_buyer_to_its_new_price_list(system: System) -> None:
    product = system.fixtures["products"][8]
    assert price_of(system, product["entity_id"], "1") == Decimal(product["expected_price"]["1"])
    distributor_group = system.buyer("2")["customer_group_id"]
    response = httpx.post(system.erp.base_url + "/_sim/changes/customer", timeout=30,
                          json={"customer_id": 1, "customer_group_id": distributor_group})
    assert response.status_code == 200, response.text
    wait_until(lambda: price_of(system, product["entity_id"], "1") == Decimal(product["expected_price"]["2"]),
               timeout=15, what="buyer 1 to see the distributor price list")


def test_tax_inclusive_values_are_the_erp_price_with_tax_and_unknown_fields_keep_the_upstreams(system: System) -> None:
    """``includeTax: true`` is the buyer's ERP price with the tax BigCommerce applies to this buyer (tests/e2e/
    test_edge_tax.py has the details); fields the edge does not own keep BigCommerce's values."""
    product = system.fixtures["products"][1]
    doc = """query($id: Int!) { site { product(entityId: $id) {
        taxed: prices(includeTax: true) { price { value } }
        inventory { hasVariantInventory aggregated { availableToSell warningLevel } } } } }"""
    edge = system.query(doc, "1", {"id": product["entity_id"]})["data"]["site"]["product"]
    upstream = system.upstream(doc, "1", {"id": product["entity_id"]})["data"]["site"]["product"]
    assert Decimal(str(edge["taxed"]["price"]["value"])) == quantize(Decimal(product["expected_price"]["1"]) * Decimal("1.10"))
    assert edge["inventory"]["hasVariantInventory"] == upstream["inventory"]["hasVariantInventory"]
    assert edge["inventory"]["aggregated"]["warningLevel"] == upstream["inventory"]["aggregated"]["warningLevel"]
    assert edge["inventory"]["aggregated"]["availableToSell"] == product["available_to_sell"]
