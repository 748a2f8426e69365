"""BigCommerce's global ids: base64 of ``Type:entityId`` (``Product:101`` → ``UHJvZHVjdDoxMDE=``)."""
from __future__ import annotations

import base64
import binascii


def global_id(type_name: str, entity_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{entity_id}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    try:
        type_name, _, entity_id = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (type_name, entity_id) if type_name and entity_id else None
