"""The container image: a multi-stage Dockerfile that hadolint passes, whose final stage is only the
virtualenv the build stage made (slim base, no build tools, no sources), run as a non-root user with a
HEALTHCHECK and ``pricing-edge`` as its entry point — and whose install steps work."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.packaging.conftest import VENV_IN_IMAGE
from tests.packaging.dockerfile import DOCKERFILE, REPO, stages

HADOLINT = Path(sys.executable).with_name("hadolint")


def test_hadolint_passes_the_dockerfile() -> None:
    binary = shutil.which("hadolint") or str(HADOLINT)
    result = subprocess.run([binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_final_stage_is_a_slim_python_with_only_the_built_virtualenv_run_as_non_root() -> None:
    build, final = stages()
    assert build.name == "build" and build.base == final.base and final.base.startswith("python:3.11-slim")
    assert [i.words() for i in final.all("COPY")] == [["--from=build", VENV_IN_IMAGE, VENV_IN_IMAGE]]
    assert final.all("RUN") and all("apt-get" not in i.arguments and "pip" not in i.arguments
                                    for i in final.all("RUN"))  # nothing built or fetched in the final stage
    (user,) = final.all("USER")
    assert user.arguments.split(":")[0] not in ("root", "0")
    assert final.all("HEALTHCHECK") and "/healthz" in " ".join(i.arguments for i in final.instructions)
    (entrypoint,) = final.all("ENTRYPOINT")
    assert entrypoint.words() == ["pricing-edge"]
    (command,) = final.all("CMD")
    assert command.words()[:3] == ["serve", "--host", "0.0.0.0"]


def test_the_docker_context_holds_what_the_build_stage_copies_and_nothing_else() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    copied = {word.rstrip("/") for i in stages()[0].all("COPY") for word in i.words()[:-1]}
    assert ignored[ignored.index("*")] == "*"  # everything else stays out (.venv, tests, docs, .git)
    assert {c.split("/")[0] for c in copied} == allowed


def test_the_build_steps_install_a_working_pricing_edge(installed: Path, tmp_path: Path) -> None:
    """One image runs every command: each answers --help from the installed copy."""
    for command in (["serve"], ["worker"], ["warm"], ["demo"], ["sim", "erp"], ["sim", "bigcommerce"],
                    ["ops", "status"], ["fixtures"]):
        result = subprocess.run([str(installed / "bin" / "pricing-edge"), *command, "--help"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: pricing-edge {' '.join(command)}")
