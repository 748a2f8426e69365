"""Each connector against its face of the simulated ERP, over real HTTP: what the contract suite and
the connector-specific tests start. A connector is one entry in ``FACES``; adding one to the suite is
adding its entry, not copying tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import orjson

from pricing_edge.config import Settings
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.erp.registry import open_erp
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.sim.erp.app import ErpSim
from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON
from tests.support.servers import ServerThread, serve

FACES = ("sim", "s4hana")


@dataclass
class Face:
    """One connector's face of a running simulated ERP, and how a test drives it."""

    name: str
    server: ServerThread
    sim: ErpSim
    settings: Settings

    def adapter(self, **overrides: Any) -> ErpAdapter:
        return open_erp(replace(self.settings, **overrides))

    def control(self, path: str, body: Any = None, method: str = "POST") -> dict[str, Any]:
        response = httpx.request(method, f"{self.server.base_url}/_sim{path}", json=body, timeout=30)
        assert response.status_code < 300, response.text
        return dict(response.json())

    def state_number(self, number: str) -> str:
        """The simulator's own order number behind a connector's (S/4's 100001 is SO-100001)."""
        return number if number.startswith("SO-") else f"SO-{number}"

    def throttle(self, requests: int, retry_after: int = 1) -> None:
        if self.name == "s4hana":
            self.control("/s4hana/throttle", {"requests": requests, "retry_after": retry_after})
        else:
            self.control("/faults", {"throttle_requests": requests, "retry_after": retry_after})

    def expire_sessions(self) -> None:
        """Every session and token the ERP issued is gone (S/4: CSRF tokens, sessions, OAuth tokens;
        the generic API keeps none)."""
        if self.name == "s4hana":
            self.control("/s4hana/sessions/expire")


def face_settings(name: str, base_url: str, workdir: Path) -> Settings:
    settings = replace(Settings.from_env({}), erp=name, erp_url=base_url, erp_timeout=10.0)
    if name == "s4hana":
        mapping = httpx.get(f"{base_url}/_sim/s4hana/mapping", timeout=30).json()
        path = workdir / "s4hana-mapping.json"
        path.write_bytes(orjson.dumps(mapping))
        settings = replace(settings, erp_mapping=str(path), s4_user=DEMO_LOGON.user, s4_password=DEMO_LOGON.password,
                           s4_sap_client=DEMO_LOGON.client)
    return settings


@contextmanager
def running_face(name: str, workdir: Path, *, page_size: int = 1000, **app_options: Any) -> Iterator[Face]:
    app = create_app(build_dataset(7), latency_ms=0, face=name, page_size=page_size, **app_options)
    with serve(app) as server:
        yield Face(name, server, app.state.erp, face_settings(name, server.base_url, workdir))
