"""The server-to-server Carts API (v3) of the simulator, over the same carts the storefront's GraphQL makes:
``GET /v3/carts/{cartId}`` and ``PUT /v3/carts/{cartId}/items/{itemId}`` (``carts.v3.yml``).

Only what BigCommerce documents for the PUT: a line's ``quantity`` and its ``list_price`` ("Optional price
override"), with ``product_id`` required and ``variant_id`` naming the line's variant (changing the variant
is not supported: remove and re-add); optional ``version`` for optimistic concurrency (409 when stale).
An overridden line is priced at ``list_price`` whatever the price list says, and the storefront's cart and
checkout totals follow it (``cart_pricing.line_prices``). By default BigCommerce makes an overridden line
ineligible for product-level promotions; the simulator has no product-level promotions, so that changes
nothing here (coupons are order-level and still apply).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain.money import quantize
from pricing_edge.sim.admin.http import V3, AdminError, guarded, json_body, json_response, parse_money, require_int
from pricing_edge.sim.admin.state import AdminState
from pricing_edge.sim.dataset import STORE_URL
from pricing_edge.sim.storefront.cart import CARTS_KEY, Cart, LineItem, check_stock
from pricing_edge.sim.storefront.cart_pricing import cart_totals, line_prices
from pricing_edge.sim.storefront.catalog import StorefrontCatalog
from pricing_edge.sim.storefront.context import Context

_LINE_FIELDS = frozenset({"quantity", "product_id", "variant_id", "list_price", "name", "gift_wrapping",
                          "option_selections"})


def cart_routes(state: AdminState, shared_state: dict[str, Any], catalog: StorefrontCatalog) -> list[Route]:
    v3 = guarded(V3, state.store_hash, state.admin_token)

    def context_for(cart: Cart) -> Context:
        return Context(catalog, cart.buyer, shared_state)

    def cart_of(request: Request) -> Cart:
        cart: Cart | None = shared_state.get(CARTS_KEY, {}).get(request.path_params["cart_id"])
        if cart is None:
            raise AdminError(404, "Cart not found.")
        return cart

    @v3
    async def get_cart(request: Request) -> Response:
        cart = cart_of(request)
        return json_response({"data": cart_view(context_for(cart), cart), "meta": {}})

    @v3
    async def update_item(request: Request) -> Response:
        cart = cart_of(request)
        item = next((i for i in cart.items if i.entity_id == request.path_params["item_id"]), None)
        if item is None:
            raise AdminError(404, "Line item not found.")
        body = await json_body(request, status=422)
        line = body.get("line_item")
        if not isinstance(line, dict):
            raise AdminError(422, "The field 'line_item' is required.", field="line_item")
        unknown = sorted(set(line) - _LINE_FIELDS)
        if unknown:
            raise AdminError(422, f"The field 'line_item.{unknown[0]}' is not supported.", field=f"line_item.{unknown[0]}")
        if "version" in body and require_int(body["version"], "version") != cart.version:
            raise AdminError(409, f"The cart is at version {cart.version}, not {body['version']}.")
        quantity = require_int(line.get("quantity"), "line_item.quantity", minimum=1)
        if require_int(line.get("product_id"), "line_item.product_id") != item.product.id:
            raise AdminError(422, f"Line item {item.entity_id} is not of product {line.get('product_id')}.",
                             field="line_item.product_id")
        if line.get("variant_id") is not None and require_int(line["variant_id"], "line_item.variant_id") != item.variant.id:
            raise AdminError(422, "The variant of a line item cannot be changed: remove the line and add it again.",
                             field="line_item.variant_id")
        price = None if line.get("list_price") is None else parse_money(line["list_price"], "line_item.list_price")
        context = context_for(cart)
        if quantity > item.quantity:
            try:
                check_stock(context, item.product, item.variant, quantity)
            except Exception as exc:  # the storefront's GraphQLError: same wording, as a 422 here
                raise AdminError(422, str(exc), field="line_item.quantity") from None
        item.quantity = quantity
        if price is not None:
            item.price = quantize(price)
        cart.touch()
        return json_response({"data": cart_view(context, cart), "meta": {}})

    root = "/stores/{store_hash}/v3/carts/{cart_id}"
    return [Route(root, get_cart, methods=["GET"]), Route(root + "/items/{item_id}", update_item, methods=["PUT"])]


def _item_view(context: Context, cart: Cart, item: LineItem) -> dict[str, Any]:
    prices = line_prices(context, cart, item)
    extended_list = quantize(prices.list * item.quantity)
    extended_sale = quantize(prices.sale * item.quantity)
    return {
        "id": item.entity_id, "variant_id": item.variant.id, "product_id": item.product.id, "sku": item.variant.sku,
        "name": item.product.name, "url": STORE_URL + item.product.path, "quantity": item.quantity, "taxable": True,
        "discounts": [], "coupons": [], "discount_amount": extended_list - extended_sale, "coupon_amount": Decimal(0),
        "original_price": prices.original, "list_price": prices.list, "sale_price": prices.sale,
        "extended_list_price": extended_list, "extended_sale_price": extended_sale,
        "is_require_shipping": True, "is_mutable": True, "added_by_promotion": False,
    }


def cart_view(context: Context, cart: Cart) -> dict[str, Any]:
    """``Cart_Full`` as ``GET /v3/carts/{id}`` answers it (money as JSON numbers, Decimal-exact)."""
    totals = cart_totals(context, cart)
    return {
        "id": cart.entity_id, "customer_id": cart.buyer.customer_id or 0, "channel_id": 1, "email": "",
        "currency": {"code": cart.currency}, "tax_included": False, "base_amount": totals.base_amount,
        "discount_amount": totals.discounted_amount, "cart_amount": totals.amount, "coupons": [], "discounts": [],
        "line_items": {"physical_items": [_item_view(context, cart, i) for i in cart.items], "digital_items": [],
                       "gift_certificates": [], "custom_items": []},
        "created_time": cart.created_at.isoformat(), "updated_time": cart.updated_at.isoformat(),
        "locale": cart.locale, "version": cart.version,
    }
