"""``site.checkout`` and the checkout mutations a cart page sends: shipping consignments (address and
lines) with their shipping options, coupons, gift certificates. A checkout is its cart (same id);
its totals are ``cart_pricing.cart_totals``."""
from __future__ import annotations

import uuid
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.geography import country
from pricing_edge.sim.storefront.cart import Cart, Consignment, cart_for_update, site_cart
from pricing_edge.sim.storefront.cart_pricing import (
    cart_totals,
    coupon_of,
    coupon_problem,
    handling,
    shipping_options,
    total_field,
)
from pricing_edge.sim.storefront.context import ctx, money, when
from pricing_edge.sim.storefront.ids import global_id
from pricing_edge.sim.storefront.totals import ZERO

ADDRESS_FIELDS = ("firstName", "lastName", "email", "company", "address1", "address2", "city", "stateOrProvince",
                  "stateOrProvinceCode", "countryCode", "postalCode", "phone")


def _option(method: Any, cost: Any, currency: str, recommended: bool | None = None) -> dict[str, Any]:
    found = {"entityId": method.id, "description": method.description, "type": method.type,
             "cost": money(cost, currency), "transitTime": method.transit_time}
    if recommended is not None:
        found["isRecommended"] = recommended
    return found


def _consignment(info: GraphQLResolveInfo, cart: Cart, consignment: Consignment) -> dict[str, Any]:
    options = shipping_options(ctx(info), cart, consignment)
    cheapest = min((cost for _, cost in options), default=None)
    chosen = next(((m, cost) for m, cost in options if m.id == consignment.selected), None)
    free = any(coupon.type == "FREE_SHIPPING" for code in cart.coupons if (coupon := coupon_of(ctx(info), code)))
    cur = cart.currency
    return {
        "entityId": consignment.entity_id,
        "address": {name: consignment.address.get(name) for name in ADDRESS_FIELDS},
        "availableShippingOptions": [_option(m, cost, cur, cost == cheapest) for m, cost in options],
        "selectedShippingOption": _option(*chosen, cur) if chosen else None,
        "shippingCost": money(ZERO if free else chosen[1], cur) if chosen else None,
        "handlingCost": money(handling(chosen[0], cur), cur) if chosen else None,
        "lineItemIds": list(consignment.line_ids),
    }


def _coupons(cart: Cart, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    found = cart_totals(ctx(info), cart).coupon_amounts
    return [{"entityId": coupon.id, "code": coupon.code, "couponType": coupon.type,
             "discountedAmount": money(found.get(coupon.code, ZERO), cart.currency)}
            for code in cart.coupons if (coupon := coupon_of(ctx(info), code)) is not None]


def _gift_certificates(cart: Cart, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    used = cart_totals(ctx(info), cart).gift_certificates_used
    found = []
    for certificate in ctx(info).catalog.dataset.site.gift_certificates:
        if certificate.code in cart.redeemed:
            spent = used.get(certificate.code, ZERO)
            found.append({"code": certificate.code, "balance": money(certificate.balance, cart.currency),
                          "used": money(spent, cart.currency), "remaining": money(certificate.balance - spent, cart.currency),
                          "purchaseDate": when(certificate.purchased)})
    return found


CHECKOUT_FIELDS: dict[str, Any] = {
    "id": lambda cart, i: global_id("Checkout", cart.entity_id),
    "entityId": lambda cart, i: cart.entity_id,
    "currencyCode": lambda cart, i: cart.currency,
    "displayCurrencyCode": lambda cart, i: cart.currency,
    "cart": lambda cart, i: cart,
    "shippingConsignments": lambda cart, i: [_consignment(i, cart, x) for x in cart.consignments],
    "shippingCostTotal": total_field("shipping"),
    "handlingCostTotal": total_field("handling"),
    "taxTotal": total_field("tax"),
    "taxes": lambda cart, i: [{"name": "Sales Tax", "amount": money(cart_totals(ctx(i), cart).tax, cart.currency)}],
    "subtotal": total_field("base_amount"),
    "grandTotal": total_field("grand_total"),
    "outstandingBalance": total_field("outstanding"),
    "createdAt": lambda cart, i: when(cart.created_at),
    "updatedAt": lambda cart, i: when(cart.updated_at),
    "coupons": _coupons,
    "giftCertificates": _gift_certificates,
    "version": lambda cart, i: cart.version,
}


# -- mutations -----------------------------------------------------------------------------------------

def _checkout(info: GraphQLResolveInfo, input: dict[str, Any]) -> Cart:  # noqa: A002
    return cart_for_update(info, input["checkoutEntityId"], input.get("version"))


def add_consignments(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _checkout(info, input)
    ships_to = ctx(info).catalog.dataset.site.settings.ships_to
    added = []
    taken = {line for x in cart.consignments for line in x.line_ids}
    for entry in input["data"]["consignments"]:
        address = {name: entry["address"].get(name) for name in ADDRESS_FIELDS}
        known = country(address["countryCode"] or "")
        if known is None or known.code not in ships_to:
            raise GraphQLError(f"The store does not ship to {address['countryCode']!r}.")
        code = address.get("stateOrProvinceCode")
        if known.states and code and all(s.abbreviation != code for s in known.states):
            raise GraphQLError(f"{code!r} is not a state or province of {known.name}.")
        lines = []
        for line in entry["lineItems"]:
            item = next((i for i in cart.items if i.entity_id == line["lineItemEntityId"]), None)
            if item is None or line["quantity"] != item.quantity or item.entity_id in taken:
                raise GraphQLError(f"Line item {line['lineItemEntityId']} cannot be shipped in this consignment "
                                   "(unknown, already in one, or not its whole quantity).")
            lines.append(item.entity_id)
            taken.add(item.entity_id)
        added.append(Consignment(str(uuid.uuid4()), address, lines))
    cart.consignments.extend(added)
    cart.touch()
    return {"checkout": cart}


def select_shipping_option(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _checkout(info, input)
    consignment = next((x for x in cart.consignments if x.entity_id == input["consignmentEntityId"]), None)
    if consignment is None:
        raise GraphQLError(f"Consignment {input['consignmentEntityId']} not found.")
    wanted = input["data"]["shippingOptionEntityId"]
    if all(method.id != wanted for method, _ in shipping_options(ctx(info), cart, consignment)):
        raise GraphQLError(f"Shipping option {wanted!r} is not available for this consignment.")
    consignment.selected = wanted
    cart.touch()
    return {"checkout": cart}


def apply_coupon(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _checkout(info, input)
    code = input["data"]["couponCode"]
    coupon = coupon_of(ctx(info), code)
    totals = cart_totals(ctx(info), cart)
    problem = coupon_problem(coupon, code, totals.base_amount - totals.discounted_amount, cart.currency)
    if problem:
        raise GraphQLError(problem)
    assert coupon is not None
    if coupon.code in cart.coupons:
        raise GraphQLError(f"The coupon code {code!r} is already applied.")
    cart.coupons.append(coupon.code)
    cart.touch()
    return {"checkout": cart}


def unapply_coupon(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _checkout(info, input)
    code = input["data"]["couponCode"].strip().lower()
    if all(x.lower() != code for x in cart.coupons):
        raise GraphQLError(f"The coupon code {input['data']['couponCode']!r} is not applied to this checkout.")
    cart.coupons = [x for x in cart.coupons if x.lower() != code]
    cart.touch()
    return {"checkout": cart}


def apply_gift_certificate(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _checkout(info, input)
    code = input["data"]["giftCertificateCode"].strip()
    certificate = next((g for g in ctx(info).catalog.dataset.site.gift_certificates if g.code == code), None)
    if certificate is None:
        raise GraphQLError(f"The gift certificate {code!r} is not valid.")
    if certificate.balance <= 0:
        raise GraphQLError(f"The gift certificate {code!r} has no balance left.")
    if certificate.currency != cart.currency:
        raise GraphQLError(f"The gift certificate {code!r} is in {certificate.currency}, the checkout in {cart.currency}.")
    if code in cart.redeemed:
        raise GraphQLError(f"The gift certificate {code!r} is already applied.")
    cart.redeemed.append(code)
    cart.touch()
    return {"checkout": cart}


def unapply_gift_certificate(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _checkout(info, input)
    code = input["data"]["giftCertificateCode"].strip()
    if code not in cart.redeemed:
        raise GraphQLError(f"The gift certificate {code!r} is not applied to this checkout.")
    cart.redeemed.remove(code)
    cart.touch()
    return {"checkout": cart}


CHECKOUT_MUTATIONS: dict[str, Any] = {
    "addCheckoutShippingConsignments": add_consignments, "selectCheckoutShippingOption": select_shipping_option,
    "applyCheckoutCoupon": apply_coupon, "unapplyCheckoutCoupon": unapply_coupon,
    "applyCheckoutGiftCertificate": apply_gift_certificate, "unapplyCheckoutGiftCertificate": unapply_gift_certificate,
}
ROOT: dict[tuple[str, str], Any] = {
    ("Site", "checkout"): site_cart,  # a checkout is its cart: same id, same owner
    ("Mutation", "checkout"): lambda _, i: {},
}
