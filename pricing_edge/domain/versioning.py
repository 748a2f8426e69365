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


MAX_AHEAD_MS = 24 * 3600 * 1000  # how far ahead of the receiver's clock a version may be


def ahead_problem(version: int, now_ms: int, max_ahead_ms: int = MAX_AHEAD_MS) -> str | None:
    """Why a version is refused, or None. A version is an ERP sequence (small) or epoch milliseconds: one
    more than a day ahead of the receiver's clock would outrank every true update until that day comes,
    so one bad producer could freeze a record. Receivers refuse it (the intake with a 400)."""
    if version > now_ms + max_ahead_ms:
        return (f"{version} is more than {max_ahead_ms // 3_600_000} h ahead of this receiver's clock "
                f"(epoch ms {now_ms}): it would outrank every update until then")
    return None
