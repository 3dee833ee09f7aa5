"""Who a trace's speakers are, and which of them attribution may blame.

A speaker (a step's agent name) is one of three kinds, told from the words of its name (split at `_`, `-`,
spaces and camel case, lowercased):
- `people`: a person or a stand-in for one: a name with the word `user`, `human`, `customer` or `person`
  (`user`, `simulated_user`, `EndUser`, `user_proxy`);
- `terminals`: a speaker that runs what others wrote and reports the outcome: a name with the word
  `terminal`, `executor`, `interpreter`, `shell` or `console` (`Computer_terminal`, `code_executor`,
  `PythonInterpreter`); its output is evidence about the step that wrote the code, not a decision;
- `agents`: every other speaker, and any name that also has the word `agent`, `expert`, `assistant`,
  `planner`, `gpt` or `llm` (`CustomerCommsAgent`, `Linux_Terminal_Expert`, `ShellGPT` are agents).

The rule reads names only, so it can be wrong about yours. On import, `named_speakers` (`evswarm import
--agent NAME --person NAME`) settles a name's kind whatever its words, and the batch keeps the names
(`evswarm.core.batch_speakers`) for `analyze`; in analysis, attribution blames agents by default, and
`Blameable` widens that by kind (`evswarm analyze --also-blame people --also-blame terminals`) or by name
(`--blame NAME`), or takes a speaker out (`--never-blame NAME`; names compare without case). The analysis
notes list the speakers it did not blame. Attribution and its baselines count the same speakers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

SpeakerKind = Literal["agents", "people", "terminals"]
KINDS: tuple[SpeakerKind, ...] = ("agents", "people", "terminals")
PEOPLE_WORDS = frozenset({"user", "human", "customer", "person"})
TERMINAL_WORDS = frozenset({"terminal", "executor", "interpreter", "shell", "console"})
AGENT_WORDS = frozenset({"agent", "expert", "assistant", "planner", "gpt", "llm"})
_CAMEL = re.compile(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])")
_WORD_BREAK = re.compile(r"[^a-z]+")


def _words(name: str) -> set[str]:
    spaced = _CAMEL.sub(lambda m: f"{m.group(1) or m.group(3)} {m.group(2) or m.group(4)}", name)
    return set(_WORD_BREAK.split(spaced.lower())) - {""}


TURN_SPAN_TYPES = frozenset({"generation", "response", "handoff", "guardrail"})
"""Bundle span types that are a speaker's own turn (its model output, a handoff it makes, its guardrail):
the steps attribution can blame on a speaker, and the turns its baselines count."""


_NAMED: ContextVar[tuple[frozenset[str], frozenset[str]]] = ContextVar(
    "evswarm_named_speakers", default=(frozenset(), frozenset())
)


@contextmanager
def named_speakers(agents: Iterable[str] = (), people: Iterable[str] = ()) -> Iterator[None]:
    """Within the block, the speakers named in `agents` are agents and those in `people` people, whatever the
    words of their names (names compare without case). Raises ValueError for a name in both."""
    named = (_folded(agents, "agents"), _folded(people, "people"))
    both = sorted(named[0] & named[1])
    if both:
        raise ValueError(f"{', '.join(both)}: named both an agent and a person")
    token = _NAMED.set(named)
    try:
        yield
    finally:
        _NAMED.reset(token)


def named_twice(agents: Iterable[str], people: Iterable[str]) -> list[str]:
    """The names (lowercased) given both as agents and as people."""
    return sorted(_folded(agents, "agents") & _folded(people, "people"))


def named_kind(name: str) -> SpeakerKind | None:
    """The kind `named_speakers` gives `name` in the current block, None when it names it not."""
    agents, people = _NAMED.get()
    if agents or people:
        folded = name.strip().lower()
        if folded in agents:
            return "agents"
        if folded in people:
            return "people"
    return None


def speaker_kind(name: str) -> SpeakerKind:
    """The kind of speaker `name` is (see the module docstring; `named_speakers` first)."""
    return named_kind(name) or _kind_by_words(name)


@lru_cache(maxsize=4096)
def _kind_by_words(name: str) -> SpeakerKind:
    words = _words(name)
    if words & AGENT_WORDS:
        return "agents"
    if words & PEOPLE_WORDS:
        return "people"
    return "terminals" if words & TERMINAL_WORDS else "agents"


def is_person(name: str) -> bool:
    """Whether `name` is a person's or a stand-in's (`speaker_kind` is `people`)."""
    return speaker_kind(name) == "people"


def _folded(names: Iterable[str], option: str) -> frozenset[str]:
    if isinstance(names, str):
        raise ValueError(f"{option} takes a list of names, not the string {names!r}")
    return frozenset(str(n).strip().lower() for n in names)


@dataclass(frozen=True)
class Blameable:
    """Which speakers attribution may name: those of `kinds` and those named in `always`, except the names in
    `never` (names lowercased)."""

    kinds: frozenset[SpeakerKind] = frozenset({"agents"})
    never: frozenset[str] = field(default_factory=frozenset)
    always: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, also: Iterable[str] = (), never: Iterable[str] = (), always: Iterable[str] = ()) -> Blameable:
        """Agents, the kinds in `also` (`people`, `terminals`) and the speakers named in `always`, minus the
        speakers named in `never`."""
        kinds = _folded(also, "also_blame")
        unknown = sorted(kinds - set(KINDS))
        if unknown:
            raise ValueError(f"unknown speaker kind(s) {', '.join(unknown)}: expected {', '.join(KINDS[1:])}")
        return cls(
            frozenset({"agents", *kinds}),  # type: ignore[arg-type]  # checked against KINDS above
            _folded(never, "never_blame"),
            _folded(always, "blame"),
        )

    def allows(self, name: object) -> bool:
        """True when a step spoken by `name` may be blamed (no name, or a missing one: never)."""
        if not isinstance(name, str) or not name:
            return False
        folded = name.strip().lower()
        if folded in self.never:
            return False
        return folded in self.always or speaker_kind(name) in self.kinds

    def left_out(self, names: Iterable[object]) -> list[str]:
        """The names among `names` this rule does not blame, sorted."""
        return sorted({n for n in names if isinstance(n, str) and n and not self.allows(n)})
