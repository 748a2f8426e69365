"""The first run, as a new user meets it: bad configuration, a busy port, `warm` without Redis, `--port`
for `ops` and `sim fault`, and help text on every command."""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from pricing_edge.cli import build_parser, main
from pricing_edge.config import Settings
from pricing_edge.demo import erp_sim_app
from pricing_edge.runtime import free_port
from tests.support.processes import free_port_block
from tests.support.servers import serve

COMMANDS = [["demo"], ["fixtures"], ["serve"], ["worker"], ["warm"], ["ops", "status"],
            ["bigcommerce", "register-webhooks", "--destination", "http://127.0.0.1:9/webhooks/bigcommerce"],
            ["sim", "bigcommerce"], ["sim", "erp"], ["sim", "fault", "erp", "--clear"], ["sync", "prices"]]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`pricing-edge ...` as a user runs it: its own process, only the PRICING_EDGE_* variables given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    return subprocess.run([sys.executable, "-m", "pricing_edge.cli", *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_refuses_a_bad_setting_before_it_starts(command: list[str], monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PRICING_EDGE_PRICE_TTL", "-5")
    monkeypatch.setenv("PRICING_EDGE_WARM_AT_START", "true")  # valid: no longer a bare ValueError
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "cannot start, the configuration has 1 problem:" in err
    assert "PRICING_EDGE_PRICE_TTL='-5': must be greater than 0" in err


def test_a_misspelt_variable_is_a_warning_naming_the_real_one(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PRICING_EDGE_CURRENCYS", "EUR")
    assert main(["fixtures"]) == 0
    assert "PRICING_EDGE_CURRENCYS is not a pricing-edge setting (did you mean PRICING_EDGE_CURRENCY?)" in \
        capsys.readouterr().err


def test_a_busy_demo_port_is_one_line_naming_it_and_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):  # another test may take one of the block's other ports first: then try another block
        base = free_port_block(4)
        with socket.socket() as taken:  # the ERP simulator's port (N+2) is the taken one
            taken.bind(("127.0.0.1", base + 2))
            taken.listen()
            result = run_cli("demo", "--port", str(base), env={"PRICING_EDGE_SCHEMA_CACHE": str(tmp_path / "s.json")})
        (line,) = result.stderr.splitlines()
        if f"port {base + 2} " in line:
            break
    assert result.returncode == 1
    assert result.stdout == ""  # no banner for a demo that cannot start
    assert line.startswith(f"pricing-edge demo: port {base + 2} on 127.0.0.1 (erp-sim) is already in use: "
                           "stop what uses it, or run the demo on other ports: pricing-edge demo --port ")
    assert "(make demo PORT=" in line


def test_a_busy_serve_port_is_one_line(listening: int) -> None:
    result = run_cli("serve", "--port", str(listening), env={"PRICING_EDGE_REDIS_URL": "redis://127.0.0.1:9/0"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"pricing-edge serve: port {listening} on 127.0.0.1 (edge) is already in "
                                          "use: stop what uses it, or choose another port with --port"]


def test_warm_without_redis_refuses_like_serve_and_loads_nothing() -> None:
    erp_calls: list[str] = []

    async def erp(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            erp_calls.append(scope["path"])
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    with serve(erp) as server:
        result = run_cli("warm", env={"PRICING_EDGE_ERP_URL": server.base_url})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("pricing-edge warm needs PRICING_EDGE_REDIS_URL")
    assert erp_calls == []


def test_sim_fault_takes_the_demos_port(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    erp_port = free_port()
    monkeypatch.setenv("PRICING_EDGE_ERP_URL", "http://127.0.0.1:9")  # not where the demo's simulator is
    with serve(erp_sim_app(Settings(erp_latency_ms=0)), erp_port) as erp:
        assert main(["sim", "fault", "erp", "--latency-ms", "250", "--port", str(erp_port - 2)]) == 0
        assert httpx.get(erp.base_url + "/_sim/faults", timeout=10).json()["latency_ms"] == 250
        assert main(["sim", "fault", "erp", "--clear", "--port", str(erp_port - 2)]) == 0
        assert httpx.get(erp.base_url + "/_sim/faults", timeout=10).json()["latency_ms"] == 0


def test_ops_takes_the_demos_port(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    worker_port = free_port()
    seen: list[str] = []

    async def worker(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append(scope["path"])
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"flows": {}}'})

    monkeypatch.setenv("PRICING_EDGE_WORKER_URL", "http://127.0.0.1:9")
    with serve(worker, worker_port):
        assert main(["ops", "status", "--json", "--port", str(worker_port - 3)]) == 0
    assert seen == ["/ops/status"]
    assert '"flows"' in capsys.readouterr().out


def _parsers(parser: argparse.ArgumentParser, path: str = "pricing-edge") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_command_subcommand_and_option_has_help_text() -> None:
    missing = []
    for path, parser in _parsers(build_parser()):
        if not parser.description:
            missing.append(f"{path}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{path} {c.dest}: no help" for c in action._choices_actions if not c.help]
            elif not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}: no help")
    assert missing == []


def test_sync_needs_redis_and_says_so() -> None:
    result = run_cli("sync", "prices", "--full")
    assert result.returncode == 2
    assert "pricing-edge sync needs PRICING_EDGE_REDIS_URL" in result.stderr


def test_sync_says_when_the_push_is_off() -> None:
    result = run_cli("sync", "prices", env={"PRICING_EDGE_BC_SYNC": "0", "PRICING_EDGE_REDIS_URL": "redis://127.0.0.1:9"})
    assert result.returncode == 2
    assert "push is off (PRICING_EDGE_BC_SYNC=0)" in result.stderr
