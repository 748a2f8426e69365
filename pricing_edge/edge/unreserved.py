"""SKUs this process lately found with no live cart reservation: their shown stock needs no Redis round trip.

Why: shown stock is stock less live reservations (``ComputePath._shown_stock``), read from Redis for every SKU a
stock field is projected from — one pipelined round trip per re-projection, and an ERP stock event re-projects
every kept answer that shows the SKU (every buyer's pages and probes) in every process. Most SKUs have no hold.

Why it is safe: a hold is taken or raised only by a cart, whose process then names the SKU on the invalidation
channel (``ReservationSignals``); a process hearing it forgets the SKU here before the answers that show it are
re-projected, so they read Redis again. A hold that no message names (written back after Redis was down) is
seen once the zero lapses: a zero is trusted for ``TRUSTED_FOR`` seconds at most. A read that a message
crossed (it started before the message and ended after) teaches nothing: it may be the state the message
replaced. Holds that end (released, expired, consumed) only lower the total: a zero stays right. Only zeros
are kept — a live hold expires with no message, so a positive total is always read again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

TRUSTED_FOR = 1.0  # seconds a zero is used without asking Redis again
MAX_SKUS = 200_000  # past this many, every zero is forgotten (read again) rather than the table grown


class Unreserved:
    def __init__(self, clock: Callable[[], float], trusted_for: float = TRUSTED_FOR, max_skus: int = MAX_SKUS) -> None:
        self.clock = clock
        self.trusted_for = trusted_for
        self.max_skus = max_skus
        self.generation = 0  # bumped by every message naming SKUs (and by ``clear``)
        self._since: dict[str, float] = {}  # sku -> when it was read with no live hold

    def known(self, skus: Iterable[str]) -> set[str]:
        """Those of ``skus`` read with no live hold within the trusted time, and not named by a message since."""
        oldest = self.clock() - self.trusted_for
        since = self._since
        return {sku for sku in skus if since.get(sku, oldest) > oldest}

    def learn(self, totals: Mapping[str, int], generation: int, read_at: float) -> None:
        """Totals read from Redis by a read that began at ``generation`` and ``read_at`` (the clock's): its zeros
        are kept, unless a message was heard while it ran."""
        if generation != self.generation:
            return
        if len(self._since) > self.max_skus:
            self._since.clear()
        for sku, total in totals.items():
            if total <= 0:
                self._since[sku] = read_at
            else:
                self._since.pop(sku, None)

    def forget(self, skus: Iterable[str]) -> None:
        """A message named these SKUs' reservations as changed: read them from Redis again."""
        self.generation += 1
        for sku in skus:
            self._since.pop(sku, None)

    def clear(self) -> None:
        """Messages may have been missed (the invalidation channel was down): every SKU is read again."""
        self.generation += 1
        self._since.clear()
