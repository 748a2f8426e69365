"""Cart lines at the price the buyer was shown: after BigCommerce accepts a cart mutation, every physical line
whose list price is not this buyer's ERP price for its quantity (volume break) and the cart's currency is
overridden through BigCommerce's server-to-server cart API (``PUT /v3/carts/{id}/items/{item}`` with
``list_price``), then the cart the storefront asked for is read again so its answer shows the new prices.

Why after, and every line: a line only exists once BigCommerce made it, and a quantity change can cross a
volume break on a line this mutation did not name (lines of the same SKU). What the edge needs from the
mutation's answer (ids, SKU, quantity, product and variant, list price, currency) it adds to the forwarded
selection (``edge/document.py``). A REST 429 is waited out within the admin client's budget; beyond it the
mutation answers a clear error instead of a cart at the wrong price (the line stays; the next cart mutation
prices it). A SKU whose ERP price was never read and cannot be now (ERP down) keeps BigCommerce's price —
the one a product page shows in that state too (DESIGN.md, "missing").
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode, SelectionSetNode, VariableNode,
    Visitor, print_ast, visit,
)

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceError
from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamError
from pricing_edge.domain.pricing import unit_price
from pricing_edge.edge.records import ErpDeadline, RecordService

log = logging.getLogger(__name__)
PRICED_MUTATIONS = frozenset({"createCart", "addCartLineItems", "updateCartLineItem", "updateCartCurrency"})
CART_ID_VARIABLE = "_peCartId"


class CartPriceError(Exception):
    """The cart's lines could not be set to the buyer's prices; the message says so for the storefront."""


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


class CartPrices:
    def __init__(self, admin: BigCommerceAdmin, records: RecordService, upstream: StorefrontClient) -> None:
        self.admin = admin
        self.records = records
        self.upstream = upstream

    async def apply(self, cart: Mapping[str, Any], price_list_id: int, deadline: ErpDeadline | None = None) -> int:
        """Override every line of ``cart`` (the identity selection's answer) not at the buyer's price; how many.
        ``deadline``: the request's one ERP budget (``records.ErpDeadline``)."""
        cart_id, currency = cart.get("entityId"), cart.get("currencyCode")
        items = ((cart.get("lineItems") or {}).get("physicalItems") or []) if isinstance(cart.get("lineItems"), Mapping) else []
        if not isinstance(cart_id, str) or not isinstance(currency, str) or not items:
            return 0
        skus = sorted({item["sku"] for item in items if isinstance(item.get("sku"), str)})
        found = (await self.records.price_lookup(price_list_id, currency, skus, deadline)).found
        records = {key[2]: record for key, record in found.items()}
        changed = 0
        for item in items:
            sku, quantity = item.get("sku"), item.get("quantity")
            if not isinstance(sku, str) or not isinstance(quantity, int) or quantity < 1:
                continue
            record = records.get(sku)
            if record is None:  # never read and the ERP cannot say: the page showed BigCommerce's own price too
                continue
            wanted = unit_price(record, quantity)
            if _decimal((item.get("listPrice") or {}).get("value")) == wanted:
                continue
            line: dict[str, Any] = {"quantity": quantity, "product_id": item.get("productEntityId"), "list_price": wanted}
            if item.get("variantEntityId") is not None:
                line["variant_id"] = item["variantEntityId"]
            try:
                await self.admin.update_cart_item(cart_id, str(item.get("entityId")), line)
            except BigCommerceError as exc:
                log.warning("could not set %s's price in cart %s: %s", sku, cart_id, exc)
                raise CartPriceError(f"Your price for {sku} could not be set on the cart right now (BigCommerce: "
                                     f"{exc}). Please try again shortly.") from exc
            changed += 1
        return changed

    async def reread(self, cart_id: str, nodes: list[FieldNode], operation: OperationDefinitionNode,
                     fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any] | None,
                     headers: Mapping[str, str]) -> Any:
        """The cart again, as the mutation's ``cart`` field ``nodes`` select it (same fragments and variables)."""
        text, sent = reread_document(nodes, operation, fragments, variables)
        try:
            answer = await self.upstream.execute(text, {**sent, CART_ID_VARIABLE: cart_id}, None, headers)
        except UpstreamError as exc:
            raise CartPriceError(f"The repriced cart could not be read back: {exc}") from exc
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict) or body.get("errors"):
            raise CartPriceError(f"The repriced cart could not be read back (status {answer.status}).")
        return (body["data"].get("site") or {}).get("cart")


class _Uses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.fragments: set[str] = set()
        self.variables: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.fragments.add(node.name.value)

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.variables.add(node.name.value)


def reread_document(nodes: list[FieldNode], operation: OperationDefinitionNode,
                    fragments: Mapping[str, FragmentDefinitionNode],
                    variables: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``query($_peCartId: String!, <variables used>) { site { cart(entityId: $_peCartId) { <selection> } } }``
    with exactly the fragments and variables the selection uses (GraphQL refuses unused ones)."""
    selection = SelectionSetNode(selections=tuple(s for n in nodes if n.selection_set for s in n.selection_set.selections))
    uses = _Uses()
    visit(selection, uses)
    seen: list[str] = []
    todo = sorted(uses.fragments)
    while todo:
        name = todo.pop()
        if name in seen or name not in fragments:
            continue
        seen.append(name)
        inner = _Uses()
        visit(fragments[name], inner)
        uses.variables |= inner.variables
        todo += sorted(inner.fragments - set(seen))
    definitions = [d for d in operation.variable_definitions or () if d.variable.name.value in uses.variables]
    declared = "".join(f", {print_ast(d)}" for d in definitions)
    text = (f"query PricingEdgeRepricedCart(${CART_ID_VARIABLE}: String!{declared}) "
            f"{{ site {{ cart(entityId: ${CART_ID_VARIABLE}) {print_ast(selection)} }} }}\n"
            + "\n".join(print_ast(fragments[name]) for name in seen))
    sent = {name: value for name, value in (variables or {}).items() if name in uses.variables}
    return text, sent
