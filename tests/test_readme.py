"""The README as a new user reads it: every link leads to a file in the repository, and what it tells
them to type exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pricing_edge.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "helm").rglob("README.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_in_the_repository(document: Path) -> None:
    for target in LINK.findall(document.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor
        path = (document.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(REPO) and path.exists(), f"{document.name} links {target}, which is not in the repo"


def test_the_readme_shows_the_demo_on_another_port_and_every_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo PORT=" in readme
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    for name in commands:
        assert f"`pricing-edge {name}" in readme, f"`pricing-edge {name}` is not in the README's commands"
