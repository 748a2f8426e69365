"""Version ordering: an event carries the record's full state and a version (ERP sequence or epoch
milliseconds); it replaces the stored state only if newer, so duplicates and out-of-order delivery
are harmless. The Redis store applies the same rule inside a Lua script (store/redis_store.py)."""
from __future__ import annotations


def replaces(incoming: int, current: int | None) -> bool:
    """Whether a record at version ``incoming`` replaces one at ``current`` (None: nothing stored)."""
    return current is None or incoming > current


def final_version(arrivals: list[int]) -> int | None:
    """What a store ends at after applying ``arrivals`` in the given order."""
    current: int | None = None
    for version in arrivals:
        if replaces(version, current):
            current = version
    return current
