"""BigCommerce's global ids (``node(id:)``) and connection cursors.

A global id is base64 of ``"<Type>:<entityId>"`` (``UHJvZHVjdDoxMjM=`` is ``Product:123``), so
clients that decode or build them keep working against the simulator. Cursors are base64 of
``"arrayconnection:<index>"``, the form BigCommerce's own cursors take.
"""
from __future__ import annotations

import base64
import binascii

CURSOR_PREFIX = "arrayconnection:"


def global_id(type_name: str, entity_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{entity_id}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """``(type name, entity id)`` of a global id, or None when it is not one."""
    try:
        decoded = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, entity_id = decoded.partition(":")
    if not sep or not type_name or not entity_id:
        return None
    return type_name, entity_id


def parse_int_id(value: str, expected_type: str) -> int | None:
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != expected_type or not parsed[1].isdigit():
        return None
    return int(parsed[1])


def cursor(index: int) -> str:
    return base64.b64encode(f"{CURSOR_PREFIX}{index}".encode()).decode()


def cursor_index(value: str) -> int | None:
    try:
        decoded = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not decoded.startswith(CURSOR_PREFIX) or not decoded[len(CURSOR_PREFIX):].isdigit():
        return None
    return int(decoded[len(CURSOR_PREFIX):])
