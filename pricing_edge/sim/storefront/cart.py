"""In-memory carts for the simulated storefront: the five cart mutations storefronts use, priced from
BigCommerce's copy for the buyer, refusing quantities over its available stock like BigCommerce
("Not enough stock: …")."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.domain.pricing import unit_price
from pricing_edge.sim.dataset import CURRENCIES, STORE_URL, Product, Variant
from pricing_edge.sim.storefront.catalog import Buyer
from pricing_edge.sim.storefront.ids import global_id
from pricing_edge.sim.storefront.resolvers import Context, ctx, money

CARTS_KEY = "carts"


@dataclass
class LineItem:
    entity_id: str
    product: Product
    variant: Variant
    quantity: int


@dataclass
class Cart:
    entity_id: str
    buyer: Buyer
    currency: str
    items: list[LineItem] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _carts(info: GraphQLResolveInfo) -> dict[str, Cart]:
    carts: dict[str, Cart] = ctx(info).state.setdefault(CARTS_KEY, {})
    return carts


def _resolve_line(c: Context, line: dict[str, Any]) -> tuple[Product, Variant]:
    product = c.catalog.product(line.get("productEntityId") or -1, c.buyer)
    if product is None:
        raise GraphQLError(f"Product {line.get('productEntityId')} not found.")
    variant_id = line.get("variantEntityId")
    variant = next((v for v in product.variants if v.id == variant_id), None) if variant_id else product.default_variant
    if variant is None:
        raise GraphQLError(f"Variant {variant_id} not found for product {product.id}.")
    if line["quantity"] < 1:
        raise GraphQLError("Quantity must be at least 1.")
    return product, variant


def _check_stock(c: Context, product: Product, variant: Variant, quantity: int) -> None:
    available = c.catalog.available(variant)
    backorder = any(level.backorder for level in c.catalog.stock(variant))
    if quantity > available and not backorder:
        raise GraphQLError(f"Not enough stock: {product.name} ({variant.sku}) is limited to {available} units.")


def _cart(info: GraphQLResolveInfo, entity_id: str) -> Cart:
    cart = _carts(info).get(entity_id)
    if cart is None or not _owned(info, cart):
        raise GraphQLError(f"Cart {entity_id} not found.")
    return cart


def _add(info: GraphQLResolveInfo, cart: Cart, lines: list[dict[str, Any]]) -> None:
    c = ctx(info)
    for line in lines:
        product, variant = _resolve_line(c, line)
        existing = next((i for i in cart.items if i.variant.id == variant.id), None)
        total = line["quantity"] + (existing.quantity if existing else 0)
        _check_stock(c, product, variant, total)
        if existing:
            existing.quantity = total
        else:
            cart.items.append(LineItem(str(uuid.uuid4()), product, variant, line["quantity"]))
    cart.updated_at = datetime.now(UTC)


def _owned(info: GraphQLResolveInfo, cart: Cart | None) -> bool:
    return cart is not None and cart.buyer.customer_id == ctx(info).buyer.customer_id


def site_cart(_: Any, info: GraphQLResolveInfo, entityId: str | None = None) -> Cart | None:  # noqa: N803
    """``site.cart``: the cart with that id if it is this buyer's; without an id, a customer's latest cart."""
    if entityId is not None:
        cart = _carts(info).get(entityId)
        return cart if _owned(info, cart) else None
    if ctx(info).buyer.customer_id is None:
        return None
    mine = [cart for cart in _carts(info).values() if _owned(info, cart)]
    return max(mine, key=lambda cart: cart.updated_at) if mine else None


def create_cart(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    currency = input.get("currencyCode") or "USD"
    if currency not in CURRENCIES:
        raise GraphQLError(f"Currency {currency} is not enabled for this channel.")
    cart = Cart(str(uuid.uuid4()), ctx(info).buyer, currency)
    _add(info, cart, input.get("lineItems") or [])
    _carts(info)[cart.entity_id] = cart
    return {"cart": cart}


def add_line_items(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _cart(info, input["cartEntityId"])
    _add(info, cart, input["data"].get("lineItems") or [])
    return {"cart": cart}


def update_line_item(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _cart(info, input["cartEntityId"])
    item = next((i for i in cart.items if i.entity_id == input["lineItemEntityId"]), None)
    if item is None:
        raise GraphQLError(f"Line item {input['lineItemEntityId']} not found.")
    line = input["data"].get("lineItem") or {}
    quantity = line.get("quantity", item.quantity)
    if quantity < 1:
        raise GraphQLError("Quantity must be at least 1.")
    _check_stock(ctx(info), item.product, item.variant, quantity)
    item.quantity = quantity
    cart.updated_at = datetime.now(UTC)
    return {"cart": cart}


def delete_line_item(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _cart(info, input["cartEntityId"])
    before = len(cart.items)
    cart.items = [i for i in cart.items if i.entity_id != input["lineItemEntityId"]]
    if len(cart.items) == before:
        raise GraphQLError(f"Line item {input['lineItemEntityId']} not found.")
    if not cart.items:  # BigCommerce deletes a cart whose last line item is deleted
        del _carts(info)[cart.entity_id]
        return {"deletedLineItemEntityId": input["lineItemEntityId"], "cart": None,
                "deletedCartEntityId": cart.entity_id}
    return {"deletedLineItemEntityId": input["lineItemEntityId"], "cart": cart, "deletedCartEntityId": None}


def delete_cart(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = _cart(info, input["cartEntityId"])
    del _carts(info)[cart.entity_id]
    return {"deletedCartEntityId": cart.entity_id}


def _unit(info: GraphQLResolveInfo, cart: Cart, item: LineItem) -> tuple[Decimal, Decimal]:
    c = ctx(info)
    view = c.catalog.variant_prices(item.product, item.variant, cart.buyer, cart.currency, False)
    record = c.catalog.dataset.bc_prices.get(c.catalog.dataset.price_list_for_group(cart.buyer.group_id),
                                              item.variant.sku, cart.currency)
    sale = unit_price(record, item.quantity, view.bulk_tiers) if record else view.price
    return view.base_price, sale


def _line(info: GraphQLResolveInfo, cart: Cart, item: LineItem) -> dict[str, Any]:
    base, sale = _unit(info, cart, item)
    cur = cart.currency
    return {"entityId": item.entity_id, "parentEntityId": None, "productEntityId": item.product.id,
            "variantEntityId": item.variant.id, "sku": item.variant.sku, "name": item.product.name,
            "url": STORE_URL + item.product.path, "imageUrl": None, "brand": None, "quantity": item.quantity,
            "isTaxable": True, "listPrice": money(base, cur), "originalPrice": money(base, cur),
            "salePrice": money(sale, cur), "extendedListPrice": money(base * item.quantity, cur),
            "extendedSalePrice": money(sale * item.quantity, cur), "discountedAmount": money(Decimal(0), cur),
            "couponAmount": money(Decimal(0), cur), "isShippingRequired": True}


CART_FIELDS: dict[str, Any] = {
    "id": lambda cart, i: global_id("Cart", cart.entity_id),
    "entityId": lambda cart, i: cart.entity_id,
    "currencyCode": lambda cart, i: cart.currency,
    "isTaxIncluded": lambda cart, i: False,
    "lineItems": lambda cart, i: {"physicalItems": [_line(i, cart, item) for item in cart.items],
                                  "totalQuantity": sum(item.quantity for item in cart.items)},
    "amount": lambda cart, i: money(sum((_unit(i, cart, x)[1] * x.quantity for x in cart.items), Decimal(0)),
                                    cart.currency),
    "baseAmount": lambda cart, i: money(sum((_unit(i, cart, x)[0] * x.quantity for x in cart.items), Decimal(0)),
                                        cart.currency),
    "createdAt": lambda cart, i: {"utc": cart.created_at.isoformat().replace("+00:00", "Z")},
    "updatedAt": lambda cart, i: {"utc": cart.updated_at.isoformat().replace("+00:00", "Z")},
}
MUTATIONS: dict[str, Any] = {
    "createCart": create_cart, "addCartLineItems": add_line_items, "updateCartLineItem": update_line_item,
    "deleteCartLineItem": delete_line_item, "deleteCart": delete_cart,
}
