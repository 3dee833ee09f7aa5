"""Who a trace's speakers are, and which of them attribution may blame.

A speaker (a step's agent name) is one of three kinds:
- `people`: a person or a stand-in for one: `user`, `human`, `customer`, `person` (a chat log's user
  turns, a simulated user);
- `terminals`: a speaker that runs what others wrote and reports the outcome: a name with the word
  `terminal`, `executor`, `interpreter`, `shell` or `console` in it (`Computer_terminal`, `code_executor`,
  `PythonInterpreter`); its output is evidence about the step that wrote the code, not a decision;
- `agents`: every other speaker.

By default only agents are blamed; `Blameable` widens that (`evswarm analyze --also-blame people
--also-blame terminals`) or names speakers never to blame (`--never-blame NAME`). Attribution and its
baselines use the same rule, so they are compared on the same steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

SpeakerKind = Literal["agents", "people", "terminals"]
KINDS: tuple[SpeakerKind, ...] = ("agents", "people", "terminals")
PEOPLE = frozenset({"user", "human", "customer", "person"})
TERMINAL_WORDS = frozenset({"terminal", "executor", "interpreter", "shell", "console"})
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORD_BREAK = re.compile(r"[^a-z]+")


@lru_cache(maxsize=4096)
def speaker_kind(name: str) -> SpeakerKind:
    """The kind of speaker `name` is (see the module docstring)."""
    if name.strip().lower() in PEOPLE:
        return "people"
    words = set(_WORD_BREAK.split(_CAMEL.sub(r"\1 \2", name).lower()))
    return "terminals" if words & TERMINAL_WORDS else "agents"


@dataclass(frozen=True)
class Blameable:
    """Which speakers attribution may name: those of `kinds`, except the names in `never`."""

    kinds: frozenset[SpeakerKind] = frozenset({"agents"})
    never: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, also: Iterable[str] = (), never: Iterable[str] = ()) -> Blameable:
        """Agents, and the kinds in `also` (`people`, `terminals`), minus the speakers named in `never`."""
        also, never = set(also), set(never)
        unknown = sorted(also - set(KINDS))
        if unknown:
            raise ValueError(f"unknown speaker kind(s) {', '.join(unknown)}: expected {', '.join(KINDS[1:])}")
        return cls(frozenset({"agents", *also}), frozenset(never))  # type: ignore[arg-type]

    def allows(self, name: str | None) -> bool:
        """True when a step spoken by `name` may be blamed (no name: never)."""
        return bool(name) and name not in self.never and speaker_kind(str(name)) in self.kinds
