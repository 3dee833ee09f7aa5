"""Resolving version files into a catalog of version sets, with errors that name file, line and field.

`resolve_catalog` reads the built-in version file and, optionally, a user's, checks every name against
the swarm's vocabulary (agents, policy variants, faults), applies `extends` (refusing cycles), reads
instruction files, and resolves every agent of every set. The catalog also says what each set changes
relative to its parent, for `evswarm versions`.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from evswarm.core.errors import EvswarmError
from evswarm.core.versions import (
    STANDARD_POLICY,
    AgentSpec,
    InstructionsFile,
    ResolvedAgent,
    ResolvedVersionSet,
    VersionFile,
    VersionSetSpec,
    VersionSource,
    WindowSpec,
)
from evswarm.core.yaml_lines import Location, YamlDocument

ORCHESTRATOR = "Orchestrator"


@dataclass(frozen=True)
class Vocabulary:
    """What a version file may name: the swarm's agents with their built-in instructions, and the planted
    faults with the agent responsible for each."""

    instructions: Mapping[str, str]
    faults: Mapping[str, str]

    @property
    def agents(self) -> list[str]:
        return list(self.instructions)

    def variants(self, agent: str) -> list[str]:
        return [STANDARD_POLICY, *sorted(f for f, owner in self.faults.items() if owner == agent)]


@dataclass
class VersionCatalog:
    """Every version set available to a command, resolved, with the default schedule."""

    sets: dict[str, ResolvedVersionSet]
    schedule: dict[str, float]
    sources: list[VersionSource]
    root: ResolvedVersionSet
    """Every agent on its standard policy with its built-in instructions: what a set without `extends`
    starts from."""
    model_fields: dict[tuple[str, str], str] = field(default_factory=dict)
    """(set, agent) -> `file:line: field` of the `model` it runs on, for messages about that model."""

    def get(self, name: str, *, option: str = "--version-set") -> ResolvedVersionSet:
        if name not in self.sets:
            close = difflib.get_close_matches(name, list(self.sets), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise EvswarmError(
                f"unknown version set {name!r} ({option})",
                hint=f"{hint}known version sets: {', '.join(self.sets)} (see `evswarm versions`)",
            )
        return self.sets[name]

    def parent(self, name: str) -> ResolvedVersionSet | None:
        extends = self.sets[name].extends
        return self.sets[extends] if extends else None

    def changes(self, name: str) -> list[str]:
        """What set `name` changes relative to its parent (or, for a root set, to the built-in agents)."""
        return describe_changes(self.parent(name) or self.root, self.sets[name])


def describe_changes(before: ResolvedVersionSet, after: ResolvedVersionSet) -> list[str]:
    """One line per change from `before` to `after` (empty when they run the same agents the same way)."""
    lines: list[str] = []
    if after.orchestrator_mode != before.orchestrator_mode:
        lines.append(f"orchestrator mode {before.orchestrator_mode} → {after.orchestrator_mode}")
    old_windows = {w.id: w for w in before.rogue_windows}
    for window in after.rogue_windows:
        if old_windows.get(window.id) != window:
            lines.append(f"rogue window {window.id}: {window.fault} from {window.start} to {window.end}")
    for name, agent in after.agents.items():
        old = before.agents.get(name)
        if old is None or old.version != agent.version:
            lines += [f"{name}: {change}" for change in _agent_changes(old, agent)]
    return lines


def _model_text(agent: ResolvedAgent) -> str:
    if agent.model is None:
        return "the batch's --model"
    return agent.model + (f" at {agent.base_url}" if agent.base_url else "")


def _agent_changes(old: ResolvedAgent | None, new: ResolvedAgent) -> list[str]:
    if old is None:
        return ["added"]
    out = []
    if old.policy != new.policy:
        out.append(f"policy {old.policy} → {new.policy}")
    added = sorted(set(new.faults) - set(old.faults) - {new.policy})
    removed = sorted(set(old.faults) - set(new.faults) - {old.policy})
    if added:
        out.append(f"fault(s) switched on: {', '.join(added)}")
    if removed:
        out.append(f"fault(s) switched off: {', '.join(removed)}")
    if old.instructions != new.instructions:
        source = "inline" if new.instructions_source == "inline" else f"from {new.instructions_source}"
        out.append(f"instructions changed ({source}, {len(new.instructions)} characters)")
    if (old.model, old.base_url) != (new.model, new.base_url):
        out.append(f"model {_model_text(old)} → {_model_text(new)}")
    return out


@dataclass
class _Entry:
    name: str
    spec: VersionSetSpec
    doc: YamlDocument
    builtin: bool

    def loc(self, *parts: str | int) -> Location:
        return ("version_sets", self.name, *parts)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]}? " if close else ""


class _Resolver:
    def __init__(self, entries: dict[str, _Entry], vocab: Vocabulary) -> None:
        self.entries = entries
        self.vocab = vocab
        self.resolved: dict[str, ResolvedVersionSet] = {}
        self.model_fields: dict[tuple[str, str], str] = {}
        self.windows: dict[str, tuple[WindowSpec, _Entry]] = {}
        root_agents = {
            name: ResolvedAgent(
                instructions=text,
                instructions_source="built-in",
                orchestrator_mode="canonical" if name == ORCHESTRATOR else None,
            ).hashed()
            for name, text in vocab.instructions.items()
        }
        self.root = ResolvedVersionSet(name="", source="built-in", agents=root_agents)

    def resolve(self, name: str, chain: tuple[str, ...] = ()) -> ResolvedVersionSet:
        if name in self.resolved:
            return self.resolved[name]
        entry = self.entries[name]
        spec = entry.spec
        parent = self.root
        if spec.extends is not None:
            loop = (*chain, name)
            if spec.extends in loop:
                cycle = " → ".join((*loop[loop.index(spec.extends) :], spec.extends))
                raise entry.doc.error(entry.loc("extends"), f"a cycle in `extends`: {cycle}")
            if spec.extends not in self.entries:
                raise entry.doc.error(
                    entry.loc("extends"),
                    f"extends unknown version set {spec.extends!r}",
                    hint=f"{_suggest(spec.extends, list(self.entries))}known: {', '.join(self.entries)}",
                )
            parent = self.resolve(spec.extends, (*chain, name))
        self.resolved[name] = self._apply(entry, parent)
        return self.resolved[name]

    def _apply(self, entry: _Entry, parent: ResolvedVersionSet) -> ResolvedVersionSet:
        spec, vocab = entry.spec, self.vocab
        windows = {w.id: w for w in parent.rogue_windows}
        for n, window in enumerate(spec.rogue_windows):
            self._check_window(entry, n, window)
            windows[window.id] = window
        mode = spec.orchestrator_mode or parent.orchestrator_mode
        agents = dict(parent.agents)
        for agent_name, agent_spec in spec.agents.items():
            if agent_name not in vocab.instructions:
                raise entry.doc.error(
                    entry.loc("agents", agent_name),
                    f"unknown agent {agent_name!r}",
                    hint=f"{_suggest(agent_name, vocab.agents)}agents: {', '.join(vocab.agents)}",
                )
            agents[agent_name] = self._agent(entry, agent_name, agent_spec, agents[agent_name])
        for agent_name, agent in agents.items():
            mine = sorted((w for w in windows.values() if vocab.faults.get(w.fault) == agent_name), key=lambda w: w.id)
            update: dict[str, object] = {"rogue_windows": mine}
            if agent_name == ORCHESTRATOR:
                update["orchestrator_mode"] = mode
            agents[agent_name] = agent.model_copy(update=update).hashed()
        for agent_name, agent in agents.items():
            spec_here = spec.agents.get(agent_name)
            if spec_here is not None and spec_here.model is not None:
                loc = entry.loc("agents", agent_name, "model")
                self.model_fields[(entry.name, agent_name)] = entry.doc.where(loc)
            elif spec.extends is not None and (spec.extends, agent_name) in self.model_fields:
                self.model_fields[(entry.name, agent_name)] = self.model_fields[(spec.extends, agent_name)]
            if agent.base_url and not (agent.model or "").startswith("openai:"):
                raise entry.doc.error(
                    entry.loc("agents", agent_name, "base_url"), "base_url only applies with model: openai:MODEL"
                )
        return ResolvedVersionSet(
            name=entry.name,
            description=spec.description,
            extends=spec.extends,
            source="built-in" if entry.builtin else str(entry.doc.path),
            orchestrator_mode=mode,
            rogue_windows=list(windows.values()),
            agents=agents,
        )

    def _check_window(self, entry: _Entry, n: int, window: WindowSpec) -> None:
        if window.fault not in self.vocab.faults:
            raise entry.doc.error(
                entry.loc("rogue_windows", n, "fault"),
                f"unknown fault {window.fault!r}",
                hint=f"{_suggest(window.fault, list(self.vocab.faults))}faults: {', '.join(self.vocab.faults)}",
            )
        seen = self.windows.get(window.id)
        if seen is not None and seen[0] != window:
            other = seen[1].doc.where(seen[1].loc("rogue_windows"))
            raise entry.doc.error(
                entry.loc("rogue_windows", n, "id"),
                f"rogue window {window.id!r} is already defined differently ({other})",
                hint="give this window another id",
            )
        self.windows[window.id] = (window, entry)

    def _agent(self, entry: _Entry, agent_name: str, spec: AgentSpec, parent: ResolvedAgent) -> ResolvedAgent:
        vocab, doc = self.vocab, entry.doc
        variants = vocab.variants(agent_name)
        policy = spec.policy if spec.policy is not None else parent.policy
        if spec.policy is not None and spec.policy not in variants:
            owner = vocab.faults.get(spec.policy)
            why = f"{spec.policy!r} is a fault of {owner}" if owner else f"unknown policy {spec.policy!r}"
            raise doc.error(
                entry.loc("agents", agent_name, "policy"),
                f"{why}; {agent_name}'s policies are {', '.join(variants)}",
            )
        listed = spec.faults if spec.faults is not None else [f for f in parent.faults if f != parent.policy]
        for n, fault in enumerate(spec.faults or []):
            owner = vocab.faults.get(fault)
            if owner != agent_name:
                why = f"{fault!r} is a fault of {owner}, not {agent_name}" if owner else f"unknown fault {fault!r}"
                mine = [f for f in variants if f != STANDARD_POLICY]
                raise doc.error(
                    entry.loc("agents", agent_name, "faults", n),
                    why,
                    hint=f"{agent_name}'s faults: {', '.join(mine) or 'none'} (see `evswarm versions`)",
                )
        faults = sorted({*listed, *([policy] if policy != STANDARD_POLICY else [])})
        instructions, source = parent.instructions, parent.instructions_source
        if isinstance(spec.instructions, str):
            instructions, source = spec.instructions, "inline"
        elif isinstance(spec.instructions, InstructionsFile):
            instructions, source = self._read_instructions(entry, agent_name, spec.instructions)
        if not instructions.strip():
            raise doc.error(entry.loc("agents", agent_name, "instructions"), "instructions are empty")
        model, base_url = parent.model, parent.base_url
        if spec.model is not None:
            model, base_url = spec.model, None
        if spec.base_url is not None:
            base_url = spec.base_url
        return ResolvedAgent(
            policy=policy,
            faults=faults,
            instructions=instructions,
            instructions_source=source,
            model=model,
            base_url=base_url,
            orchestrator_mode=parent.orchestrator_mode,
        )

    def _read_instructions(self, entry: _Entry, agent_name: str, ref: InstructionsFile) -> tuple[str, str]:
        path = (entry.doc.path.parent / ref.file).resolve()
        loc = entry.loc("agents", agent_name, "instructions", "file")
        try:
            return path.read_text(encoding="utf-8"), ref.file
        except FileNotFoundError:
            raise entry.doc.error(loc, f"instructions file {ref.file} does not exist (looked for {path})") from None
        except UnicodeDecodeError:
            raise entry.doc.error(loc, f"instructions file {path} is not UTF-8 text") from None
        except OSError as exc:
            raise entry.doc.error(loc, f"cannot read instructions file {path}: {exc.strerror or exc}") from None


def parse_version_file(doc: YamlDocument) -> VersionFile:
    """Validate a parsed version file; the first problem raises an EvswarmError naming file, line and field."""
    if not isinstance(doc.data, dict):
        raise doc.error((), "a version file is a mapping with `format` and `version_sets`")
    if "format" not in doc.data:
        raise doc.error(("format",), "missing `format: evswarm.versions.v1`")
    try:
        return VersionFile.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def resolve_catalog(builtin: YamlDocument, user: YamlDocument | None, vocab: Vocabulary) -> VersionCatalog:
    """Resolve the built-in version file and, optionally, a user's beside it.

    A user's set may not reuse a built-in name with another definition (an identical copy is accepted,
    so a copy of the shipped file loads); the user's `schedule`, if any, replaces the built-in one."""
    entries: dict[str, _Entry] = {}
    schedule_doc, files = None, []
    for doc, is_builtin in ((builtin, True), (user, False)):
        if doc is None:
            continue
        parsed = parse_version_file(doc)
        files.append((doc, parsed))
        for name, spec in parsed.version_sets.items():
            if name in entries:
                if entries[name].spec == spec:
                    continue
                raise doc.error(
                    ("version_sets", name),
                    f"{name!r} is a built-in version set with another definition",
                    hint=f"give your set its own name and start from the built-in one: `extends: {name}`",
                )
            entries[name] = _Entry(name, spec, doc, is_builtin)
        if parsed.schedule is not None:
            schedule_doc = (doc, parsed.schedule)
    resolver = _Resolver(entries, vocab)
    sets = {name: resolver.resolve(name) for name in entries}
    schedule: dict[str, float] = {}
    if schedule_doc is not None:
        doc, raw = schedule_doc
        for name in raw:
            if name not in sets:
                raise doc.error(
                    ("schedule", name),
                    f"the schedule names unknown version set {name!r}",
                    hint=f"{_suggest(name, list(sets))}known: {', '.join(sets)}",
                )
        schedule = dict(raw)
    sources = [
        VersionSource(path="built-in" if doc is builtin else str(doc.path), sha256=_sha256(doc.path))
        for doc, _ in files
    ]
    return VersionCatalog(
        sets=sets, schedule=schedule, sources=sources, root=resolver.root, model_fields=resolver.model_fields
    )
