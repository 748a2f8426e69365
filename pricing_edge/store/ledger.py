"""The sync ledger: per record pair (BigCommerce id ↔ ERP id) what was synced, when, and how it went.

A mapping is unique both ways — one BigCommerce order maps to at most one ERP order and back —
and ``link`` refuses anything else, so a mapping is never created twice. Before a write is sent,
the writer ``claim``s the record (a short, token-owned claim): a second writer, say a worker whose
lease ran out while it was paused, cannot send the same write at the same time. Ledger entries do
not expire: they are the mapping.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from typing import Protocol


# Statuses the ledger indexes, so the entries in them can be listed (an order held for credit: the ops status
# counts them, a credit change re-checks them). Every write keeps the index in the same atomic step.
INDEXED_STATUSES: tuple[str, ...] = ("held",)


class LedgerConflict(Exception):
    """The pair contradicts an existing mapping (either side already maps elsewhere)."""


@dataclass(frozen=True)
class LedgerEntry:
    flow: str
    bc_id: str
    erp_id: str | None = None
    status: str = "new"
    last_error: str = ""
    correlation_id: str = ""
    last_synced_ms: int | None = None
    updated_ms: int = 0
    detail: str = ""  # JSON the flow owns (e.g. an order's price mismatches)
    claim_token: str = ""
    claim_until_ms: int = 0

    def as_json(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("claim")}

    def to_fields(self) -> dict[str, str]:
        return {f.name: "" if getattr(self, f.name) is None else str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_fields(cls, raw: dict[str, str]) -> LedgerEntry:
        def number(name: str) -> int | None:
            return int(raw[name]) if raw.get(name) else None

        return cls(flow=raw["flow"], bc_id=raw["bc_id"], erp_id=raw.get("erp_id") or None,
                   status=raw.get("status", "new"), last_error=raw.get("last_error", ""),
                   correlation_id=raw.get("correlation_id", ""), last_synced_ms=number("last_synced_ms"),
                   updated_ms=number("updated_ms") or 0, detail=raw.get("detail", ""),
                   claim_token=raw.get("claim_token", ""), claim_until_ms=number("claim_until_ms") or 0)


def now_ms() -> int:
    return int(time.time() * 1000)


class Ledger(Protocol):
    async def get(self, flow: str, bc_id: str) -> LedgerEntry | None: ...
    async def bc_id_for(self, flow: str, erp_id: str) -> str | None: ...

    async def with_status(self, flow: str, status: str) -> list[str]:
        """The BigCommerce ids whose entry is in ``status`` now (one of ``INDEXED_STATUSES``)."""
        ...

    async def claim(self, flow: str, bc_id: str, token: str, ttl_ms: int, correlation_id: str) -> bool:
        """Own the next write for this record; False while another token's claim is live."""
        ...

    async def link(self, flow: str, bc_id: str, erp_id: str, correlation_id: str, *,
                   detail: str | None = None) -> LedgerEntry:
        """Record the pair (idempotent for the same pair) and, in the same atomic write, its ``detail``: a reader
        never sees "synced" without it. :class:`LedgerConflict` if either side maps elsewhere."""
        ...

    async def record(self, flow: str, bc_id: str, *, status: str, correlation_id: str, last_error: str = "",
                     detail: str | None = None, synced: bool = False) -> LedgerEntry:
        """Update the entry's status (creating it if new) and release any claim."""
        ...


class EmbeddedLedger:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], LedgerEntry] = {}
        self._by_erp: dict[tuple[str, str], str] = {}

    async def get(self, flow: str, bc_id: str) -> LedgerEntry | None:
        return self._entries.get((flow, bc_id))

    async def with_status(self, flow: str, status: str) -> list[str]:
        return sorted(bc for (f, bc), entry in self._entries.items() if f == flow and entry.status == status)

    async def bc_id_for(self, flow: str, erp_id: str) -> str | None:
        return self._by_erp.get((flow, erp_id))

    def _entry(self, flow: str, bc_id: str) -> LedgerEntry:
        return self._entries.get((flow, bc_id)) or LedgerEntry(flow, bc_id)

    async def claim(self, flow: str, bc_id: str, token: str, ttl_ms: int, correlation_id: str) -> bool:
        entry, now = self._entry(flow, bc_id), now_ms()
        if entry.claim_token and entry.claim_token != token and entry.claim_until_ms > now:
            return False
        self._entries[(flow, bc_id)] = replace(entry, claim_token=token, claim_until_ms=now + ttl_ms,
                                               correlation_id=correlation_id, updated_ms=now,
                                               status=entry.status if entry.erp_id else "claimed")
        return True

    async def link(self, flow: str, bc_id: str, erp_id: str, correlation_id: str, *,
                   detail: str | None = None) -> LedgerEntry:
        entry = self._entry(flow, bc_id)
        other = self._by_erp.get((flow, erp_id))
        if (entry.erp_id and entry.erp_id != erp_id) or (other is not None and other != bc_id):
            raise LedgerConflict(f"{flow}: {bc_id} ↔ {erp_id} contradicts {entry.erp_id or '-'} / {other or '-'}")
        now = now_ms()
        self._by_erp[(flow, erp_id)] = bc_id
        linked = replace(entry, erp_id=erp_id, status="synced", last_error="", correlation_id=correlation_id,
                         last_synced_ms=now, updated_ms=now, claim_token="", claim_until_ms=0,
                         detail=entry.detail if detail is None else detail)
        self._entries[(flow, bc_id)] = linked
        return linked

    async def record(self, flow: str, bc_id: str, *, status: str, correlation_id: str, last_error: str = "",
                     detail: str | None = None, synced: bool = False) -> LedgerEntry:
        entry, now = self._entry(flow, bc_id), now_ms()
        updated = replace(entry, status=status, last_error=last_error, correlation_id=correlation_id,
                          detail=entry.detail if detail is None else detail, updated_ms=now,
                          last_synced_ms=now if synced else entry.last_synced_ms, claim_token="", claim_until_ms=0)
        self._entries[(flow, bc_id)] = updated
        return updated
