"""The image's install steps, run here as the Dockerfile's build stage runs them (there is no Docker
daemon on this machine): its COPY instructions into a scratch root, then its RUN steps, with every
absolute path moved under that root. The result is a virtualenv holding the installed wheel."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.packaging.dockerfile import REPO, stages

VENV_IN_IMAGE = "/opt/pricing-edge"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The virtualenv the image ships, built by the Dockerfile's own steps from a copy of the sources.

    Its dependencies come from the test environment's site-packages (a ``.pth`` line, as
    ``--system-site-packages`` would, instead of downloading them again); pricing-edge itself is
    installed into it from the wheel, and nothing of the worktree is importable from it."""
    root = tmp_path_factory.mktemp("image")
    build = stages()[0]
    workdir = Path("/")
    for instruction in build.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = workdir / instruction.arguments.strip()
        elif instruction.keyword == "COPY":
            *sources, destination = instruction.words()
            target = _under(root, workdir / destination)
            for source in sources:
                _copy(REPO / source, target, into=destination.endswith("/") or len(sources) > 1)
    venv = _under(root, Path(VENV_IN_IMAGE))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    for instruction in build.all("RUN"):
        command = re.sub(r"(?<![\w.])/(?=\w)", f"{root}/", instruction.arguments)
        result = subprocess.run(["sh", "-c", command], cwd=_under(root, workdir), env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, f"RUN {instruction.arguments} failed:\n{result.stdout}\n{result.stderr}"
    return venv


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def _copy(source: Path, target: Path, *, into: bool) -> None:
    """As COPY does: a directory's contents go to the target; a file goes into it (``into``) or becomes it."""
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        return
    destination = target / source.name if into else target
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)
