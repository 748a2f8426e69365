"""``Cart`` as the Storefront API answers it: amounts, discounts, lines of each kind with their prices
and selected options. The display currency is the cart's currency (no separate display currency)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from pricing_edge.domain.money import quantize
from pricing_edge.sim.catalog_content import OptionKind
from pricing_edge.sim.dataset import STORE_URL
from pricing_edge.sim.storefront.cart import Cart, Choice, LineItem
from pricing_edge.sim.storefront.cart_pricing import cart_totals, line_prices, total_field
from pricing_edge.sim.storefront.context import ctx, money, when
from pricing_edge.sim.storefront.ids import global_id
from pricing_edge.sim.storefront.products import default_image, variant_values
from pricing_edge.sim.storefront.totals import ZERO

_SELECTED_TYPES = {OptionKind.MULTIPLE_CHOICE: "CartSelectedMultipleChoiceOption",
                   OptionKind.CHECKBOX: "CartSelectedCheckboxOption", OptionKind.NUMBER: "CartSelectedNumberFieldOption",
                   OptionKind.TEXT: "CartSelectedTextFieldOption",
                   OptionKind.MULTI_LINE_TEXT: "CartSelectedMultiLineTextFieldOption",
                   OptionKind.DATE: "CartSelectedDateFieldOption", OptionKind.FILE: "CartSelectedFileUploadOption"}


def _selected(choice: Choice) -> dict[str, Any]:
    option = choice.option
    found: dict[str, Any] = {"__typename": _SELECTED_TYPES[option.kind], "entityId": option.id, "name": option.name}
    if choice.value_id is not None:
        value = option.value(choice.value_id)
        found |= {"value": value.label if value else "", "valueEntityId": choice.value_id}
    if choice.number is not None:
        found["number"] = float(choice.number)
    if choice.text is not None:
        found["text"] = choice.text
    if choice.date is not None:
        found["date"] = when(choice.date)
    return found


def _selected_options(info: GraphQLResolveInfo, item: LineItem) -> list[dict[str, Any]]:
    """The variant's option values first (as multiple choices), then the modifiers chosen on the line."""
    options = ctx(info).catalog.options(item.product)
    chosen = variant_values(options, item.variant)
    variant_choices = [Choice(o, value_id=chosen[o.id]) for o in options if o.id in chosen]
    return [_selected(ch) for ch in (*variant_choices, *item.choices)]


def _line(info: GraphQLResolveInfo, cart: Cart, item: LineItem, coupon: Decimal) -> dict[str, Any]:
    c, cur = ctx(info), cart.currency
    prices = line_prices(c, cart, item)
    extended_list = quantize(prices.list * item.quantity)
    extended_sale = quantize(prices.sale * item.quantity)
    discount = extended_list - extended_sale
    brand = next((b.name for b in c.catalog.dataset.brands if b.id == item.product.brand_id), None)
    picture = default_image(item.product)
    return {
        "entityId": item.entity_id, "parentEntityId": None, "productEntityId": item.product.id,
        "variantEntityId": item.variant.id, "sku": item.variant.sku, "name": item.product.name,
        "url": STORE_URL + item.product.path, "path": item.product.path, "imageUrl": None, "image": picture,
        "brand": brand, "quantity": item.quantity, "isTaxable": True, "isMutable": True, "isShippingRequired": True,
        "discounts": [{"entityId": "bulk-pricing", "discountedAmount": money(discount, cur),
                       "discountedAmountInDisplayCurrency": money(discount, cur)}] if discount else [],
        "discountedAmount": money(discount, cur), "couponAmount": money(coupon, cur),
        "listPrice": money(prices.list, cur), "originalPrice": money(prices.original, cur),
        "salePrice": money(prices.sale, cur), "retailPrice": money(prices.retail, cur),
        "extendedListPrice": money(extended_list, cur), "extendedSalePrice": money(extended_sale, cur),
        "selectedOptions": _selected_options(info, item),
    }


def line_items(cart: Cart, info: GraphQLResolveInfo) -> dict[str, Any]:
    coupons = cart_totals(ctx(info), cart).line_coupons
    cur = cart.currency
    gifts = [{"entityId": g.entity_id, "name": g.name, "theme": g.theme, "amount": money(g.amount, cur),
              "amountInDisplayCurrency": money(g.amount, cur), "isTaxable": False, "sender": g.sender,
              "recipient": g.recipient, "message": g.message} for g in cart.gift_certificates]
    return {"physicalItems": [_line(info, cart, i, coupons.get(i.entity_id, ZERO)) for i in cart.items],
            "digitalItems": [], "giftCertificates": gifts, "customItems": [],
            "totalQuantity": sum(i.quantity for i in cart.items) + sum(g.quantity for g in cart.gift_certificates)}


def _discounts(cart: Cart, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    found = cart_totals(ctx(info), cart)
    entries = [("bulk-pricing", found.discounted_amount)] if found.discounted_amount else []
    entries += [(f"coupon-{code}", amount) for code, amount in found.coupon_amounts.items() if amount]
    return [{"entityId": key, "discountedAmount": money(amount, cart.currency),
             "discountedAmountInDisplayCurrency": money(amount, cart.currency)} for key, amount in entries]


CART_FIELDS: dict[str, Any] = {
    "id": lambda cart, i: global_id("Cart", cart.entity_id),
    "entityId": lambda cart, i: cart.entity_id,
    "currencyCode": lambda cart, i: cart.currency,
    "displayCurrencyCode": lambda cart, i: cart.currency,
    "isTaxIncluded": lambda cart, i: False,
    "baseAmount": total_field("base_amount"), "baseAmountInDisplayCurrency": total_field("base_amount"),
    "discountedAmount": total_field("discounted_amount"), "discountedAmountInDisplayCurrency": total_field("discounted_amount"),
    "amount": total_field("amount"), "amountInDisplayCurrency": total_field("amount"),
    "discounts": _discounts,
    "lineItems": line_items,
    "createdAt": lambda cart, i: when(cart.created_at),
    "updatedAt": lambda cart, i: when(cart.updated_at),
    "locale": lambda cart, i: cart.locale,
    "version": lambda cart, i: cart.version,
}
