"""The simulator's schema: the SDL file, built by graphql-core, with the resolvers bound to it.

Every binding names an existing (type, field) — a typo fails at start, not at a query. Abstract types
resolve from a dict's ``__typename`` or from the Python type of the value."""
from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, GraphQLUnionType, build_schema

from pricing_edge.sim.dataset import Brand, Category
from pricing_edge.sim.site_content import BlogPost, WebPage
from pricing_edge.sim.storefront import (
    cart,
    cart_fields,
    checkout,
    content,
    customers,
    options,
    orders,
    products,
    search,
    settings,
    site,
)
from pricing_edge.sim.storefront.context import IMAGE_FIELDS

SDL_PATH = resources.files("pricing_edge.sim.storefront") / "schema.graphql"  # package data


def type_name(value: Any, *_: Any) -> str | None:
    """The concrete GraphQL type of a value returned where an interface or union is expected."""
    if isinstance(value, dict):
        found = value.get("__typename")
        return str(found) if found else None
    if isinstance(value, products.ProductRef):
        return "Product"
    if isinstance(value, tuple):
        return "Variant"
    if isinstance(value, cart.Cart):
        return "Cart"
    if isinstance(value, orders.CheckoutNode):
        return "Checkout"
    if isinstance(value, orders.Order):
        return "Order"
    if isinstance(value, WebPage):
        return content.page_type(value)
    if isinstance(value, BlogPost):
        return "BlogPost"
    if isinstance(value, (Category, Brand)):
        return type(value).__name__
    return None


@cache
def sdl() -> str:
    return SDL_PATH.read_text()


def _bindings(schema: GraphQLSchema) -> dict[tuple[str, str], Any]:
    bindings: dict[tuple[str, str], Any] = {
        **site.SITE_FIELDS, **search.SEARCH, **content.CONTENT, **settings.SETTINGS, **customers.CUSTOMERS,
        **options.OPTIONS, **products.OTHER, **checkout.ROOT,
    }
    bindings.update({("Product", f): r for f, r in products.PRODUCT.items()})
    bindings.update({("Variant", f): r for f, r in products.VARIANT.items()})
    bindings.update({("Image", f): r for f, r in IMAGE_FIELDS.items()})
    bindings.update({("Cart", f): r for f, r in cart_fields.CART_FIELDS.items()})
    bindings.update({("CartMutations", f): r for f, r in cart.MUTATIONS.items()})
    bindings.update({("Checkout", f): orders.unwrapped(r) for f, r in checkout.CHECKOUT_FIELDS.items()})
    bindings.update({("Order", f): r for f, r in orders.ORDER_FIELDS.items()})
    bindings.update({("CheckoutMutations", f): r for f, r in checkout.CHECKOUT_MUTATIONS.items()})
    bindings[("Mutation", "cart")] = lambda _, i: {}
    bindings[("Site", "cart")] = cart.site_cart
    for page_type in content.PAGE_TYPES.values():  # each page type has its own subset of the WebPage fields
        gtype = schema.get_type(page_type)
        assert isinstance(gtype, GraphQLObjectType), page_type
        bindings.update({(page_type, f): r for f, r in content.PAGE_FIELDS.items() if f in gtype.fields})
    return bindings


@cache
def build() -> GraphQLSchema:
    """Built once per process and shared by every simulator in it (a tenth of a second each): the schema and
    its resolvers are fixed, a simulator's state lives in its request context, and nothing changes the schema."""
    schema = build_schema(sdl())
    for (name, field_name), resolver in _bindings(schema).items():
        gtype = schema.get_type(name)
        assert isinstance(gtype, GraphQLObjectType), name
        gtype.fields[field_name].resolve = resolver
    for gtype in schema.type_map.values():
        if isinstance(gtype, (GraphQLInterfaceType, GraphQLUnionType)):
            gtype.resolve_type = type_name
    return schema
