"""Test data read from ../shared, never copied: the vendors' specs (../shared/specs or PRICING_EDGE_SPECS_DIR)
and real clients' documents (../shared/clients or PRICING_EDGE_CLIENTS_DIR). Without them the tests that need
them skip — and fail under PRICING_EDGE_REQUIRE_SPECS=1, which CI sets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _shared_dir(variable: str, default: str) -> Path | None:
    configured = os.environ.get(variable)
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / default
    return candidate if candidate.is_dir() else None


def specs_dir() -> Path | None:
    return _shared_dir("PRICING_EDGE_SPECS_DIR", "specs")


def clients_dir() -> Path | None:
    return _shared_dir("PRICING_EDGE_CLIENTS_DIR", "clients")


def _missing(message: str) -> None:
    if os.environ.get("PRICING_EDGE_REQUIRE_SPECS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_spec(relative: str) -> Path:
    """The path of one spec file; skips (or fails under PRICING_EDGE_REQUIRE_SPECS=1) when absent."""
    base = specs_dir()
    path = base / relative if base else None
    if path is None or not path.exists():
        _missing(f"vendor spec {relative} not found: set PRICING_EDGE_SPECS_DIR or place the specs in ../shared/specs")
    assert path is not None
    return path


def require_client(relative: str) -> Path:
    """The path of one client's documents (a folder or file); skips (or fails under PRICING_EDGE_REQUIRE_SPECS=1)
    when absent."""
    base = clients_dir()
    path = base / relative if base else None
    if path is None or not path.exists():
        _missing(f"client documents {relative} not found: set PRICING_EDGE_CLIENTS_DIR or place them in "
                 "../shared/clients")
    assert path is not None
    return path
