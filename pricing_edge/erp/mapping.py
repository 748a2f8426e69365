"""The mapping layer's building blocks: ERP codes ↔ BigCommerce ids, one table per kind of thing.

Each connector's mapping document (JSON, ``PRICING_EDGE_ERP_MAPPING``) is a set of tables — price
lists, locations, customer groups, companies, customers, SKUs — read once at start and validated
whole: a code mapped twice, an id claimed by two codes or a value of the wrong kind stops the start
with a :class:`MappingError` naming the table and the entry, instead of a wrong price at 3 a.m.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson

V = TypeVar("V", int, str)


class MappingError(ValueError):
    """A mapping document that cannot be used as it stands."""


@dataclass(frozen=True)
class Codes(Generic[V]):
    """One table: ERP code → BigCommerce id (or SKU), and back; one-to-one."""

    section: str
    to_bc: Mapping[str, V]
    to_erp: Mapping[V, str]

    @classmethod
    def parse(cls, doc: Mapping[str, Any], section: str, kind: Callable[[object], V], *,
              required: bool = True) -> Codes[V]:
        raw = doc.get(section)
        if raw is None and not required:
            raw = {}
        if not isinstance(raw, dict) or (required and not raw):
            raise MappingError(f"mapping: {section!r} must be a non-empty object of ERP code → BigCommerce id")
        forward: dict[str, V] = {}
        backward: dict[V, str] = {}
        for code, value in raw.items():
            if not isinstance(code, str) or not code.strip():
                raise MappingError(f"mapping: {section}: ERP codes must be non-empty strings, got {code!r}")
            try:
                converted = kind(value)
            except (TypeError, ValueError):
                raise MappingError(f"mapping: {section}[{code!r}]: {value!r} is not a valid "
                                   f"{getattr(kind, '__name__', 'value')}") from None
            if converted in backward:
                raise MappingError(f"mapping: {section}: {converted!r} is mapped from both {backward[converted]!r} "
                                   f"and {code!r}")
            forward[code] = converted
            backward[converted] = code
        return cls(section, forward, backward)

    def bc(self, code: str) -> V | None:
        return self.to_bc.get(code)

    def erp(self, bc_id: V) -> str | None:
        return self.to_erp.get(bc_id)

    def __len__(self) -> int:
        return len(self.to_bc)


def bc_id(value: object) -> int:
    """A BigCommerce id: a non-negative integer (not a bool, not a numeric string)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def sku(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    return value


def load_document(path: str | Path) -> dict[str, Any]:
    """The mapping document at ``path`` (JSON object)."""
    try:
        document = orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise MappingError(f"mapping: no file at {path} (PRICING_EDGE_ERP_MAPPING)") from None
    except orjson.JSONDecodeError as exc:
        raise MappingError(f"mapping: {path} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MappingError(f"mapping: {path} must hold a JSON object")
    return document
