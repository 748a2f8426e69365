"""Settings: typed, parsed once, and every bad value stops with a message naming its variable and what it
accepts — one test per kind of bad value."""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from pricing_edge.config import TEST_ONLY_VARIABLES, Settings, SettingsError, setting_fields, unknown_variables, variable
from pricing_edge.domain.scope import PriceListAssignments

README = Path(__file__).resolve().parents[1] / "README.md"


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return caught.value.problems


@pytest.mark.parametrize(("name", "value", "accepts"), [
    # a number that is not one
    ("PRICING_EDGE_PRICE_TTL", "sixty", "must be a number"),
    # a whole number that is not whole
    ("PRICING_EDGE_WORKER_CONCURRENCY", "2.5", "must be a whole number"),
    # a flag that is not a boolean
    ("PRICING_EDGE_WARM_AT_START", "maybe", "must be a boolean: 1/0, true/false, yes/no or on/off"),
    # below its minimum: a negative or zero TTL, a zero count, a factor under 1
    ("PRICING_EDGE_PRICE_TTL", "-5", "must be greater than 0"),
    ("PRICING_EDGE_STOCK_TTL", "0", "must be greater than 0"),
    ("PRICING_EDGE_BREAKER_THRESHOLD", "0", "must be greater than or equal to 1"),
    ("PRICING_EDGE_REDIS_DOWN_STOCK_FACTOR", "0.5", "must be greater than or equal to 1"),
    ("PRICING_EDGE_BC_LATENCY_MS", "-1", "must be greater than or equal to 0"),
    # a URL of the wrong kind
    ("PRICING_EDGE_UPSTREAM_URL", "store.example.com/graphql", "must be a URL starting with http:// or https://"),
    ("PRICING_EDGE_REDIS_URL", "localhost:6379", "must be a URL starting with redis:// or rediss:// or unix://"),
    # a secret not in Standard Webhooks form
    ("PRICING_EDGE_EVENT_SECRET", "hunter2", "must be whsec_ followed by base64"),
    # structured text that does not parse
    ("PRICING_EDGE_PRICE_LISTS", "0=1;1=2", "must be customer_group:price_list pairs separated by commas"),
    ("PRICING_EDGE_BC_RATE_LIMIT", "150 per 30s", "must be requests/seconds with both above 0"),
    ("PRICING_EDGE_INVENTORY_LOCATIONS", "1=2", "must be erp_location:bigcommerce_location id pairs"),
    ("PRICING_EDGE_BC_SYNC_BATCH", "1001", "must be less than or equal to 1000"),
    ("PRICING_EDGE_WEBHOOK_HEADER", "X-Hook", "must be 'Name: value'"),
    # a code or name of the wrong shape
    ("PRICING_EDGE_CURRENCY", "usd", "must be a three-letter ISO 4217 code in capitals"),
    ("PRICING_EDGE_CURRENCIES", "USD,euro", "must be a three-letter ISO 4217 code in capitals"),
    ("PRICING_EDGE_STORE_HASH", "my store", "must be letters, digits, - or _"),
])
def test_a_bad_value_names_its_variable_its_value_and_what_it_accepts(name: str, value: str, accepts: str) -> None:
    (problem,) = problems({name: value})
    assert problem.startswith(f"{name}={value!r}: {accepts}")


def test_settings_that_contradict_each_other_name_both_variables() -> None:
    (problem,) = problems({"PRICING_EDGE_WORKER_RETRY_BASE": "30", "PRICING_EDGE_WORKER_RETRY_CAP": "5"})
    assert problem == "PRICING_EDGE_WORKER_RETRY_CAP (5) must be at least PRICING_EDGE_WORKER_RETRY_BASE (30)"


def test_every_bad_value_is_reported_at_once() -> None:
    found = problems({"PRICING_EDGE_PRICE_TTL": "-1", "PRICING_EDGE_SEED": "x", "PRICING_EDGE_CURRENCY": "usd"})
    assert sorted(p.split("=")[0] for p in found) == ["PRICING_EDGE_CURRENCY", "PRICING_EDGE_PRICE_TTL",
                                                      "PRICING_EDGE_SEED"]


def test_values_are_typed_and_parsed_once() -> None:
    settings = Settings.from_env({"PRICING_EDGE_WARM_AT_START": "true", "PRICING_EDGE_PRICE_TTL": "90",
                                  "PRICING_EDGE_PRICE_LISTS": "0:1, 3:7", "PRICING_EDGE_DEFAULT_PRICE_LIST": "2",
                                  "PRICING_EDGE_CURRENCIES": "USD, EUR,GBP", "PRICING_EDGE_BC_RATE_LIMIT": "100/10",
                                  "PRICING_EDGE_REQUIRE_DURABLE": "off"})
    assert settings.warm_at_start is True and settings.require_durable is False
    assert settings.price_ttl == 90.0
    assert settings.currencies == ("USD", "EUR", "GBP")
    assert settings.bc_rate_limit == (100, 10.0)
    assert settings.assignments == PriceListAssignments({0: 1, 3: 7}, 2)
    assert settings.assignments.price_list_for(5) == 2


def test_an_empty_variable_means_its_default_and_overrides_win() -> None:
    settings = Settings.from_env({"PRICING_EDGE_REDIS_URL": "", "PRICING_EDGE_SEED": "11"}, seed=12, erp_url=None)
    assert settings.redis_url is None
    assert settings.seed == 12
    assert settings.erp_url == Settings().erp_url


def test_keyword_construction_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICING_EDGE_SEED", "99")
    assert Settings().seed == 7
    assert Settings.from_env().seed == 99


def test_the_environment_form_reads_back_to_the_same_settings() -> None:
    settings = Settings.from_env({"PRICING_EDGE_REDIS_URL": "redis://cache:6379/2", "PRICING_EDGE_PRICE_LISTS": "0:4",
                                  "PRICING_EDGE_WARM_AT_START": "yes", "PRICING_EDGE_CURRENCIES": "EUR",
                                  "PRICING_EDGE_BC_RATE_LIMIT": "20/1.5", "PRICING_EDGE_EVENT_SECRET": "whsec_c2VjcmV0"})
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env(Settings().to_env()) == Settings()


def test_a_changed_copy_is_checked_and_parsed_like_the_environment() -> None:
    settings = Settings()
    assert replace(settings, price_lists="0:9", warm_at_start="yes").assignments.price_list_for(None) == 9
    with pytest.raises(ValidationError, match="price_ttl"):
        replace(settings, price_ttl=0)
    assert settings.price_ttl == 60.0  # the original is untouched


def test_a_misspelt_variable_is_reported_with_the_nearest_real_name() -> None:
    assert unknown_variables({"PRICING_EDGE_PRICE_TTLL": "5", "PRICING_EDGE_SEED": "1", "HOME": "/",
                              "PRICING_EDGE_TEST_REDIS_URL": "redis://x"}) == [
        "PRICING_EDGE_PRICE_TTLL is not a pricing-edge setting (did you mean PRICING_EDGE_PRICE_TTL?)"]


def test_config_does_not_import_the_simulators() -> None:
    script = "import sys, pricing_edge.config; print(sorted(m for m in sys.modules if m.startswith('pricing_edge.sim')))"
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_the_readme_documents_every_setting_by_its_full_name() -> None:
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(PRICING_EDGE_[A-Z0-9_]+)`", row.split("|")[1])}
    settings = {variable(name) for name in setting_fields()}
    assert settings - documented == set(), "settings missing from the README's table"
    assert documented - settings - TEST_ONLY_VARIABLES == set(), "README rows that are no setting"
    assert not re.search(r"/ `_[A-Z]", table), "a variable abbreviated: spell each one in full"


def test_inventory_locations_are_id_pairs() -> None:
    settings = Settings.from_env({"PRICING_EDGE_INVENTORY_LOCATIONS": "1:4, 2:5"})
    assert settings.inventory_locations == {1: 4, 2: 5}
    assert settings.to_env()["PRICING_EDGE_INVENTORY_LOCATIONS"] == "1:4,2:5"
