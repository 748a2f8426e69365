"""``pricing-edge erp check | watch`` and ``demo --erp`` as an operator runs them (real processes)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from pricing_edge.config import Settings
from pricing_edge.intake import envelope
from tests.erp.connectors import Face, running_face
from tests.support.receiver import Receiver
from tests.support.servers import serve

S4_SETTINGS = ("erp", "erp_url", "erp_mapping", "s4_user", "s4_password", "s4_sap_client")


@pytest.fixture(scope="module")
def face(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Face]:
    with running_face("s4hana", tmp_path_factory.mktemp("cli")) as running:
        yield running


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    env.update({f"PRICING_EDGE_{name.upper()}": str(getattr(settings, name)) for name in S4_SETTINGS})
    env.update({f"PRICING_EDGE_{k.upper()}": v for k, v in extra.items()})
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pricing_edge.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_erp_check_passes_against_a_system_that_matches_its_mapping(face: Face) -> None:
    done = cli(env_of(face.settings), "erp", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    materials = len(orjson.loads(Path(face.settings.erp_mapping or "").read_bytes())["materials"])
    for line in ("ok    logon", "read API_SALES_ORDER_SRV/A_SalesOrder", "CSRF token", "mapping: materials",
                 f"all {materials} resolve", "no company has customer-specific prices"):
        assert line in done.stdout
    assert done.stdout.rstrip().endswith("ready")


def test_erp_check_names_codes_s4_does_not_know_and_companies_with_their_own_prices(face: Face, tmp_path: Path) -> None:
    mapping = orjson.loads(Path(face.settings.erp_mapping or "").read_bytes())
    mapping["materials"]["M7777777"] = "PE-NOT-THERE"
    broken = tmp_path / "mapping.json"
    broken.write_bytes(orjson.dumps(mapping))
    face.control("/price-lists", {"id": 7, "name": "Cobalt contract", "company_id": 3,
                                  "prices": [{"sku": face.sim.state.skus[0], "currency": "USD", "price": "1.00"}]})
    env = env_of(face.settings, erp_mapping=str(broken))
    done = cli(env, "erp", "check", "--json")
    assert done.returncode == 1
    report = orjson.loads(done.stdout)
    failed = {step["what"]: step["detail"] for step in report["steps"] if step["result"] == "FAIL"}
    assert f"1 of {len(mapping['materials'])} unknown to S/4: M7777777" in failed["mapping: materials"]
    assert "17100003" in failed["customer-specific prices"]
    assert report["customer_specific_companies"] == [{"customer": "17100003", "company_id": 3, "price_list_id": None}]
    mapping["materials"].pop("M7777777")
    mapping["company_price_lists"] = {"17100003": {"price_list": 7, "customer_group": 107}}
    broken.write_bytes(orjson.dumps(mapping))
    fixed = cli(env, "erp", "check")
    assert fixed.returncode == 0, fixed.stdout
    assert "17100003 → price list 7" in fixed.stdout


def test_erp_watch_polls_once_and_reports_its_lag(face: Face, redis_url: str, redis_prefix: str) -> None:
    receiver = Receiver(status=202)
    with serve(receiver.app()) as edge:
        env = env_of(face.settings, redis_url=redis_url, redis_prefix=redis_prefix,
                     events_url=edge.base_url + "/events/erp", event_secret=envelope.generate_secret())
        done = cli(env, "erp", "watch", "--once")
    assert done.returncode == 0, done.stderr
    assert "poll: emitted nothing; lag seconds {'prices':" in done.stdout


def test_a_demo_for_an_erp_not_built_yet_says_so() -> None:
    done = cli({k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}, "demo", "--erp", "b1")
    assert done.returncode == 2
    assert "PRICING_EDGE_ERP=b1" in done.stderr and "not available yet" in done.stderr
