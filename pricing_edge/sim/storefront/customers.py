"""The shopper: ``customer`` (with wishlists), ``login`` (email and password → Catalyst's customer access
token, a guest cart assigned) and ``logout`` (the token revoked, a cart unassigned)."""
from __future__ import annotations

import hmac
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.site_content import Wishlist
from pricing_edge.sim.storefront.cart import carts, owned
from pricing_edge.sim.storefront.catalog import GUEST, Buyer
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx
from pricing_edge.sim.storefront.products import ProductRef

INVALID_LOGIN = "Invalid credentials: check the email address and the password."


def customer(_: Any, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    c = ctx(info)
    found = c.catalog.dataset.customer(c.buyer.customer_id) if c.buyer.customer_id is not None else None
    if found is None:
        return None
    company = c.catalog.dataset.company(found.company_id) if found.company_id else None
    group = c.catalog.dataset.group(found.customer_group_id)
    return {"entityId": found.id, "firstName": found.first_name, "lastName": found.last_name, "email": found.email,
            "phone": found.phone, "company": company.name if company else "", "customerGroupId": found.customer_group_id,
            "customerGroupName": group.name if group else None}


def wishlists(source: dict[str, Any], info: GraphQLResolveInfo, filters: dict[str, Any] | None = None,
              **args: Any) -> dict[str, Any]:
    found = [w for w in ctx(info).catalog.dataset.site.wishlists if w.customer_id == source["entityId"]]
    filters = filters or {}
    if filters.get("entityIds") is not None:
        found = [w for w in found if w.id in filters["entityIds"]]
    if filters.get("productEntityIds"):
        found = [w for w in found if any(pid in filters["productEntityIds"] for _, pid, _ in w.items)]
    if filters.get("variantEntityIds"):
        found = [w for w in found if any(vid in filters["variantEntityIds"] for _, _, vid in w.items)]
    return connection(found, args)


def wishlist_items(wishlist: Wishlist, info: GraphQLResolveInfo, hideOutOfStock: bool | None = None,  # noqa: N803
                   filters: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
    c = ctx(info)
    items = [{"entityId": item_id, "productEntityId": pid, "variantEntityId": vid}
             for item_id, pid, vid in wishlist.items]
    filters = filters or {}
    if filters.get("productEntityIds"):
        items = [i for i in items if i["productEntityId"] in filters["productEntityIds"]]
    if filters.get("variantEntityIds"):
        items = [i for i in items if i["variantEntityId"] in filters["variantEntityIds"]]
    if hideOutOfStock:
        products = c.catalog.dataset.product_by_id
        items = [i for i in items if i["productEntityId"] in products and c.catalog.in_stock(products[i["productEntityId"]])]
    return connection(items, args)


def _item_product(item: dict[str, Any], info: GraphQLResolveInfo) -> ProductRef | None:
    c = ctx(info)
    product = c.catalog.product(item["productEntityId"], c.buyer)
    return ProductRef(product) if product else None


def login(_: Any, info: GraphQLResolveInfo, email: str, password: str,
          guestCartEntityId: str | None = None) -> dict[str, Any]:  # noqa: N803
    c = ctx(info)
    found = c.catalog.dataset.customer_by_email(email)
    expected = c.catalog.dataset.site.passwords.get(found.id, "") if found else ""
    # Compare even for an unknown email, and answer the same: no way to learn which emails have accounts.
    matches = hmac.compare_digest(password.encode(), (expected or "\x00unknown").encode())
    if found is None or not matches:
        raise GraphQLError(INVALID_LOGIN)
    buyer = Buyer(found.id, found.customer_group_id)
    cart = None
    if guestCartEntityId is not None:
        guest_cart = carts(info).get(guestCartEntityId)
        if guest_cart is None or guest_cart.buyer.customer_id is not None:
            raise GraphQLError(f"Cart {guestCartEntityId} not found.")
        guest_cart.buyer = buyer  # the cart is now the customer's, priced for its group
        guest_cart.touch()
        cart = guest_cart
    else:
        mine = [x for x in carts(info).values() if x.buyer.customer_id == found.id]
        cart = max(mine, key=lambda x: x.updated_at) if mine else None
    token, expires = c.auth.issue(found.id)
    c.buyer = buyer  # the rest of this answer (customer, cart) is the customer's
    return {"result": "success", "cart": cart,
            "customerAccessToken": {"value": token, "expiresAt": expires} if c.server_to_server else None}


def logout(_: Any, info: GraphQLResolveInfo, cartEntityId: str | None = None) -> dict[str, Any]:  # noqa: N803
    c = ctx(info)
    errors: list[dict[str, Any]] = []
    unassigned = None
    if cartEntityId is not None:
        cart = carts(info).get(cartEntityId)
        if cart is None or not owned(info, cart) or c.buyer.customer_id is None:
            errors.append({"__typename": "CartUnassignInaccessibleError",
                           "message": f"Cart {cartEntityId} is not this customer's cart."})
        else:
            cart.buyer = GUEST
            cart.touch()
            unassigned = cart
    if c.access_token:
        c.auth.revoke(c.access_token)
    c.buyer = GUEST
    return {"result": "success", "cartUnassignResult": {"cart": unassigned, "errors": errors}}


CUSTOMERS: dict[tuple[str, str], Any] = {
    ("Query", "customer"): customer,
    ("Customer", "wishlists"): wishlists,
    ("Wishlist", "entityId"): lambda w, i: w.id,
    ("Wishlist", "isPublic"): lambda w, i: w.is_public,
    ("Wishlist", "items"): wishlist_items,
    ("WishlistItem", "product"): _item_product,
    ("Mutation", "login"): login,
    ("Mutation", "logout"): logout,
    ("LoginResult", "customer"): lambda r, i: customer(None, i),
}
