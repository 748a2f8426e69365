"""Relay connections the way BigCommerce pages them: opaque cursors, ``first`` defaulting to 10,
and no more than 50 items per page ("Argument 'first' cannot exceed 50")."""
from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

T = TypeVar("T")
DEFAULT_PAGE = 10
MAX_PAGE = 50


def cursor_of(index: int) -> str:
    return base64.b64encode(f"arrayconnection:{index}".encode()).decode()


def _index_of(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        raise GraphQLError(f"Invalid cursor: {cursor!r}") from None


def connection(items: Sequence[T], args: dict[str, Any], node: Callable[[T], Any] = lambda x: x,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and value > MAX_PAGE:
            raise GraphQLError(f"Argument '{name}' cannot exceed {MAX_PAGE}")
        if value is not None and value < 0:
            raise GraphQLError(f"Argument '{name}' must be a non-negative integer")
    start, end = 0, len(items)
    if args.get("after"):
        start = _index_of(args["after"]) + 1
    if args.get("before"):
        end = min(end, _index_of(args["before"]))
    if args.get("last") is not None:
        start = max(start, end - args["last"])
    else:
        first = args.get("first")
        end = min(end, start + (DEFAULT_PAGE if first is None else int(first)))
    page = list(enumerate(items))[start:end]
    edges = [{"cursor": cursor_of(i), "node": node(item)} for i, item in page]
    result = {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "collectionInfo": {"totalItems": len(items)},
    }
    result.update(extra or {})
    return result
