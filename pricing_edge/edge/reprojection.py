"""Re-projection of a kept answer (``edge/holes.py``) after an ERP change or as its records near their TTL.

The records are looked up exactly as a from-scratch compute would (every record the answer uses, so its
freshness flags are judged from all of them), but only the sites whose records changed are projected and
serialized again; the rest of the bytes stand. No GraphQL, no skeleton, no parse or render of the page.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from pricing_edge.edge.answer_flags import Filled
from pricing_edge.edge.holes import Holes
from pricing_edge.edge.overlay import Overlay, Records, Site
from pricing_edge.jsonio import dumps


class Reprojection(Overlay):
    """A kept answer's overlay again: the same sites and needs, but ``fill`` projects only ``chosen``."""

    def __init__(self, holes: Holes, chosen: Iterable[int]) -> None:
        source = holes.overlay
        super().__init__(source.schema, source.collector, source.default_currency)
        self.sites = holes.sites
        self.needs = source.needs
        self.chosen = sorted(chosen)
        self.values: dict[int, bytes] = {}

    def fill(self, records: Records) -> list[Site]:
        kept = []
        for index in self.chosen:
            site = self.sites[index]
            value, projected = self.site_value(site, records)
            self.values[index] = dumps(value)
            if not projected:
                kept.append(site)
        return kept


@dataclass(frozen=True)
class Reprojected:
    body: bytes
    stale: bool  # the body says so (and the header goes with it)
    holes: Holes
    keep_for: float | None  # seconds it may be kept as fresh; None: not to be kept


async def reproject(holes: Holes, dirty: Iterable[int], fill: Callable[[Overlay], Awaitable[Filled]],
                    now_ms: Callable[[], int], longest: float) -> Reprojected:
    """The answer with the ``dirty`` sites projected from the records as they are now, and its flags anew."""
    again = Reprojection(holes, dirty)
    filled = await fill(again)
    at = now_ms()
    flags = filled.flags(at)
    changed = dict(again.values)
    changed[holes.flags_hole] = dumps(flags.as_json())
    patched = holes.with_values(changed)
    keep_for = None if flags.stale else filled.lifetime(at, longest)
    return Reprojected(patched.body(), flags.stale, patched, keep_for)
