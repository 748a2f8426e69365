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
    return _copy(value)  # type: ignore[no-any-return]


def _copy(value: Any) -> Any:
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, set):
        return {_copy(item) for item in value}
    if isinstance(value, (tuple, frozenset)):
        for item in value:
            _copy(item)  # refuses a mutable item
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return value
        copied = object.__new__(type(value))
        copied.__dict__.update({name: _copy(item) for name, item in vars(value).items()})
        return copied
    raise TypeError(f"cannot share or copy a {type(value).__name__} safely")
