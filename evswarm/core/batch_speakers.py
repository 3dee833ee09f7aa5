"""`DIR/speakers.json` (format `evswarm.speakers.v1`): the speakers an import was told the kind of.

`evswarm import --agent NAME --person NAME` settles a speaker's kind where the name rule of
`evswarm.core.speakers` is wrong about it, and records the names here so that later stages of the same batch
agree: `analyze` may blame the agents named here and never blames the people, as if given `--blame NAME` and
`--never-blame NAME`. Written by `import` (merged with what an earlier import into the same directory named; a
name's latest kind wins), read by `analyze`. A batch without the file names nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evswarm.core.errors import EvswarmError, first_problem
from evswarm.core.io import atomic_write_json, load_json

SPEAKERS_FORMAT: Literal["evswarm.speakers.v1"] = "evswarm.speakers.v1"
SPEAKERS_FILE = "speakers.json"


class NamedSpeakers(BaseModel):
    """Speaker names (as given, compared without case) whose kind an import settled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["evswarm.speakers.v1"] = SPEAKERS_FORMAT
    agents: list[str] = Field(default_factory=list, description="speakers that are agents whatever their names")
    people: list[str] = Field(default_factory=list, description="speakers that are people whatever their names")

    def merged(self, agents: Iterable[str], people: Iterable[str]) -> NamedSpeakers:
        """These names with `agents` and `people` added; a name given again takes its new kind."""
        agents, people = list(agents), list(people)
        new = {n.strip().lower() for n in [*agents, *people]}

        def kept(names: list[str]) -> list[str]:
            return [n for n in names if n.strip().lower() not in new]

        def unique(names: list[str]) -> list[str]:
            seen: dict[str, str] = {}
            for n in names:
                seen.setdefault(n.strip().lower(), n.strip())
            return sorted(seen.values(), key=str.lower)

        return NamedSpeakers(agents=unique([*kept(self.agents), *agents]), people=unique([*kept(self.people), *people]))


def read_named(root: Path) -> NamedSpeakers:
    """The names recorded in batch directory `root` (none when it has no `speakers.json`). A bad file raises an
    EvswarmError naming the file and the field."""
    path = Path(root) / SPEAKERS_FILE
    if not path.is_file():
        return NamedSpeakers()
    try:
        return NamedSpeakers.model_validate(load_json(path))
    except ValidationError as exc:
        raise EvswarmError(f"{path}: {first_problem(exc)}", hint="fix or delete the file, then import again") from exc


def record_named(root: Path, agents: Iterable[str], people: Iterable[str]) -> None:
    """Add these names to `root`'s `speakers.json` (atomically; created when missing)."""
    atomic_write_json(Path(root) / SPEAKERS_FILE, read_named(root).merged(agents, people).model_dump(mode="json"))
