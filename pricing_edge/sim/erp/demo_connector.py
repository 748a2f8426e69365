"""The demo against a vendor's face: the simulated ERP speaks that vendor's API, the edge and the
worker run that vendor's connector with its mapping generated from the demo dataset (the codes the
face derives), and the face's own events go to the edge's signal intake."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from pricing_edge.config import Settings
from pricing_edge.erp.registry import connector
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp.state import ErpState

MAPPING_DIR = Path(".pricing-edge")


def demo_mapping(erp: str, seed: int) -> dict[str, Any]:
    connector(erp)  # a clear error for a vendor not available yet
    if erp == "s4hana":
        from pricing_edge.sim.erp.faces.s4hana.codes import S4Codes

        return S4Codes(ErpState(build_dataset(seed))).demo_mapping()
    return {}


def face_of(settings: Settings) -> str:
    """The simulator face the configured connector talks to."""
    connector(settings.erp)
    return settings.erp


def demo_connector_settings(settings: Settings, edge_url: str, workdir: Path = MAPPING_DIR) -> Settings:
    """``settings`` with the connector's demo logon and generated mapping (written under ``workdir``)."""
    if settings.erp == "sim":
        return settings
    mapping = demo_mapping(settings.erp, settings.seed)
    if settings.erp == "s4hana":
        from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON

        path = Path(settings.erp_mapping) if settings.erp_mapping else workdir / f"s4hana-demo-mapping-{settings.seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(mapping, option=orjson.OPT_INDENT_2))
        return replace(settings, erp_mapping=str(path), s4_user=settings.s4_user or DEMO_LOGON.user,
                       s4_password=settings.s4_password or DEMO_LOGON.password,
                       s4_sap_client=settings.s4_sap_client or DEMO_LOGON.client)
    return settings


def signals_url(edge_url: str) -> str:
    return edge_url.rstrip("/") + "/events/erp/signals"
