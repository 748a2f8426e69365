"""Reading the Dockerfile as the tests need it: its stages and their instructions (no daemon here to build it)."""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str

    def words(self) -> list[str]:
        """Exec form (a JSON array) or shell-form words."""
        text = self.arguments.strip()
        return list(json.loads(text)) if text.startswith("[") else shlex.split(text)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The Dockerfile's stages in order; line continuations joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    found: list[Stage] = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            words = arguments.split()
            found.append(Stage(words[0], words[2] if len(words) > 2 and words[1].upper() == "AS" else None))
        else:
            found[-1].instructions.append(Instruction(keyword.upper(), arguments))
    return found
