"""Serving one OData V2 service from a face's entity definitions and row providers.

``ODataService.dispatch`` answers one request — the service document, ``$metadata``, a collection
(``$filter``, ``$select``, ``$expand``, ``$orderby``, ``$top``/``$skip``, server paging with
``__next``, ``$inlinecount``, ``/$count``), one entity by key, a navigation, or a write the face
handles — and is what ``$batch`` calls for each of its parts. Errors use SAP Gateway's body:
``{"error": {"code", "message": {"lang", "value"}, "innererror": {...}}}``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import orjson

from pricing_edge.sim.erp.faces.odata import query
from pricing_edge.sim.erp.faces.odata.model import EntitySet, Nav, Prop, Service
from pricing_edge.sim.erp.faces.odata.values import ValueError_, key_literal, to_json

Row = dict[str, Any]
RowSource = Callable[[Mapping[str, set[Any]]], Iterable[Row]]
JSON = "application/json"


class ODataError(Exception):
    """An answer other than success, in the vendor's error body."""

    def __init__(self, status: int, message: str, code: str = "/IWBEP/CM_MGW_RT/020",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        return orjson.dumps({"error": {
            "code": self.code, "message": {"lang": "en", "value": self.message},
            "innererror": {"transactionid": "0" * 32, "errordetails": [
                {"code": self.code, "message": self.message, "severity": "error", "target": ""}]}}})


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status, orjson.dumps(value), {"content-type": JSON, **(headers or {})})

    @classmethod
    def error(cls, exc: ODataError) -> Reply:
        return cls(exc.status, exc.body(), {"content-type": JSON, **exc.headers})


@dataclass
class Provider:
    """Where a set's rows come from, and the writes the face allows on it."""

    rows: RowSource
    create: Callable[[dict[str, Any]], Row] | None = None
    update: Callable[[Row, dict[str, Any]], None] | None = None  # (current row, body)
    delete: Callable[[Row], None] | None = None
    create_child: dict[str, Callable[[Row, dict[str, Any]], Row]] = field(default_factory=dict)


Function = Callable[[dict[str, str]], Any]
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>.*)\))?$")


class ODataService:
    def __init__(self, service: Service, providers: Mapping[str, Provider], *, root: str,
                 functions: Mapping[str, Function] | None = None, page_size: int = 1000) -> None:
        missing = set(service.sets) - set(providers)
        if missing:
            raise ValueError(f"{service.name}: no provider for {sorted(missing)}")
        self.service = service
        self.providers = dict(providers)
        self.root = root.rstrip("/")  # the service's absolute path, e.g. /sap/opu/odata/sap/API_X
        self.functions = dict(functions or {})
        self.page_size = page_size
        self._metadata = service.metadata_xml()

    # --- dispatch ----------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str],
                 body: bytes, base_url: str) -> Reply:
        """``path``: below the service root ("" for the service document, "A_Set('1')/to_Item")."""
        try:
            return self._dispatch(method.upper(), path.strip("/"), params, headers, body, base_url)
        except ODataError as exc:
            return Reply.error(exc)
        except query.QueryError as exc:
            return Reply.error(ODataError(400, str(exc), "/IWBEP/CM_MGW_RT/004"))
        except ValueError_ as exc:
            return Reply.error(ODataError(400, str(exc), "/IWBEP/CM_MGW_RT/001"))

    def _dispatch(self, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str],
                  body: bytes, base_url: str) -> Reply:
        if path == "" and method == "GET":
            return Reply.json({"d": {"EntitySets": sorted(self.service.sets)}})
        if path == "$metadata" and method == "GET":
            return Reply(200, self._metadata, {"content-type": "application/xml"})
        segments = [unquote(part) for part in path.split("/")] if path else []
        count_only = bool(segments) and segments[-1] == "$count"
        if count_only:
            segments = segments[:-1]
        if len(segments) == 1 and segments[0] in self.functions:
            if method not in ("GET", "POST"):
                raise ODataError(405, f"method {method} not allowed on function {segments[0]}")
            return Reply.json({"d": self.functions[segments[0]](dict(params))})
        if not segments or len(segments) > 2:
            raise ODataError(404, f"resource not found for segment '{path}'", "/IWBEP/CM_MGW_RT/021")
        entity, keys = self._segment(segments[0])
        base = f"{base_url}{self.root}"
        if len(segments) == 2:  # Set(key)/nav
            if keys is None:
                raise ODataError(400, "a navigation needs the key of its source entity")
            parent = self._one(entity, keys)
            nav = entity.nav(segments[1])
            if nav is None:
                raise ODataError(404, f"navigation property {segments[1]} not found in {entity.type_name}")
            if method == "POST":
                create = self.providers[entity.name].create_child.get(nav.name)
                if create is None:
                    raise ODataError(405, f"creating {nav.name} of {entity.name} is not supported")
                created = create(parent, _json_body(body))
                target = self.service.sets[nav.target]
                return Reply.json({"d": self._entity(target, created, base, self._expand_of(params, target))}, 201)
            if method != "GET":
                raise ODataError(405, f"method {method} not allowed on a navigation")
            target = self.service.sets[nav.target]
            rows = self._follow(nav, parent)
            if not nav.many:
                if not rows:
                    raise ODataError(404, "resource not found", "/IWBEP/CM_MGW_RT/021")
                return Reply.json({"d": self._entity(target, rows[0], base, self._expand_of(params, target))})
            return self._collection(target, rows, params, base, count_only, f"{segments[0]}/{nav.name}")
        provider = self.providers[entity.name]
        if keys is None:
            if method == "POST":
                if provider.create is None:
                    raise ODataError(405, f"creating {entity.name} is not supported")
                created = provider.create(_json_body(body))
                inline = self._expand_tree([n for n in _json_body(body) if entity.nav(n)], entity)
                return Reply.json({"d": self._entity(entity, created, base, inline)}, 201,
                                  {"location": f"{base}/{self._key_path(entity, created)}"})
            if method != "GET":
                raise ODataError(405, f"method {method} not allowed on a collection")
            return self._collection(entity, None, params, base, count_only, segments[0])
        row = self._one(entity, keys)
        if method == "GET":
            etag = self._etag(entity, row)
            return Reply.json({"d": self._entity(entity, row, base, self._expand_of(params, entity))},
                              headers={"etag": etag} if etag else None)
        if method in ("PATCH", "MERGE", "PUT"):
            if provider.update is None:
                raise ODataError(405, f"changing {entity.name} is not supported")
            self._check_if_match(entity, row, headers)
            provider.update(row, _json_body(body))
            return Reply(204)
        if method == "DELETE":
            if provider.delete is None:
                raise ODataError(405, f"deleting {entity.name} is not supported")
            self._check_if_match(entity, row, headers)
            provider.delete(row)
            return Reply(204)
        raise ODataError(405, f"method {method} not allowed")

    # --- reading -------------------------------------------------------------------------------

    def _segment(self, text: str) -> tuple[EntitySet, dict[str, Any] | None]:
        match = _SEGMENT.match(text)
        if match is None or match["name"] not in self.service.sets:
            raise ODataError(404, f"resource not found for segment '{text}'", "/IWBEP/CM_MGW_RT/021")
        entity = self.service.sets[match["name"]]
        if match["key"] is None:
            return entity, None
        parts = query.parse_key(match["key"])
        if len(parts) == 1 and parts[0][0] is None and len(entity.key) == 1:
            return entity, {entity.key[0]: parts[0][1]}
        keys = {name: value for name, value in parts if name is not None}
        if set(keys) != set(entity.key) or len(parts) != len(keys):
            raise ODataError(400, f"invalid key predicate for {entity.name}: give {', '.join(entity.key)}")
        return entity, keys

    def _rows(self, entity: EntitySet, hints: Mapping[str, set[Any]]) -> list[Row]:
        return list(self.providers[entity.name].rows(hints))

    def _one(self, entity: EntitySet, keys: Mapping[str, Any]) -> Row:
        hints = {name: {value} for name, value in keys.items()}
        for row in self._rows(entity, hints):
            if all(query.matches(query.Compare("eq", query.Field(n), query.Literal(v)), row) for n, v in keys.items()):
                return row
        raise ODataError(404, "resource not found for the key", "/IWBEP/CM_MGW_RT/021")

    def _follow(self, nav: Nav, row: Row) -> list[Row]:
        target = self.service.sets[nav.target]
        wanted = {remote: row.get(local) for local, remote in nav.on}
        return [candidate for candidate in self._rows(target, {k: {v} for k, v in wanted.items()})
                if all(candidate.get(k) == v for k, v in wanted.items())]

    def _collection(self, entity: EntitySet, rows: list[Row] | None, params: Mapping[str, str], base: str,
                    count_only: bool, path: str) -> Reply:
        known = lambda name: entity.prop(name) is not None  # noqa: E731
        node = query.parse_filter(params.get("$filter"))
        query.check_fields(node, known)
        candidates = rows if rows is not None else self._rows(entity, query.equalities(node))
        chosen = [row for row in candidates if query.matches(node, row)]
        for name, descending in reversed(query.parse_orderby(params.get("$orderby"), known)):
            chosen.sort(key=lambda row: (row.get(name) is not None, row.get(name)), reverse=descending)
        if count_only:
            return Reply(200, str(len(chosen)).encode(), {"content-type": "text/plain"})
        skip = _int(params, "$skip") or 0
        top = _int(params, "$top")
        offset = _int(params, "$skiptoken") or 0
        window = chosen[skip:] if top is None else chosen[skip:skip + top]
        page = window[offset:offset + self.page_size]
        expand = self._expand_of(params, entity)
        select = [name for name in (params.get("$select") or "").split(",") if name.strip()]
        result: dict[str, Any] = {"results": [self._entity(entity, row, base, expand, select) for row in page]}
        if params.get("$inlinecount") == "allpages":
            result["__count"] = str(len(chosen))
        if offset + self.page_size < len(window):
            following = {k: v for k, v in params.items() if k != "$skiptoken"} | {"$skiptoken": str(offset + len(page))}
            result["__next"] = f"{base}/{path}?{urlencode(following, quote_via=quote, safe='$,()/')}"
        return Reply.json({"d": result})

    def _expand_of(self, params: Mapping[str, str], entity: EntitySet) -> dict[str, Any]:
        paths = [p.strip() for p in (params.get("$expand") or "").split(",") if p.strip()]
        return self._expand_tree(paths, entity)

    def _expand_tree(self, paths: list[str], entity: EntitySet) -> dict[str, Any]:
        tree: dict[str, Any] = {}
        for path in paths:
            node, current = tree, entity
            for name in path.split("/"):
                nav = current.nav(name)
                if nav is None:
                    raise ODataError(400, f"property {name} in $expand is not a navigation of {current.type_name}")
                node = node.setdefault(name, {})
                current = self.service.sets[nav.target]
        return tree

    # --- rendering -----------------------------------------------------------------------------

    def _key_path(self, entity: EntitySet, row: Row) -> str:
        if len(entity.key) == 1:
            predicate = key_literal(entity.prop(entity.key[0]), row[entity.key[0]])  # type: ignore[arg-type]
        else:
            predicate = ",".join(f"{k}={key_literal(entity.prop(k), row[k])}" for k in entity.key)  # type: ignore[arg-type]
        return f"{entity.name}({quote(predicate, safe=chr(39) + '=,:')})"

    def _etag(self, entity: EntitySet, row: Row) -> str | None:
        prop = entity.etag
        if prop is None or row.get(prop.name) is None:
            return None
        return etag_of(prop, row[prop.name])

    def _check_if_match(self, entity: EntitySet, row: Row, headers: Mapping[str, str]) -> None:
        current = self._etag(entity, row)
        if current is None:
            return
        given = headers.get("if-match")
        if not given:
            raise ODataError(428, "this change needs the entity's ETag in If-Match", "/IWBEP/CM_MGW_RT/087")
        if given != "*" and given != current:
            raise ODataError(412, "the entity was changed since it was read (ETag mismatch)", "/IWBEP/CM_MGW_RT/088")

    def _entity(self, entity: EntitySet, row: Row, base: str, expand: Mapping[str, Any],
                select: list[str] | None = None) -> dict[str, Any]:
        uri = f"{base}/{self._key_path(entity, row)}"
        metadata: dict[str, Any] = {"id": uri, "uri": uri, "type": f"{self.service.name}.{entity.type_name}"}
        etag = self._etag(entity, row)
        if etag:
            metadata["etag"] = etag
        out: dict[str, Any] = {"__metadata": metadata}
        for prop in entity.props:
            if select and prop.name not in select:
                continue
            out[prop.name] = to_json(prop, row.get(prop.name))
        for nav in entity.navs:
            if nav.name in expand:
                target = self.service.sets[nav.target]
                followed = self._follow(nav, row)
                inner = [self._entity(target, r, base, expand[nav.name]) for r in followed]
                out[nav.name] = {"results": inner} if nav.many else (inner[0] if inner else None)
            elif not select:
                out[nav.name] = {"__deferred": {"uri": f"{uri}/{nav.name}"}}
        return out


def etag_of(prop: Prop, value: Any) -> str:
    """Gateway's weak ETag of a concurrency property: ``W/"datetimeoffset'2026-12-05T10%3A00%3A00.1230000Z'"``."""
    if isinstance(value, datetime):
        stamp = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"
        return f"W/\"datetimeoffset'{quote(stamp)}'\""
    return f"W/\"'{quote(str(value))}'\""


def _int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ODataError(400, f"invalid value {raw!r} for {name}: expected a non-negative integer")
    return int(raw)


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        raise ODataError(400, "the request body is not valid JSON", "/IWBEP/CM_MGW_RT/001") from None
    if not isinstance(value, dict):
        raise ODataError(400, "the request body must be a JSON object", "/IWBEP/CM_MGW_RT/001")
    return value


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """A request target (``A_Set?$top=1``) → (path, params): what ``$batch`` parts carry."""
    path, _, raw_query = target.partition("?")
    return path, dict(parse_qsl(raw_query, keep_blank_values=True))
