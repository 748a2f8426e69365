"""Which change source a worker runs: none for an ERP that pushes our events itself; for S/4HANA one
that needs the edge's events URL and secret, refused at start without them."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from pricing_edge.config import Settings
from pricing_edge.erp.registry import open_erp
from pricing_edge.intake import envelope
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.worker.change_sources import ChangeSourceSettingsError, open_change_source
from pricing_edge.worker.flows.erp_signals import ErpSignalFlow


def s4_settings(tmp_path: Path) -> Settings:
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps({"price_lists": {"PA": 1}, "locations": {"1710": 1}, "customer_groups": {"G0": 0}}))
    return replace(Settings.from_env({}), erp="s4hana", erp_mapping=str(path), s4_user="U", s4_password="P")


async def test_the_simulated_erp_needs_no_change_source() -> None:
    settings = Settings.from_env({})
    erp = open_erp(settings)
    assert open_change_source(settings, EmbeddedStore(announce=False), erp) is None
    await erp.aclose()


async def test_s4hana_runs_one_and_refuses_to_start_without_the_edges_events_url(tmp_path: Path) -> None:
    settings = s4_settings(tmp_path)
    erp = open_erp(settings)
    try:
        with pytest.raises(ChangeSourceSettingsError, match="PRICING_EDGE_EVENTS_URL"):
            open_change_source(settings, EmbeddedStore(announce=False), erp)
        running = open_change_source(replace(settings, events_url="http://edge.invalid/events/erp",
                                             event_secret=envelope.generate_secret(), erp_poll_interval=20.0),
                                     EmbeddedStore(announce=False), erp)
        assert running is not None and running.prefix == "sap.s4.beh."
        assert running.lease_ms == 60_000  # three polls' worth: a crashed poller's lease lapses in a minute
        flow = ErpSignalFlow(running.source, "sap.s4.beh.")
        assert flow.route("erp-signal", "sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1",
                          {"SalesOrder": "4711"}) == "signal:SalesOrder:4711"
        assert flow.route("erp", "sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1", {"SalesOrder": "1"}) is None
        await running.emitter.aclose()
    finally:
        await erp.aclose()
