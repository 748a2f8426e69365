"""The vendors' specs are test data read from ../shared/specs (or PRICING_EDGE_SPECS_DIR), never copied."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def specs_dir() -> Path | None:
    configured = os.environ.get("PRICING_EDGE_SPECS_DIR")
    candidates = [Path(configured)] if configured else [REPO_ROOT.parent / "shared" / "specs"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def require_spec(relative: str) -> Path:
    """The path of one spec file; skips (or fails under PRICING_EDGE_REQUIRE_SPECS=1) when absent."""
    base = specs_dir()
    path = base / relative if base else None
    if path is None or not path.exists():
        message = (
            f"vendor spec {relative} not found: set PRICING_EDGE_SPECS_DIR or place the specs in ../shared/specs"
        )
        if os.environ.get("PRICING_EDGE_REQUIRE_SPECS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
