"""``Order`` and ``Checkout`` as ``node(id:)`` answers: a buyer's own orders (the REST Admin's order book,
placed by or for that customer) and checkouts (a checkout is its cart). BigCommerce's order ids are
sequential — guessable — so an order is answered only to the customer who placed it; to anyone else
it does not exist (``null``), as a cart that is not yours does not."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLResolveInfo

from pricing_edge.sim.admin.orders import Order
from pricing_edge.sim.storefront.cart import Cart
from pricing_edge.sim.storefront.context import ctx, when
from pricing_edge.sim.storefront.ids import global_id

ORDER_BOOK = "order_book"  # the Context.state key the app puts the REST Admin's order book under


@dataclass(frozen=True)
class CheckoutNode:
    """A cart answered as ``node(id: "Checkout:…")``: resolved as a ``Checkout``, fields from its cart."""

    cart: Cart


def order_node(entity_id: int, info: GraphQLResolveInfo) -> Order | None:
    c = ctx(info)
    book = c.state.get(ORDER_BOOK)
    order = book.orders.get(entity_id) if book is not None else None
    if order is None or c.buyer.customer_id is None or order.customer_id != c.buyer.customer_id:
        return None
    return order


def _billing(order: Order, info: GraphQLResolveInfo) -> dict[str, Any]:
    address = order.billing_address
    return {"firstName": address.get("first_name") or None, "lastName": address.get("last_name") or None,
            "email": address.get("email") or None, "country": address.get("country", ""),
            "countryCode": address.get("country_iso2", ""), "postalCode": address.get("zip", "")}


ORDER_FIELDS: dict[str, Any] = {
    "id": lambda o, i: global_id("Order", o.id),
    "entityId": lambda o, i: o.id,
    "orderedAt": lambda o, i: when(o.created),
    "billingAddress": _billing,
}


def unwrapped(resolver: Any) -> Any:
    """A Checkout field resolver that also takes a ``CheckoutNode`` (its cart is the source)."""
    return lambda source, info, **args: resolver(source.cart if isinstance(source, CheckoutNode) else source,
                                                 info, **args)
