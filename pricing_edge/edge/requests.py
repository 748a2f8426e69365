"""Reading a GraphQL request the ways storefronts send it: POST JSON (also with Catalyst's
``?operation=Name&type=query``) or GET with query parameters. Bad requests get GraphQL-shaped errors."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pricing_edge.jsonio import exact
from pricing_edge.request_body import BodyTooLarge, read_limited

MAX_BODY_BYTES = 1024 * 1024
MAX_QUERY_CHARS = 100_000  # validation cost grows with the document; storefront documents are a few KB


class GraphQLRequest(NamedTuple):
    """One request's document, variables and operation (a named tuple: made on every request, at a third of a
    frozen dataclass's cost)."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None

    @property
    def variables_key(self) -> bytes:
        """Part of the answer's cache key, kept by the caches: in bytes of its own length (``jsonio.exact``)."""
        return exact(orjson.dumps(self.variables, option=orjson.OPT_SORT_KEYS)) if self.variables else b""


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status

    def response(self) -> Response:
        return error_response(str(self), self.status)


def error_response(message: str, status: int = 400, extensions: dict[str, Any] | None = None) -> Response:
    error: dict[str, Any] = {"message": message}
    if extensions:
        error["extensions"] = extensions
    return Response(orjson.dumps({"errors": [error]}), status_code=status, media_type="application/json")


def header_map(request: Request) -> dict[str, str]:
    """The request's headers as a plain dict, made in one pass: a lookup is then a dict's, not a scan of the
    list per name (ASGI names are lower-case; of a repeated header the first wins, as Starlette's ``get``)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(request.scope["headers"])}


async def read_graphql_request(request: Request, headers: Mapping[str, str] | None = None) -> GraphQLRequest:
    """``headers``: the request's, if already at hand as a mapping (``header_map``)."""
    headers = request.headers if headers is None else headers
    if request.method == "GET":
        params = request.query_params
        variables_text = params.get("variables")
        try:
            variables = orjson.loads(variables_text) if variables_text else {}
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"variables are not valid JSON: {exc}") from None
        payload: Any = {"query": params.get("query"), "variables": variables,
                        "operationName": params.get("operationName")}
    else:
        content_type = headers.get("content-type", "")
        media_type = content_type if content_type == "application/json" else content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise BadRequest(f"Content-Type must be application/json, not {content_type or 'missing'!r}", 415)
        try:
            body = await read_limited(request, MAX_BODY_BYTES, headers)
        except BodyTooLarge:
            raise BadRequest(f"request body exceeds {MAX_BODY_BYTES} bytes", 413) from None
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("request body must be a JSON object with a query")
    query = payload.get("query")
    if not isinstance(query, str) or not query or query.isspace():  # isspace: no copy of the text, as strip makes
        raise BadRequest("Must provide query string.")
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"query exceeds {MAX_QUERY_CHARS} characters", 413)
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        raise BadRequest("Variables must be provided as a JSON object.")
    operation_name = payload.get("operationName") or None
    if operation_name is None and request.scope.get("query_string"):  # Catalyst's ?operation=Name
        operation_name = request.query_params.get("operation") or None
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("operationName must be a string.")
    return GraphQLRequest(query, variables, operation_name)
