"""Which ERP connector runs: ``PRICING_EDGE_ERP`` selects it for the edge, the worker and the CLI.

Every connector is one entry here: how to open its adapter (with its mapping, validated), its change
source (None when the ERP pushes our events itself, as the simulator does), and the vendor event
types its signal intake accepts. Vendors planned but not built yet are named, and refuse to start
with a message saying so — never a stub that pretends to work.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pricing_edge.config import Settings
from pricing_edge.erp.protocol import ErpAdapter

if TYPE_CHECKING:
    from pricing_edge.erp.change_source import ChangeSource, Emitter
    from pricing_edge.store.base import Store


class ConnectorNotAvailable(ValueError):
    """``PRICING_EDGE_ERP`` names no connector this release has."""


@dataclass(frozen=True)
class Connector:
    name: str
    title: str
    open_adapter: Callable[[Settings], ErpAdapter]
    open_change_source: Callable[[Settings, ErpAdapter, Emitter, Store], ChangeSource] | None = None
    signal_prefix: str | None = None  # vendor event types (``sap.s4.beh.``) its signal intake accepts


def _simulated(settings: Settings) -> ErpAdapter:
    from pricing_edge.erp.simulated import SimulatedErpAdapter

    return SimulatedErpAdapter(settings.erp_url, timeout=settings.erp_timeout)


def _s4hana(settings: Settings) -> ErpAdapter:
    from pricing_edge.erp.sap_s4 import open_adapter

    return open_adapter(settings)


def _s4hana_changes(settings: Settings, adapter: ErpAdapter, emitter: Emitter, store: Store) -> ChangeSource:
    from pricing_edge.erp.sap_s4.change_source import S4ChangeSource

    return S4ChangeSource.of(settings, adapter, emitter, store)


CONNECTORS: dict[str, Connector] = {
    "sim": Connector("sim", "the simulated ERP (generic API)", _simulated),
    "s4hana": Connector("s4hana", "SAP S/4HANA (OData V2 API_* services)", _s4hana, _s4hana_changes, "sap.s4.beh."),
}
PLANNED = {
    "b1": "SAP Business One (Service Layer)",
    "bc": "Microsoft Dynamics 365 Business Central",
    "fo": "Microsoft Dynamics 365 Finance & Operations",
    "netsuite": "Oracle NetSuite",
    "acumatica": "Acumatica",
}


def connector(name: str) -> Connector:
    found = CONNECTORS.get(name)
    if found is not None:
        return found
    if name in PLANNED:
        raise ConnectorNotAvailable(f"PRICING_EDGE_ERP={name}: the {PLANNED[name]} connector is not available yet "
                                    f"(available: {', '.join(CONNECTORS)})")
    raise ConnectorNotAvailable(f"PRICING_EDGE_ERP={name!r} is not a known ERP: one of "
                                f"{', '.join([*CONNECTORS, *PLANNED])}")


def open_erp(settings: Settings) -> ErpAdapter:
    """The configured connector's adapter; its settings and mapping are validated here, at start."""
    return connector(settings.erp).open_adapter(settings)
