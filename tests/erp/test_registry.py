"""``PRICING_EDGE_ERP`` selects the connector; vendors not built yet say so and name the setting."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pricing_edge.config import Settings
from pricing_edge.erp.mapping import MappingError
from pricing_edge.erp.registry import CONNECTORS, PLANNED, ConnectorNotAvailable, open_erp
from pricing_edge.erp.sap_s4 import S4SettingsError
from pricing_edge.erp.simulated import SimulatedErpAdapter


def test_the_default_is_the_simulated_erp() -> None:
    assert Settings.from_env({}).erp == "sim"
    assert isinstance(open_erp(Settings.from_env({})), SimulatedErpAdapter)


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_a_vendor_not_built_yet_refuses_to_start_naming_the_setting(name: str) -> None:
    with pytest.raises(ConnectorNotAvailable) as refused:
        open_erp(Settings.from_env({"PRICING_EDGE_ERP": name}))
    assert f"PRICING_EDGE_ERP={name}" in str(refused.value) and "not available yet" in str(refused.value)


def test_an_unknown_erp_lists_the_known_ones() -> None:
    with pytest.raises(ConnectorNotAvailable) as refused:
        open_erp(Settings.from_env({"PRICING_EDGE_ERP": "sapp"}))
    assert all(name in str(refused.value) for name in [*CONNECTORS, *PLANNED])


def test_s4hana_needs_its_mapping_and_a_logon(tmp_path: Path) -> None:
    settings = replace(Settings.from_env({}), erp="s4hana", s4_user="U", s4_password="P")
    with pytest.raises(MappingError, match="PRICING_EDGE_ERP_MAPPING"):
        open_erp(settings)
    with pytest.raises(MappingError, match="no file"):
        open_erp(replace(settings, erp_mapping=str(tmp_path / "missing.json")))
    with pytest.raises(S4SettingsError, match="PRICING_EDGE_S4_USER"):
        open_erp(replace(settings, s4_user=None, erp_mapping=str(tmp_path / "missing.json")))
