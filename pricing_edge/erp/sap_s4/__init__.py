"""The SAP S/4HANA connector: adapter (``adapter.py``), mapping (``mapping.py``), change source
(``change_source.py``), over a thin OData V2 client (``odata.py``)."""
from __future__ import annotations

from pricing_edge.config import Settings
from pricing_edge.erp.mapping import MappingError
from pricing_edge.erp.sap_s4.adapter import S4HanaAdapter
from pricing_edge.erp.sap_s4.mapping import S4Mapping
from pricing_edge.erp.sap_s4.settings import S4Settings, S4SettingsError


def load_mapping(settings: Settings) -> S4Mapping:
    if not settings.erp_mapping:
        raise MappingError("PRICING_EDGE_ERP=s4hana needs PRICING_EDGE_ERP_MAPPING: the JSON document that maps "
                           "S/4 codes to BigCommerce ids (see pricing_edge/erp/sap_s4/mapping.py)")
    return S4Mapping.load(settings.erp_mapping)


def open_adapter(settings: Settings) -> S4HanaAdapter:
    return S4HanaAdapter(S4Settings.of(settings), load_mapping(settings))


__all__ = ["MappingError", "S4HanaAdapter", "S4Mapping", "S4Settings", "S4SettingsError", "load_mapping",
           "open_adapter"]
