"""The simulator's schema: the SDL file, built by graphql-core, with the resolvers bound to it."""
from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema

from pricing_edge.sim.dataset import Product
from pricing_edge.sim.storefront import cart, resolvers, site

SDL_PATH = resources.files("pricing_edge.sim.storefront") / "schema.graphql"  # package data


def _node_type(value: Any, *_: Any) -> str | None:
    if isinstance(value, Product):
        return "Product"
    if isinstance(value, tuple):
        return "Variant"
    if isinstance(value, cart.Cart):
        return "Cart"
    return type(value).__name__ if type(value).__name__ in ("Category", "Brand") else None


@cache
def sdl() -> str:
    return SDL_PATH.read_text()


def build() -> GraphQLSchema:
    schema = build_schema(sdl())
    bindings: dict[tuple[str, str], Any] = {**site.ROOT, **resolvers.OTHER}
    bindings.update({("Product", f): r for f, r in resolvers.PRODUCT.items()})
    bindings.update({("Variant", f): r for f, r in resolvers.VARIANT.items()})
    bindings.update({("Cart", f): r for f, r in cart.CART_FIELDS.items()})
    bindings.update({("CartMutations", f): r for f, r in cart.MUTATIONS.items()})
    bindings[("Mutation", "cart")] = lambda _, i: site.SITE
    bindings[("Site", "cart")] = cart.site_cart
    for (type_name, field_name), resolver in bindings.items():
        gtype = schema.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType), type_name
        gtype.fields[field_name].resolve = resolver
    schema.get_type("Node").resolve_type = _node_type  # type: ignore[union-attr]
    return schema
