"""The sharing decision's static half: a document is shareable only when every concrete type it selects is
on the catalog allow-list (abstract positions are judged on the answer, tests/e2e/test_sharing.py)."""
from __future__ import annotations

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, build_schema

from pricing_edge.edge.document import DocumentCache
from pricing_edge.edge.schema import with_extension
from pricing_edge.edge.sharing import CATALOG_TYPES, always_catalog
from pricing_edge.sim.storefront.schema import sdl
from tests.support.specs import require_client, require_spec

PERSONAL = ("Customer", "Cart", "Checkout", "Order", "OrderWithPayments", "Wishlist", "GiftCertificate",
            "PublicWishlist", "ShopperPreferences", "CartMutations", "B2BCredit")


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return with_extension(build_schema(sdl()))


def shareable(schema: GraphQLSchema, text: str) -> bool:
    return DocumentCache(schema).prepare(text).shareable


def test_every_allowed_type_is_a_real_object_type_and_no_personal_one_is_allowed() -> None:
    with open(require_spec("bigcommerce/graphql/storefront.graphql"), encoding="utf-8") as handle:
        real = build_schema(handle.read())
    not_objects = sorted(name for name in CATALOG_TYPES if not isinstance(real.get_type(name), GraphQLObjectType))
    assert not_objects == []  # a typo would silently allow nothing; an interface here would mean nothing
    assert not set(PERSONAL) & CATALOG_TYPES


@pytest.mark.parametrize("text", [
    "{ site { product(entityId: 1) { name prices { price { value } } variants { edges { node { sku } } } } } }",
    "{ site { route(path: \"/a\") { node { id ... on Product { entityId } ... on Category { name } } } } }",
    "{ node(id: \"x\") { id } }",  # judged on the answer: what the node turns out to be
    "{ site { settings { storeName currency { defaultCurrency } } } }",
    "{ __schema { queryType { name } } }",
])
def test_catalog_documents_are_shareable(schema: GraphQLSchema, text: str) -> None:
    assert shareable(schema, text)


@pytest.mark.parametrize("text", [
    "{ customer { email } }",
    "{ site { cart { entityId } } }",
    "{ site { checkout(entityId: \"c\") { entityId } } }",
    "{ node(id: \"x\") { ... on Cart { entityId } } }",  # a fragment on a personal type: personal already
    "{ node(id: \"x\") { ... on Order { billingAddress { email } } } }",
    "{ customer { b2bCredit { status } } }",  # our extension lives under Customer
])
def test_documents_reaching_a_type_off_the_list_are_personal(schema: GraphQLSchema, text: str) -> None:
    assert not shareable(schema, text)


def test_a_null_node_may_be_someone_elses_cart_but_a_null_availability_is_catalog(schema: GraphQLSchema) -> None:
    node, availability = schema.get_type("Node"), schema.get_type("ProductAvailability")
    assert not always_catalog(schema, node)  # type: ignore[arg-type]
    assert always_catalog(schema, availability)  # type: ignore[arg-type]


def test_catalysts_catalog_documents_stay_shareable(schema: GraphQLSchema) -> None:
    folder = require_client("catalyst-1.3.1")
    personal = {p.stem for p in folder.glob("*.graphql") if not shareable(schema, p.read_text())}
    # the cart count, the cart page and its validation, and the wishlist button (the customer's wishlists)
    assert personal == {"06-header-cart-count", "24-cart-page", "26-validate-cart", "23-pdp-wishlist-button"}
