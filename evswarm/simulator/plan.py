"""Which versions a batch runs: the resolved version sets it may draw from, as the batch runs them
(agents that name no model on `--model`), written to `versions.json` beside the bundles.

A batch is resumed only with the same versions: re-running into a directory after a version file
changed is refused with the sets and agents that differ.
"""

from __future__ import annotations

from pathlib import Path

from evswarm.agents.providers import ModelChoice, agent_models
from evswarm.agents.versions import load_catalog
from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_json, load_json
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest
from evswarm.core.version_catalog import VersionCatalog, describe_changes
from evswarm.core.versions import BatchVersions

AgentModelTable = tuple[tuple[str, tuple[tuple[str, ModelChoice], ...]], ...]
"""Per version set: (agent, model choice) for every agent (picklable, for worker jobs)."""

__all__ = [
    "AgentModelTable",
    "batch_versions",
    "load_catalog",
    "model_table",
    "read_batch_versions",
    "recorded_models",
    "versions_of",
    "with_reference",
]


def batch_versions(
    catalog: VersionCatalog, version_sets: list[str] | None, model: str, base_url: str | None
) -> BatchVersions:
    """The sets a batch may draw from (the named ones, else the schedule's), with `--model` filled in."""
    names = version_sets or list(catalog.schedule)
    if not names:
        raise EvswarmError("no version set to run: name one with --version-set, or give the file a `schedule`")
    used = {name: catalog.get(name).with_default_model(model, base_url) for name in dict.fromkeys(names)}
    schedule = None if version_sets else list(catalog.schedule.items())
    return BatchVersions(sources=catalog.sources, version_sets=used, schedule=schedule)


def model_table(catalog: VersionCatalog, versions: BatchVersions, default: ModelChoice) -> AgentModelTable:
    """Every agent's model choice per set, checked (an `openai:` model without a key is refused, naming
    the version file, line and field that asked for it)."""
    table = []
    for name, version in versions.version_sets.items():
        own = {agent for agent, spec in catalog.sets[name].agents.items() if spec.model is not None}
        where = {agent: catalog.model_fields.get((name, agent), f"{name}.{agent}.model") for agent in own}
        choices = agent_models(version, default, where)
        table.append(
            (name, tuple((agent, default if agent not in own else choice) for agent, choice in choices.items()))
        )
    return tuple(table)


def read_batch_versions(layout: BatchLayout) -> BatchVersions | None:
    """The batch's `versions.json`, or None for a batch made before versions were recorded."""
    if not layout.versions.is_file():
        return None
    try:
        return BatchVersions.model_validate(load_json(layout.versions))
    except ValueError as exc:
        raise EvswarmError(f"{layout.versions} is not a valid batch versions file: {exc}".splitlines()[0]) from exc


def record_batch_versions(layout: BatchLayout, wanted: BatchVersions) -> None:
    """Write `versions.json`, or check that the batch being resumed ran the same versions."""
    found = read_batch_versions(layout)
    if found is None:
        atomic_write_json(layout.versions, wanted.model_dump(mode="json"))
        return
    differs = []
    for name in sorted(set(found.version_sets) | set(wanted.version_sets)):
        old, new = found.version_sets.get(name), wanted.version_sets.get(name)
        if old is None or new is None:
            differs.append(f"{name} ({'not in the batch' if old is None else 'not asked for now'})")
        elif old.version != new.version:
            changes = "; ".join(describe_changes(old, new)) or "settings changed"
            differs.append(f"{name} ({changes})")
    if differs or found.schedule != wanted.schedule:
        raise EvswarmError(
            f"{layout.root} holds a batch made with other versions: {', '.join(differs) or 'another schedule'}",
            hint="use another --out directory, or restore the version file the batch was made with",
        )


def versions_of(layout: BatchLayout, manifest: BatchManifest) -> BatchVersions:
    """The versions a batch ran: its `versions.json`, else (a batch made before versions were recorded)
    resolved again from the version file its manifest names, or the built-in sets."""
    recorded = read_batch_versions(layout)
    if recorded is not None:
        return recorded
    source = Path(manifest.versions_file) if manifest.versions_file else None
    return batch_versions(load_catalog(source), manifest.version_sets, manifest.model, manifest.base_url)


def recorded_models(versions: BatchVersions, default: ModelChoice) -> AgentModelTable:
    """Every agent's model choice per set, as recorded in `versions` (each agent's model filled in)."""
    return tuple(
        (name, tuple(agent_models(version, default).items())) for name, version in versions.version_sets.items()
    )


def with_reference(
    versions: BatchVersions, manifest: BatchManifest, reference: str, source: Path | None = None
) -> BatchVersions:
    """`versions` with the version set `reference` among its sets, resolved (when the batch did not run it)
    from the version file `source`, else the batch's own, else the built-in sets, on the batch's model: the
    set an intervention swaps an agent's version in from. Which set each run draws does not change.
    EvswarmError naming the known sets when there is no such set."""
    if reference in versions.version_sets:
        return versions
    source = source or (Path(manifest.versions_file) if manifest.versions_file else None)
    catalog = load_catalog(source)
    if reference not in catalog.sets:
        raise EvswarmError(
            f"unknown reference version set {reference!r}",
            hint=f"known version sets: {', '.join(catalog.sets)}",
        )
    resolved = catalog.get(reference).with_default_model(manifest.model, manifest.base_url)
    return versions.model_copy(update={"version_sets": {**versions.version_sets, reference: resolved}})
