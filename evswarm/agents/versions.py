"""Version sets: which policy variant, instructions and model each agent runs.

The built-in sets live in `versions.yaml` beside this module, in the same format as a user's version
file (see `evswarm.core.versions`); `load_catalog(FILE)` resolves a user's file beside them. Planted
faults are code (`evswarm.agents.faults`): a version set switches them on by name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from evswarm.agents.faults import FAULTS, Fault
from evswarm.agents.swarm import default_instructions
from evswarm.core.version_catalog import VersionCatalog, Vocabulary, resolve_catalog
from evswarm.core.yaml_lines import read_yaml

BUILTIN_FILE = Path(__file__).with_name("versions.yaml")

__all__ = ["BUILTIN_FILE", "FAULTS", "Fault", "builtin_catalog", "describe", "load_catalog", "vocabulary"]


@cache
def vocabulary() -> Vocabulary:
    """What a version file may name: the swarm's agents, their built-in instructions, and the faults."""
    return Vocabulary(
        instructions=default_instructions(), faults={fault_id: f.agent_name for fault_id, f in FAULTS.items()}
    )


@cache
def builtin_catalog() -> VersionCatalog:
    """The built-in version sets alone."""
    return resolve_catalog(read_yaml(BUILTIN_FILE, what="version file"), None, vocabulary())


def load_catalog(path: Path | None) -> VersionCatalog:
    """The built-in version sets and, with `path`, the user's version file beside them.

    Any problem in the file (unknown agent, policy or fault, a cycle in `extends`, a missing instructions
    file, ...) raises an EvswarmError naming the file, line and field."""
    if path is None:
        return builtin_catalog()
    return resolve_catalog(
        read_yaml(BUILTIN_FILE, what="version file"), read_yaml(path, what="version file"), vocabulary()
    )


def describe(catalog: VersionCatalog | None = None) -> str:
    """A plain-text listing of every version set (with what it changes), fault and rogue window."""
    catalog = catalog or builtin_catalog()
    lines = ["Version sets (what each changes relative to the set it extends):"]
    for name, vs in catalog.sets.items():
        parent = f" (extends {vs.extends})" if vs.extends else ""
        changes = "; ".join(catalog.changes(name)) or "no change"
        lines.append(f"  {name:<12} {vs.description}{parent}: {changes}")
    lines.append("Faults (responsible agent: what goes wrong, when):")
    lines += [f"  {f.fault_id:<27} {f.agent_name}: {f.description}; trigger: {f.trigger}" for f in FAULTS.values()]
    return "\n".join(lines)
