"""An ERP's own events (S/4 business events, ...) → its change source re-reads what they name and
emits our events. One entity per named object (``signal:SalesOrder:4711``), so two events about the
same order are handled one after the other; retries, dead letters and ops come from the engine."""
from __future__ import annotations

import logging
from typing import Any

from pricing_edge.erp.change_source import ChangeSource, EmitFailed
from pricing_edge.worker.errors import PermanentError, TransientError
from pricing_edge.worker.messages import Message

log = logging.getLogger(__name__)
FLOW = "erp-signals"
SOURCE = "erp-signal"


class ErpSignalFlow:
    name = FLOW

    def __init__(self, source: ChangeSource, prefix: str) -> None:
        self.source = source
        self.prefix = prefix

    def route(self, source: str, kind: str, data: dict[str, Any]) -> str | None:
        if source != SOURCE or not kind.startswith(self.prefix) or not data:
            return None
        name, value = sorted(data.items())[0]
        return f"signal:{name}:{value}"

    async def handle(self, message: Message, token: str) -> None:
        try:
            emitted = await self.source.on_signal(message.kind, message.data)
        except EmitFailed as exc:
            raise TransientError(str(exc)) from exc
        except ValueError as exc:
            raise PermanentError(f"{message.kind}: {exc}") from exc
        log.info("%s %s: %d event(s) emitted", message.kind, message.data, emitted)

    async def failed(self, message: Message, reason: str, final: bool) -> None:
        log.warning("%s %s failed%s: %s", message.kind, message.data, " for good" if final else "", reason)
