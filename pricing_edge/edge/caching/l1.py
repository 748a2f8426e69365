"""The in-process cache (L1), bounded by memory: one least-recently-used order over every kind it holds
(prices, stock, ...), evicting the least recently used entries of any kind once the estimated bytes pass
the bound; bytes are counted per kind (the ``pricing_edge_l1_bytes{kind}`` gauge).

Sizes are estimates, made once per entry when it is stored (``estimate``): ``sys.getsizeof`` summed over
the entry's key and value and what they hold — strings, numbers, Decimals, tuples, lists, sets, dicts and
dataclass instances, walked field by field (an instance's attribute values are counted as 8 bytes a field
plus a small header, as CPython lays them out, without materialising a ``__dict__``; with slots they are in
the instance's own size) — plus the LRU's own
bookkeeping per entry. Objects shared between entries (interned strings, small ints, enum members) are
counted once per entry, so the estimate errs high: the bound holds for the real memory too.
"""
from __future__ import annotations

import enum
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, MutableMapping
from decimal import Decimal
from typing import Any, TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")
ENTRY_OVERHEAD = 200  # the LRU's node and dict slot, the (kind, key) tuple and the (value, size) pair
_ATOMS = (str, bytes, int, float, Decimal)
_SEQUENCES = (tuple, list, set, frozenset)
_INSTANCE_HEADER = 16  # an instance's inline-values block, beside its 8 bytes a field


def estimate(obj: object) -> int:
    """The bytes ``obj`` and what it holds take, estimated (see the module's docstring)."""
    if obj is None or obj is True or obj is False or isinstance(obj, enum.Enum):
        return 0  # singletons: shared by every entry
    size = sys.getsizeof(obj)
    if isinstance(obj, _ATOMS):
        return size
    if isinstance(obj, _SEQUENCES):
        return size + sum(estimate(item) for item in obj)
    if isinstance(obj, dict):
        return size + sum(estimate(k) + estimate(v) for k, v in obj.items())
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields is not None:
        if type(obj).__dictoffset__:  # values beside the object (not __dict__: that would make one); slots: counted
            size += _INSTANCE_HEADER + 8 * len(fields)
        return size + sum(estimate(getattr(obj, name)) for name in fields)
    return size


class L1:
    """Entries of every kind under one memory bound (``max_bytes``), least recently used evicted first."""

    def __init__(self, max_bytes: int, sizeof: Callable[[object], int] = estimate) -> None:
        if max_bytes < 1:
            raise ValueError(f"the L1 bound must be at least one byte, not {max_bytes}")
        self.max_bytes = max_bytes
        self.sizeof = sizeof
        self._entries: OrderedDict[tuple[str, Hashable], tuple[Any, int]] = OrderedDict()
        self._bytes: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self.total = 0
        self.evictions = 0

    def section(self, kind: str) -> L1Section[Any, Any]:
        """A mapping over one kind's entries (what a cache of that kind holds)."""
        self._bytes.setdefault(kind, 0)
        self._counts.setdefault(kind, 0)
        return L1Section(self, kind)

    def bytes(self, kind: str | None = None) -> int:
        """Estimated bytes held (of one kind, or of all)."""
        return self.total if kind is None else self._bytes.get(kind, 0)

    def count(self, kind: str) -> int:
        return self._counts.get(kind, 0)

    def kinds(self) -> list[str]:
        return list(self._bytes)

    def _get(self, kind: str, key: Hashable) -> Any:
        full = (kind, key)
        held = self._entries.get(full)
        if held is None:
            return None
        self._entries.move_to_end(full)
        return held[0]

    def _set(self, kind: str, key: Hashable, value: Any) -> None:
        full = (kind, key)
        self._remove(full)
        size = ENTRY_OVERHEAD + self.sizeof(key) + self.sizeof(value)
        self._entries[full] = (value, size)
        self._account(kind, size, 1)
        while self.total > self.max_bytes and self._entries:
            oldest = next(iter(self._entries))
            self._remove(oldest)
            self.evictions += 1

    def _remove(self, full: tuple[str, Hashable]) -> Any:
        held = self._entries.pop(full, None)
        if held is None:
            return None
        self._account(full[0], -held[1], -1)
        return held[0]

    def _account(self, kind: str, size: int, count: int) -> None:
        self._bytes[kind] = self._bytes.get(kind, 0) + size
        self._counts[kind] = self._counts.get(kind, 0) + count
        self.total += size

    def _clear(self, kind: str) -> None:
        for full in [full for full in self._entries if full[0] == kind]:
            self._remove(full)

    def _keys(self, kind: str) -> Iterator[Hashable]:
        return (key for k, key in list(self._entries) if k == kind)


class L1Section(MutableMapping[K, V]):
    """One kind's view of an ``L1``, as a mapping (what a cache of that kind holds its entries in)."""

    def __init__(self, l1: L1, kind: str) -> None:
        self.l1 = l1
        self.kind = kind

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        found = self.l1._get(self.kind, key)
        return default if found is None else found

    def __getitem__(self, key: K) -> V:
        found: V | None = self.l1._get(self.kind, key)
        if found is None:
            raise KeyError(key)
        return found

    def __setitem__(self, key: K, value: V) -> None:
        if value is None:
            raise ValueError("the L1 holds no None values")
        self.l1._set(self.kind, key, value)

    def __delitem__(self, key: K) -> None:
        if self.l1._remove((self.kind, key)) is None:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return (self.kind, key) in self.l1._entries

    def __len__(self) -> int:
        return self.l1.count(self.kind)

    def __iter__(self) -> Iterator[K]:
        return self.l1._keys(self.kind)  # type: ignore[return-value]

    def clear(self) -> None:
        self.l1._clear(self.kind)

    @property
    def bytes(self) -> int:
        return self.l1.bytes(self.kind)
