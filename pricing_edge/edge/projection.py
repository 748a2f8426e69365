"""The vocabulary of the edge's own field resolvers (edge/owned.py, edge/credit.py): a resolver returns
a value, an ``Obj`` (a composite to project further with its type's resolvers) or ``KEEP``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEEP: Any = object()  # the upstream's value stands
Resolver = Callable[[Any, dict[str, Any], Any], Any]  # (source, field arguments, upstream value) -> value


@dataclass(frozen=True)
class Obj:
    """A composite value to project with ``type_name``'s resolvers; ``upstream`` pairs it with the upstream's item."""

    type_name: str
    source: Any
    upstream: Any = None
    has_upstream: bool = False
