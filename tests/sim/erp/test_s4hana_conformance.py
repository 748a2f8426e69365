"""The S/4HANA face against SAP's own metadata (``specs/erp/sap-s4hana/*.edmx``): every entity set,
type, key, property and navigation the face serves in its ``$metadata`` exists in SAP's service with
the same name and type — the face serves less, never something else. Fails in CI without the specs."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON, services
from tests.support.servers import ServerThread, serve
from tests.support.specs import require_spec

EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"
SERVICES = [service.name for service in services.all_services()]


@dataclass
class Schema:
    sets: dict[str, str]  # entity set → entity type (unqualified)
    keys: dict[str, list[str]]
    props: dict[str, dict[str, dict[str, str | None]]]  # type → property → attributes
    navs: dict[str, dict[str, str]]  # type → navigation → target type


def read_schema(xml: bytes) -> Schema:
    root = ET.fromstring(xml)
    sets, keys, props, navs = {}, {}, {}, {}
    ends: dict[tuple[str, str], str] = {}
    for association in root.iter(f"{EDM}Association"):
        for end in association.iter(f"{EDM}End"):
            ends[(association.get("Name", ""), end.get("Role", ""))] = end.get("Type", "").rsplit(".", 1)[-1]
    for container in root.iter(f"{EDM}EntityContainer"):
        for entity_set in container.iter(f"{EDM}EntitySet"):
            sets[entity_set.get("Name", "")] = entity_set.get("EntityType", "").rsplit(".", 1)[-1]
    for entity_type in root.iter(f"{EDM}EntityType"):
        name = entity_type.get("Name", "")
        keys[name] = [ref.get("Name", "") for ref in entity_type.iter(f"{EDM}PropertyRef")]
        props[name] = {p.get("Name", ""): {"Type": p.get("Type"), "MaxLength": p.get("MaxLength"),
                                           "Precision": p.get("Precision"), "Scale": p.get("Scale")}
                       for p in entity_type.iter(f"{EDM}Property")}
        navs[name] = {n.get("Name", ""): ends[(n.get("Relationship", "").rsplit(".", 1)[-1], n.get("ToRole", ""))]
                      for n in entity_type.iter(f"{EDM}NavigationProperty")}
    return Schema(sets, keys, props, navs)


@pytest.fixture(scope="module")
def face() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), face="s4hana", latency_ms=0)) as server:
        yield server


def served_metadata(face: ServerThread, service: str) -> bytes:
    response = httpx.get(f"{face.base_url}/sap/opu/odata/sap/{service}/$metadata",
                         params={"sap-client": DEMO_LOGON.client}, auth=(DEMO_LOGON.user, DEMO_LOGON.password),
                         timeout=30)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.specs
@pytest.mark.parametrize("service", SERVICES)
def test_every_set_property_key_and_navigation_the_face_serves_is_sap_s(face: ServerThread, service: str) -> None:
    sap = read_schema(require_spec(f"erp/sap-s4hana/{service}.edmx").read_bytes())
    ours = read_schema(served_metadata(face, service))
    assert ours.sets, "the face serves no entity set"
    for entity_set, entity_type in ours.sets.items():
        assert sap.sets.get(entity_set) == entity_type, f"{service}: entity set {entity_set} ({entity_type})"
        assert ours.keys[entity_type] == sap.keys[entity_type], f"{entity_type}: key"
        for name, attributes in ours.props[entity_type].items():
            real = sap.props[entity_type].get(name)
            assert real is not None, f"{entity_type}.{name} is not in SAP's {service}"
            assert attributes["Type"] == real["Type"], f"{entity_type}.{name}: {attributes['Type']} vs {real['Type']}"
            for facet in ("MaxLength", "Precision", "Scale"):
                if attributes[facet] is not None:
                    assert attributes[facet] == real[facet], f"{entity_type}.{name}: {facet}"
        for nav, target in ours.navs[entity_type].items():
            assert sap.navs[entity_type].get(nav) == target, f"{entity_type}.{nav} → {target}"
