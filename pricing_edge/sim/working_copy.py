"""A simulator's own working copy of a seeded dataset, made from one built per process.

Building the demo store draws ~130k random numbers and quantizes ~60k prices (a third of a second of CPU);
a process that starts several simulators (the demo, every test system) built it again for each. Records are
frozen dataclasses, so a copy only needs new containers: each simulator changes its own lists, dicts and
books, never a record in place."""
from __future__ import annotations

import dataclasses
import datetime
import enum
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")
_ATOMS = (str, int, float, bool, bytes, Decimal, enum.Enum, datetime.date, datetime.time, datetime.timedelta,
          type(None))


def working_copy(value: T) -> T:
    """``value`` with every mutable container (list, dict, set, non-frozen dataclass) copied and every
    immutable part (scalars, tuples and frozensets of them, frozen dataclasses) shared.
    Anything else is refused: a mutable object shared by two simulators would leak one's changes into the other."""
    return _copy(value)


_SHARED, _LIST, _DICT, _SET, _FROZEN_COLLECTION, _DATACLASS = range(6)
_kinds: dict[type, int] = {}


def _kind(cls: type) -> int:
    if issubclass(cls, _ATOMS) or (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        return _SHARED
    for kind, base in ((_LIST, list), (_DICT, dict), (_SET, set), (_FROZEN_COLLECTION, (tuple, frozenset))):
        if issubclass(cls, base):
            return kind
    if dataclasses.is_dataclass(cls):
        return _DATACLASS
    raise TypeError(f"cannot share or copy a {cls.__name__} safely")


def _copy(value: Any) -> Any:
    cls = type(value)
    kind = _kinds.get(cls)
    if kind is None:
        kind = _kinds[cls] = _kind(cls)
    if kind == _SHARED:
        return value
    if kind == _LIST:
        return [_copy(item) for item in value]
    if kind == _DICT:
        return {key: _copy(item) for key, item in value.items()}
    if kind == _SET:
        return {_copy(item) for item in value}
    if kind == _FROZEN_COLLECTION:
        if any(_copy(item) is not item for item in value):
            raise TypeError(f"a {cls.__name__} holding a mutable item cannot be shared")
        return value
    copied = object.__new__(cls)
    copied.__dict__.update({name: _copy(item) for name, item in vars(value).items()})
    return copied
