"""`evswarm replay`: re-execute saved runs through the SDK Runner from their recorded model calls.

The world of each run is regenerated from the batch manifest (seed, version sets) and checked against
what the bundle recorded; the recorded model outputs then drive the same agents, tools and guardrails.
With `verify`, the replayed trace is compared with the saved one and the first difference is named.
"""

from __future__ import annotations

import asyncio
import functools
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from tqdm import tqdm

from evswarm.core.bundle import Bundle
from evswarm.core.compare import diff_bundles, first_difference
from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.io import parse_bundle, read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest, read_manifest
from evswarm.core.version_catalog import describe_changes
from evswarm.core.versions import BatchVersions, ResolvedVersionSet
from evswarm.simulator.cases import generate
from evswarm.simulator.plan import batch_versions, load_catalog, read_batch_versions
from evswarm.world.scenario import Scenario

if TYPE_CHECKING:
    from evswarm.agents.runner import RunEnvironment


@dataclass
class RunReplay:
    run_id: str
    outcome: str
    """`match` (verified identical), `replayed` (not verified), `mismatch`, or `error` (cannot be replayed)."""
    detail: str | None = None


@dataclass
class ReplayReport:
    runs: list[RunReplay] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.runs)


def _manifest(layout: BatchLayout) -> BatchManifest:
    if not layout.manifest.exists():
        raise EvswarmError(
            f"{layout.manifest} is missing: replay needs the batch manifest to rebuild each run's world",
            hint="replay a directory written by `evswarm simulate` (it writes batch.json)",
        )
    return read_manifest(layout.manifest)


def _run_index(bundle: Bundle) -> int:
    try:
        return int(bundle.run.config_id.rsplit("_", 1)[1])
    except (IndexError, ValueError) as exc:
        raise BundleError(f"config_id {bundle.run.config_id!r} does not name a run index") from exc


def world_mismatch(saved: Bundle, scenario: Scenario, version: ResolvedVersionSet | None = None) -> str | None:
    """Where the regenerated world (or, given `version`, an agent's version) departs from the one the run
    was recorded in."""
    if scenario.run_id != saved.run.run_id:
        return f"run id regenerates as {scenario.run_id}"
    summary = saved.run.summary
    recorded = summary.agent_versions or {}
    for agent, hashed in (version.agent_versions if version else {}).items():
        if agent in recorded and recorded[agent] != hashed:
            return f"run.summary.agent_versions.{agent}: recorded version {recorded[agent]}, now {hashed}"
    for key, now in (
        ("agent_version_set", scenario.version_set),
        ("orchestrator_mode", scenario.orchestrator_mode),
        ("rogue_window_id", scenario.rogue_window_id),
    ):
        if getattr(summary, key) != now:
            return f"run.summary.{key}: recorded {getattr(summary, key)!r}, regenerates as {now!r}"
    found = first_difference(saved.run.config.model_dump(mode="json"), scenario.order.model_dump(mode="json"), "config")
    if found:
        return found
    return first_difference(
        [e.model_dump(mode="json") for e in saved.environment_events],
        [e.model_dump(mode="json") for e in scenario.signals],
        "environment_events",
    )


@dataclass(frozen=True)
class SavedRun:
    """Where one saved bundle is: a file under bundles/, or a member of bundles.zip."""

    name: str
    """The run's file stem (its run id when written by `evswarm simulate`)."""
    read: Callable[[], Bundle]


def _from_archive(layout: BatchLayout, name: str) -> Bundle:
    """Member `name` of the batch's bundles.zip, parsed; BundleError naming `archive!name` otherwise."""
    source = f"{layout.archive}!{name}"
    try:
        raw = layout.saved_bundle(PurePosixPath(name).stem)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(f"cannot read bundle {source}: {exc}") from exc
    if raw is None:
        raise BundleError(f"cannot read bundle {source}: it is gone from the archive")
    return parse_bundle(raw, source=source)


def saved_runs(layout: BatchLayout) -> list[SavedRun]:
    """The batch's bundles: the files in bundles/, else the members of bundles.zip; EvswarmError if neither."""
    if layout.bundles_dir.is_dir():
        return [SavedRun(p.stem, functools.partial(read_bundle, p)) for p in layout.bundle_paths()]
    if layout.archive.is_file():
        try:
            names = layout.archived_bundles()
        except (OSError, zipfile.BadZipFile) as exc:
            raise EvswarmError(f"{layout.archive} is not a readable zip archive ({exc})") from exc
        return [SavedRun(PurePosixPath(n).stem, functools.partial(_from_archive, layout, n)) for n in names]
    raise EvswarmError(
        f"{layout.root} has no bundles/ directory and no bundles.zip",
        hint="point replay at an `evswarm simulate` output (or the shipped data/)",
    )


class _Environments:
    """One replay environment per version set (its agents' instructions), all answering from one script."""

    def __init__(self, versions: BatchVersions) -> None:
        from evswarm.agents.replay import ReplayProvider

        self.versions = versions
        self.provider = ReplayProvider()
        self._envs: dict[str, RunEnvironment] = {}

    def get(self, version_set: str) -> RunEnvironment:
        from evswarm.agents.runner import RunEnvironment

        if version_set not in self._envs:
            self._envs[version_set] = RunEnvironment.create(self.provider, self.versions.version_sets[version_set])
        env = self._envs[version_set]
        env.activate()
        return env


async def _replay_one(run: SavedRun, manifest: BatchManifest, verify: bool, envs: _Environments) -> RunReplay:
    from evswarm.agents.replay import ReplayDivergenceError, recorded_failure
    from evswarm.agents.runner import run_scenario

    try:
        saved = run.read()
        index = _run_index(saved)
    except BundleError as exc:
        return RunReplay(run.name, "error", str(exc))
    run_id = saved.run.run_id
    failure = recorded_failure(saved)
    if not saved.model_calls and failure is None:
        return RunReplay(run_id, "error", "the bundle has no recorded model calls, so it cannot be replayed")
    if saved.seed is None or saved.oracle is None:
        return RunReplay(
            run_id, "error", "the bundle was not made by `evswarm simulate`, so its world cannot be rebuilt"
        )
    scenario = generate(
        saved.seed, index, version_sets=manifest.version_sets, batch_label=manifest.batch_label, versions=envs.versions
    )
    changed = world_mismatch(saved, scenario, envs.versions.version_sets[scenario.version_set])
    if changed:
        return RunReplay(run_id, "error", f"the world changed since recording: {changed}")
    env = envs.get(scenario.version_set)
    script = envs.provider.load(saved.model_calls, failure)
    try:
        replayed = await run_scenario(scenario, saved.oracle, env)
    except ReplayDivergenceError as exc:
        hint = f" (first sign: {script.input_mismatches[0]})" if script.input_mismatches else ""
        return RunReplay(run_id, "mismatch", f"{exc}{hint}")
    if not verify:
        return RunReplay(run_id, "replayed")
    if saved.run.summary.agent_versions is None:  # recorded before agent versions were: nothing to compare
        replayed.run.summary.agent_versions = None
    difference = diff_bundles(saved, replayed)
    if difference is None and script.position != len(saved.model_calls):
        difference = f"the replay used {script.position} of {len(saved.model_calls)} recorded model calls"
    if difference:
        hint = f" (first sign: {script.input_mismatches[0]})" if script.input_mismatches else ""
        return RunReplay(run_id, "mismatch", difference + hint)
    return RunReplay(run_id, "match")


def _versions(layout: BatchLayout, manifest: BatchManifest, versions: Path | None) -> BatchVersions:
    """The versions to replay with: the batch's own record (`versions.json`), or those resolved from
    `versions` (checked against the record: a set whose agents changed is named)."""
    recorded = read_batch_versions(layout)
    if versions is None and recorded is not None:
        return recorded
    source = versions if versions is not None else (Path(manifest.versions_file) if manifest.versions_file else None)
    catalog = load_catalog(source)
    wanted = batch_versions(catalog, manifest.version_sets, manifest.model, manifest.base_url)
    if recorded is not None:
        for name, old in recorded.version_sets.items():
            new = wanted.version_sets.get(name)
            if new is None:
                raise EvswarmError(f"{versions} does not define version set {name!r}, which the batch ran")
            if new.version != old.version:
                changes = "; ".join(describe_changes(old, new)) or "settings changed"
                raise EvswarmError(
                    f"version set {name} in {versions} differs from the one the batch ran: {changes}",
                    hint=f"replay without --versions to use the batch's own record ({layout.versions})",
                )
    return wanted


def replay(
    batch_dir: Path,
    *,
    verify: bool = False,
    limit: int | None = None,
    progress: bool = True,
    versions: Path | None = None,
) -> ReplayReport:
    """Replay every bundle of a batch (or the first `limit`) from its recorded model calls.

    The versions come from the batch's `versions.json`; with `versions` (a version file) they are resolved
    from it instead, and a set that differs from what the batch ran is refused with what changed."""
    layout = BatchLayout(batch_dir)
    if not layout.root.is_dir():
        raise EvswarmError(f"batch directory {batch_dir} does not exist")
    if limit is not None and limit < 1:
        raise EvswarmError(f"--limit must be at least 1 (got {limit})")
    runs = saved_runs(layout)[:limit]
    manifest = _manifest(layout)
    batch = _versions(layout, manifest, versions)
    if not runs:
        raise EvswarmError(f"{batch_dir} holds no bundles")
    envs = _Environments(batch)
    report = ReplayReport()

    async def run_all() -> None:
        for run in tqdm(runs, unit="run", desc="replay", disable=not progress, dynamic_ncols=True):
            report.runs.append(await _replay_one(run, manifest, verify, envs))

    asyncio.run(run_all())
    return report
