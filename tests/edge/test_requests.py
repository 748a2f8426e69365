"""Reading a GraphQL request on the hit path: the headers once, as Starlette would answer them, and the
operation name from the body or from Catalyst's ``?operation=Name``."""
from __future__ import annotations

import sys
import tracemalloc
from typing import Any

import orjson
import pytest
from starlette.requests import Request
from starlette.types import Message

from pricing_edge.edge.requests import BadRequest, GraphQLRequest, header_map, read_graphql_request

QUERY = "query Page { site { settings { storeHash } } }"


def request(body: bytes, headers: list[tuple[bytes, bytes]], query_string: bytes = b"") -> Request:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/graphql", "query_string": query_string,
                             "headers": headers, "client": ("127.0.0.1", 40000)}

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def test_the_header_map_answers_as_starlettes_headers_do() -> None:
    raw = [(b"content-type", b"application/json"), (b"authorization", b"Bearer first"),
           (b"x-bc-customer-id", b"7"), (b"authorization", b"Bearer second")]
    mapped, starlette = header_map(request(b"", raw)), request(b"", raw).headers
    for name in ("content-type", "authorization", "x-bc-customer-id", "true-client-ip"):
        assert mapped.get(name) == starlette.get(name)
    assert mapped["authorization"] == "Bearer first"  # of a repeated header the first, as Starlette's get


async def test_the_operation_comes_from_the_body_else_from_the_query_string() -> None:
    json = [(b"content-type", b"application/json")]
    named = orjson.dumps({"query": QUERY, "operationName": "Page"})
    unnamed = orjson.dumps({"query": QUERY})
    assert (await read_graphql_request(request(named, json))).operation_name == "Page"
    assert (await read_graphql_request(request(unnamed, json))).operation_name is None
    catalyst = request(unnamed, json, b"operation=Page&type=query")
    assert (await read_graphql_request(catalyst, header_map(catalyst))).operation_name == "Page"


async def test_a_body_larger_than_declared_allowed_is_refused_from_the_header_map() -> None:
    raw = [(b"content-type", b"application/json"), (b"content-length", b"2000000")]
    too_large = request(b"{}", raw)
    with pytest.raises(BadRequest) as refused:
        await read_graphql_request(too_large, header_map(too_large))
    assert refused.value.status == 413


def test_the_variables_part_of_a_cache_key_takes_its_own_length() -> None:
    """Every kept answer (and its complexity score) is keyed by it: not by the serializer's 4 KB buffer."""
    asked = GraphQLRequest(QUERY, {"categoryId": 23, "first": 24}, None)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keys = [asked.variables_key for _ in range(100)]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert keys[0] == b'{"categoryId":23,"first":24}'
    assert held < 100 * (sys.getsizeof(keys[0]) + 16)
