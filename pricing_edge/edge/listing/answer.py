"""The answer to a listing sorted or filtered by price (``edge/listing/``: order, filter and page by the buyer's
prices), overlaid and kept like any other — moved out of ``edge/compute.py`` to keep it short."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import Response

from pricing_edge.bigcommerce.storefront import UpstreamUnavailable
from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.domain.scope import Scope
from pricing_edge.edge.answer_flags import Filled
from pricing_edge.edge.document import PreparedDocument
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.listing.membership import ListingTooLarge, MembershipRefused, MembershipUnavailable
from pricing_edge.edge.listing.merge import ListingError
from pricing_edge.edge.listing.plan import ListingSite
from pricing_edge.edge.overlay import Overlay
from pricing_edge.edge.requests import GraphQLRequest, error_response
from pricing_edge.edge.response_cache import Tag

if TYPE_CHECKING:
    from pricing_edge.edge.compute import ComputePath

log = logging.getLogger(__name__)
JSON = "application/json"
LISTING_ATTEMPTS = 3  # a listing recomputed when a price event landed between its order and its overlay


async def listing_answer(edge: ComputePath, request: Request, gql: GraphQLRequest, scope: Scope, document: PreparedDocument,
                   sent: OperationDefinitionNode, listing: ListingSite, collector: FieldCollector,
                   root_field: FieldNode, cache_key: tuple[Any, ...]) -> Response | None:
    """A listing sorted or filtered by price: ordered, filtered and paged by this buyer's prices
    (``edge/listing/``); None: too large to merge, BigCommerce's own answer is given."""
    for _ in range(LISTING_ATTEMPTS - 1):
        started = edge.responses.generation
        answered = await _listing_once(edge, request, gql, scope, document, sent, listing, collector, root_field,
                                            cache_key, started)
        if answered is None or not isinstance(answered, tuple):
            return answered
        # A price event between the order and the overlay: the page may show a price it was not ordered by.
        if edge.responses.untouched_since(started, answered[1]):
            return answered[0]
    last = await _listing_once(edge, request, gql, scope, document, sent, listing, collector, root_field, cache_key,
                                    edge.responses.generation)
    return last[0] if isinstance(last, tuple) else last

async def _listing_once(edge: ComputePath, request: Request, gql: GraphQLRequest, scope: Scope, document: PreparedDocument,
                        sent: OperationDefinitionNode, listing: ListingSite, collector: FieldCollector,
                        root_field: FieldNode, cache_key: tuple[Any, ...],
                        generation: int) -> tuple[Response, list[Tag]] | Response | None:
    assert edge.listings is not None
    headers = edge.forwarded(request)
    try:
        composed = await edge.listings.compose(listing, document, sent, gql.variables or {}, collector,
                                               scope.price_list_id, scope.visibility_key, scope.currency, headers,
                                               erp_deadline=edge._erp_deadline(request))
    except GraphQLError as exc:
        return Response(orjson.dumps({"errors": [exc.formatted]}), 200, media_type=JSON)
    except ListingError as exc:
        return Response(exc.body, exc.status, media_type=JSON)
    except (ListingTooLarge, MembershipRefused) as exc:
        log.info("listing answered by BigCommerce as it is: %s", exc)
        return None
    except (MembershipUnavailable, UpstreamUnavailable) as exc:
        log.warning("listing: upstream unavailable: %s", exc)
        return error_response("The storefront API is unavailable; try again shortly.", 503)
    root = edge.schema.query_type
    assert root is not None
    overlay = Overlay(edge.schema, collector, scope.currency)
    overlay.extension_fields = edge.documents.extension_fields
    data = overlay.render(composed.body["data"], root, [root_field])
    edge.index.learn(scope.visibility_key, overlay.seen.values())
    filled = await edge._fill(overlay, scope, edge._erp_deadline(request))
    filled.tags += composed.tags
    filled.touched = True
    if composed.lookup is not None:
        filled.note(composed.lookup)
    if composed.stale:
        last_good = [UsedRecord(composed.oldest_ms, 0)] if composed.oldest_ms is not None else []
        filled.note(Filled(used=last_good, degraded={"upstream"}))
    filled.listing_changed = composed.changed
    await edge._answer_extensions(overlay, scope)
    result: dict[str, Any] = {"data": data}
    if composed.body.get("errors"):
        result["errors"] = composed.body["errors"]
    return edge._respond(result, document, cache_key, filled, generation), filled.tags

