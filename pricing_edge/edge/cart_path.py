"""Cart mutations through the edge: reserve against available-to-promise before forwarding, commit or
roll back after BigCommerce answers (see edge/cart_guard.py for the rules)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLObjectType, GraphQLSchema, get_named_type

from pricing_edge.edge.cart_guard import CART_MUTATIONS, CartGuard, Proceed, Refuse
from pricing_edge.edge.cart_prices import PRICED_MUTATIONS
from pricing_edge.edge.document import CART_ALIAS, DELETED_CART_ALIAS
from pricing_edge.edge.fields import FieldCollector


@dataclass(frozen=True)
class CartCall:
    """The one cart mutation of a request: where its answer sits, and the guard's decision."""

    cart_key: str
    field_key: str
    decision: Proceed | Refuse
    node: FieldNode
    mutation: str = ""
    nodes: tuple[FieldNode, ...] = ()
    payload_type: str = ""

    def refusal(self) -> dict[str, Any]:
        assert isinstance(self.decision, Refuse)
        locations = None
        if self.node.loc and self.node.loc.source:
            where = self.node.loc.source.get_location(self.node.loc.start)
            locations = [{"line": where.line, "column": where.column}]
        return {"data": {self.cart_key: {self.field_key: None}},
                "errors": [self.decision.error([self.cart_key, self.field_key], locations)]}

    async def settle(self, upstream_data: dict[str, Any] | None) -> None:
        """Commit with BigCommerce's answer, or roll back when there is none."""
        if not isinstance(self.decision, Proceed):
            return
        value = ((upstream_data or {}).get(self.cart_key) or {}).get(self.field_key)
        if not isinstance(value, dict):
            await self.decision.rollback()
            return
        await self.decision.commit({"cart": value.get(CART_ALIAS), "deletedCartEntityId": value.get(DELETED_CART_ALIAS)})


class CartPath:
    def __init__(self, schema: GraphQLSchema, guard: CartGuard) -> None:
        self.schema = schema
        self.guard = guard

    async def check(self, root_selection: FieldNode, collector: FieldCollector,
                    headers: Mapping[str, str] | None = None) -> CartCall | None:
        """The request's cart mutation and the guard's decision; ``headers`` are the buyer's, as forwarded."""
        for cart_key, cart_nodes in collector.subfields("Mutation", [root_selection]).items():
            if cart_nodes[0].name.value != "cart":
                continue
            mutations = self.schema.get_type("CartMutations")
            assert isinstance(mutations, GraphQLObjectType)
            for field_key, nodes in collector.subfields("CartMutations", cart_nodes).items():
                name = nodes[0].name.value
                if name not in CART_MUTATIONS and name not in PRICED_MUTATIONS:
                    continue
                payload = get_named_type(mutations.fields[name].type).name
                decision: Proceed | Refuse = Proceed(self.guard, None)  # a currency change holds nothing
                if name in CART_MUTATIONS:
                    args = collector.arguments(mutations.fields[name], nodes[0])
                    decision = await self.guard.check(name, args.get("input") or {}, headers)
                return CartCall(cart_key, field_key, decision, nodes[0], name, tuple(nodes), payload)
        return None
