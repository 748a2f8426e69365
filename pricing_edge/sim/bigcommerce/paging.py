"""Relay connections over in-memory lists, with BigCommerce's page-size rules.

BigCommerce answers ``first``/``last`` above 50 with the error ``Argument 'first' cannot exceed 50``
(wording as reported by storefront developers hitting it); a connection asked for neither returns
its first 10 items. Variants are the documented exception: up to 250 per page.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

from pricing_edge.sim.bigcommerce.ids import cursor, cursor_index

T = TypeVar("T")

MAX_PAGE_SIZE = 50
MAX_VARIANT_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 10


def page_size_error(argument: str, limit: int) -> GraphQLError:
    return GraphQLError(f"Argument '{argument}' cannot exceed {limit}")


def _check_size(argument: str, value: int | None, limit: int) -> None:
    if value is None:
        return
    if value < 0:
        raise GraphQLError(f"Argument '{argument}' must not be negative")
    if value > limit:
        raise page_size_error(argument, limit)


def _index_of(argument: str, value: str | None) -> int | None:
    if value is None:
        return None
    index = cursor_index(value)
    if index is None:
        raise GraphQLError(f"Argument '{argument}' is not a valid cursor: {value!r}")
    return index


def page_bounds(total: int, args: dict[str, Any], limit: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """``[start, end)`` of the page the Relay arguments select, after checking them."""
    first, last = args.get("first"), args.get("last")
    _check_size("first", first, limit)
    _check_size("last", last, limit)
    after, before = _index_of("after", args.get("after")), _index_of("before", args.get("before"))
    start = 0 if after is None else min(total, after + 1)
    end = total if before is None else max(start, min(total, before))
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    if first is None and last is None:
        end = min(end, start + DEFAULT_PAGE_SIZE)
    return start, end


def connection(items: Sequence[T], args: dict[str, Any], *, limit: int = MAX_PAGE_SIZE,
               node: Callable[[T], Any] | None = None, total: bool = True) -> dict[str, Any]:
    """A connection value the schema's default resolvers read: pageInfo, edges, collectionInfo."""
    start, end = page_bounds(len(items), args, limit)
    edges = [{"node": node(items[i]) if node else items[i], "cursor": cursor(i)} for i in range(start, end)]
    result: dict[str, Any] = {
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "edges": edges,
    }
    if total:
        result["collectionInfo"] = {"totalItems": len(items)}
    return result


def page_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.get(k) for k in ("first", "after", "last", "before")}
