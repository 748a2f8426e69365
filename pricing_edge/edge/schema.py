"""The schema the edge validates against: the upstream's (learned by introspection, kept on disk so a
restart during an upstream outage still starts) plus the edge's own additive extension SDL."""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import tempfile
import time
from importlib import resources
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from graphql import GraphQLSchema, ObjectTypeExtensionNode, build_client_schema, extend_schema, parse

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamError, UpstreamUnavailable

log = logging.getLogger(__name__)
EXTENSION_DIR = resources.files("pricing_edge.edge") / "extension"  # package data


def extension_sdl() -> str:
    files = sorted((p for p in EXTENSION_DIR.iterdir() if p.name.endswith(".graphql")), key=lambda p: p.name)
    return "\n".join(p.read_text() for p in files)


def extension_fields(sdl: str | None = None) -> frozenset[tuple[str, str]]:
    """(type, field) pairs our SDL adds to upstream types: resolved by the edge, never sent upstream."""
    document = parse(extension_sdl() if sdl is None else sdl)
    return frozenset((d.name.value, f.name.value) for d in document.definitions
                     if isinstance(d, ObjectTypeExtensionNode) for f in d.fields or ())


def with_extension(schema: GraphQLSchema, sdl: str | None = None) -> GraphQLSchema:
    """The upstream schema plus our additive SDL (``edge/extension/*.graphql`` unless given)."""
    sdl = extension_sdl() if sdl is None else sdl
    return extend_schema(schema, parse(sdl)) if sdl.strip() else schema


async def _introspect(upstream: StorefrontClient, headers: Mapping[str, str], wait_seconds: float) -> dict[str, Any]:
    """Introspect, retrying with backoff for a while: the upstream may be starting alongside us."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return await upstream.introspect(headers)
        except UpstreamUnavailable:
            if time.monotonic() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def load_schema(upstream: StorefrontClient, headers: Mapping[str, str], cache_path: Path,
                      wait_seconds: float = 10.0) -> GraphQLSchema:
    """Introspect the upstream; on failure fall back to the last schema saved on disk."""
    try:
        introspection = orjson.dumps(await _introspect(upstream, headers, wait_seconds))
    except UpstreamError as exc:
        if not cache_path.exists():
            raise UpstreamError(f"cannot learn the upstream schema ({exc}) and none is saved at {cache_path}") from exc
        log.warning("upstream introspection failed (%s): starting with the schema saved at %s", exc, cache_path)
        introspection = cache_path.read_bytes()
    else:
        save_schema(cache_path, introspection)
    return _schema_of(introspection)


def save_schema(cache_path: Path, introspection: bytes) -> None:
    """Replace the saved schema at once. Each writer has a temporary file of its own: the processes of
    ``serve --workers N`` start together and each saves what it introspected — with one shared temporary name,
    one's rename took the other's file away and that worker failed to start."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache_path.parent, prefix=f".{cache_path.name}.", suffix=".tmp",
                                     delete=False) as temporary:
        temporary.write(introspection)
    try:
        os.replace(temporary.name, cache_path)
    except OSError:
        Path(temporary.name).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=4)
def _schema_of(introspection: bytes) -> GraphQLSchema:
    """Built once per process for one upstream schema (a tenth of a second): edges in one process (tests, the
    demo) share it; nothing changes a built schema."""
    return with_extension(build_client_schema(orjson.loads(introspection)))
