"""A cart page's checkout: a shipping consignment with the zone's options, a coupon, a gift certificate, and
totals that add up from the lines the way BigCommerce adds them (docs in ``totals.py``)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from pricing_edge.domain.money import quantize
from pricing_edge.domain.pricing import unit_price
from pricing_edge.sim.dataset import Dataset, Product, variant_list_price
from tests.sim.storefront import documents as docs
from tests.sim.storefront import page_documents as pages
from tests.sim.storefront.helpers import TAX_RATE, WHOLESALE, bc_available, data_of, gql, impersonating, price_list_of

ADDRESS = {"firstName": "Avery", "lastName": "Adams", "address1": "1 Main St", "city": "Austin",
           "stateOrProvinceCode": "TX", "countryCode": "US", "postalCode": "78701", "shouldSaveAddress": False}


def simple_products(dataset: Dataset, count: int) -> list[Product]:
    """Simple products without volume breaks or sale, in stock, that guests and wholesale buyers see."""
    price_list = price_list_of(dataset, WHOLESALE)
    return [p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 0)
            and (r := dataset.bc_prices.get(price_list, p.sku, "USD")) is not None and not r.bulk_tiers
            and not p.catalog_tiers and not r.on_sale and bc_available(dataset, p.sku) >= 5
            and p.id not in dataset.catalog_content.options][:count]


def amount(value: str) -> dict[str, Any]:
    return {"currencyCode": "USD", "value": Decimal(value)}


async def checkout(client: httpx.AsyncClient, cart_id: str, headers: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = (await data_of(client, pages.CHECKOUT, {"cartId": cart_id}, headers))["site"]
    return data


async def test_a_checkout_with_shipping_a_coupon_and_a_gift_certificate_adds_up(client: httpx.AsyncClient,
                                                                                dataset: Dataset) -> None:
    headers = impersonating(WHOLESALE)
    price_list = price_list_of(dataset, WHOLESALE)
    first, second = simple_products(dataset, 2)
    created = await data_of(client, docs.CREATE_CART, {"lineItems": [
        {"productEntityId": first.id, "quantity": 2}, {"productEntityId": second.id, "quantity": 1}]}, headers)
    cart_id = created["cart"]["createCart"]["cart"]["entityId"]
    site = await checkout(client, cart_id, headers)
    lines = site["cart"]["lineItems"]["physicalItems"]
    prices = {p.id: dataset.bc_prices.get(price_list, p.sku, "USD").price for p in (first, second)}  # type: ignore[union-attr]
    subtotal = prices[first.id] * 2 + prices[second.id]
    assert [x["listPrice"]["value"] for x in lines] == [prices[first.id], prices[second.id]]
    assert lines[0]["originalPrice"]["value"] == variant_list_price(first.base_price, first.default_variant)
    assert lines[0]["extendedListPrice"]["value"] == prices[first.id] * 2
    assert site["checkout"]["subtotal"] == amount(str(subtotal)) == site["cart"]["baseAmount"]
    assert site["checkout"]["shippingConsignments"] == [] and site["checkout"]["shippingCostTotal"] == amount("0")
    tax = quantize(subtotal * TAX_RATE)
    assert site["checkout"]["taxTotal"] == amount(str(tax))
    assert site["checkout"]["grandTotal"] == amount(str(subtotal + tax))

    line_ids = [x["entityId"] for x in lines]
    added = await data_of(client, pages.ADD_CONSIGNMENT, {"input": {"checkoutEntityId": cart_id, "data": {
        "consignments": [{"address": ADDRESS, "lineItems": [{"lineItemEntityId": i, "quantity": q}
                                                            for i, q in zip(line_ids, (2, 1), strict=True)]}]}}}, headers)
    consignment_id = added["checkout"]["addCheckoutShippingConsignments"]["checkout"]["shippingConsignments"][0]["entityId"]
    [consignment] = (await checkout(client, cart_id, headers))["checkout"]["shippingConsignments"]
    options = {o["entityId"]: o for o in consignment["availableShippingOptions"]}
    weight = first.weight * 2 + second.weight
    assert options["us-ground"]["cost"] == amount(str(quantize(Decimal("6.00") + Decimal("0.50") * weight)))
    assert options["us-flat"]["cost"] == amount("12.00")
    assert ("us-free" in options) == (subtotal >= 500)
    assert [o["isRecommended"] for o in options.values()].count(True) >= 1
    assert consignment["address"] == {"countryCode": "US", "stateOrProvinceCode": "TX", "postalCode": "78701"}
    await data_of(client, pages.SELECT_SHIPPING, {"input": {"checkoutEntityId": cart_id, "consignmentEntityId":
                  consignment_id, "data": {"shippingOptionEntityId": "us-flat"}}}, headers)
    await data_of(client, pages.APPLY_COUPON, {"input": {"checkoutEntityId": cart_id,
                                                         "data": {"couponCode": "welcome10"}}}, headers)
    await data_of(client, pages.APPLY_GIFT_CERTIFICATE, {"input": {"checkoutEntityId": cart_id,
                                                                   "data": {"giftCertificateCode": "GC-DEMO-0050"}}},
                  headers)
    final = await checkout(client, cart_id, headers)
    c = final["checkout"]
    coupon = quantize(subtotal * Decimal("0.10"))
    tax = quantize((subtotal - coupon) * TAX_RATE)
    grand = subtotal - coupon + Decimal("12.00") + Decimal("2.50") + tax
    assert c["coupons"] == [{"code": "WELCOME10", "couponType": "PERCENTAGE_DISCOUNT", "discountedAmount":
                             amount(str(coupon))}]
    assert (c["shippingCostTotal"], c["handlingCostTotal"]) == (amount("12.00"), amount("2.50"))
    assert c["taxTotal"] == amount(str(tax)) and c["taxes"] == [{"name": "Sales Tax", "amount": amount(str(tax))}]
    assert c["grandTotal"] == amount(str(grand))
    used = min(Decimal("50.00"), grand)
    assert c["giftCertificates"] == [{"code": "GC-DEMO-0050", "balance": amount("50.00"), "used": amount(str(used)),
                                      "remaining": amount(str(Decimal("50.00") - used))}]
    assert c["outstandingBalance"] == amount(str(grand - used))
    cart = final["cart"]
    assert cart["amount"] == amount(str(subtotal - coupon))
    assert sum(x["couponAmount"]["value"] for x in cart["lineItems"]["physicalItems"]) == coupon  # spread over lines
    freeship = await data_of(client, pages.APPLY_COUPON, {"input": {"checkoutEntityId": cart_id,
                                                                    "data": {"couponCode": "FREESHIP"}}}, headers)
    assert [x["code"] for x in freeship["checkout"]["applyCheckoutCoupon"]["checkout"]["coupons"]] == \
        ["WELCOME10", "FREESHIP"]
    assert (await checkout(client, cart_id, headers))["checkout"]["shippingCostTotal"] == amount("0")
    await data_of(client, pages.UNAPPLY_COUPON, {"input": {"checkoutEntityId": cart_id,
                                                           "data": {"couponCode": "FREESHIP"}}}, headers)


async def test_volume_breaks_are_the_lines_discount(client: httpx.AsyncClient, dataset: Dataset) -> None:
    price_list = price_list_of(dataset, WHOLESALE)
    product = next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 0)
                   and (r := dataset.bc_prices.get(price_list, p.sku, "USD")) is not None and r.bulk_tiers
                   and not r.on_sale and bc_available(dataset, p.sku) >= 60 and p.id not in dataset.catalog_content.options)
    record = dataset.bc_prices.get(price_list, product.sku, "USD")
    assert record is not None
    headers = impersonating(WHOLESALE)
    created = await data_of(client, docs.CREATE_CART, {"lineItems": [{"productEntityId": product.id, "quantity": 50}]},
                            headers)
    site = await checkout(client, created["cart"]["createCart"]["cart"]["entityId"], headers)
    [line] = site["cart"]["lineItems"]["physicalItems"]
    sale = unit_price(record, 50)
    discount = (record.price - sale) * 50
    assert (line["listPrice"]["value"], line["salePrice"]["value"]) == (record.price, sale)
    assert line["discountedAmount"] == amount(str(discount)) == site["cart"]["discountedAmount"]
    assert site["cart"]["discounts"] == [{"entityId": "bulk-pricing", "discountedAmount": amount(str(discount))}]
    assert site["checkout"]["subtotal"] == amount(str(record.price * 50))  # before item-level discounts
    assert site["cart"]["amount"] == amount(str(sale * 50))


async def test_coupons_gift_certificates_and_consignments_refuse_what_cannot_apply(client: httpx.AsyncClient,
                                                                                   dataset: Dataset) -> None:
    headers = impersonating(WHOLESALE)
    price_list = price_list_of(dataset, WHOLESALE)
    product = next(p for p in simple_products(dataset, 100) if dataset.bc_prices.get(  # type: ignore[union-attr]
        price_list, p.sku, "USD").price < 100)
    created = await data_of(client, docs.CREATE_CART, {"lineItems": [{"productEntityId": product.id, "quantity": 1}]},
                            headers)
    cart_id = created["cart"]["createCart"]["cart"]["entityId"]
    line_id = created["cart"]["createCart"]["cart"]["lineItems"]["physicalItems"][0]["entityId"]

    async def refused(document: str, data: dict[str, Any], **extra: Any) -> str:
        body = await gql(client, document, {"input": {"checkoutEntityId": cart_id, "data": data, **extra}}, headers)
        message: str = body["errors"][0]["message"]
        return message

    assert await refused(pages.APPLY_COUPON, {"couponCode": "NOPE"}) == "The coupon code 'NOPE' is not valid."
    assert await refused(pages.APPLY_COUPON, {"couponCode": "SUMMER2024"}) == "The coupon code 'SUMMER2024' has expired."
    assert await refused(pages.APPLY_COUPON, {"couponCode": "TAKE25"}) == \
        "The coupon code 'TAKE25' needs an order of at least 100.00 USD."
    assert await refused(pages.APPLY_GIFT_CERTIFICATE, {"giftCertificateCode": "GC-DEMO-SPENT"}) == \
        "The gift certificate 'GC-DEMO-SPENT' has no balance left."
    assert await refused(pages.ADD_CONSIGNMENT, {"consignments": [{"address": {**ADDRESS, "countryCode": "JP"},
        "lineItems": [{"lineItemEntityId": line_id, "quantity": 1}]}]}) == "The store does not ship to 'JP'."
    assert await refused(pages.ADD_CONSIGNMENT, {"consignments": [{"address": {**ADDRESS, "stateOrProvinceCode": "ON"},
        "lineItems": [{"lineItemEntityId": line_id, "quantity": 1}]}]}) == \
        "'ON' is not a state or province of United States."
    site = await checkout(client, cart_id, headers)
    assert site["checkout"]["coupons"] == [] and site["checkout"]["giftCertificates"] == []
    assert site["checkout"]["shippingConsignments"] == []
    someone_else = await gql(client, pages.CHECKOUT, {"cartId": cart_id}, impersonating(2))
    assert someone_else["data"]["site"] == {"cart": None, "checkout": None}  # a customer's checkout is theirs alone
