"""Which change explains each member run: the pattern's own suspect interventions first, then, for the
failing runs none of them flips, the per-run cause search (`search.py`) over the run's components.

The result is one `RunCauseRow` per failing member run, so a pattern whose runs have different causes
is split into them, and a run whose cause no pattern suspect named still gets one, verified by its twin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evswarm.core.causes import RunCauseRow
from evswarm.core.labels import LabelRow, read_labels
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest
from evswarm.core.versions import ResolvedVersionSet
from evswarm.counterfactual.plan import revert
from evswarm.counterfactual.search import candidates, component, round_dir, search_runs
from evswarm.simulator.rerun import rerun_each, saved_bundle
from evswarm.world.intervention import Intervention


@dataclass(frozen=True)
class Explained:
    """A run a pattern intervention flipped: the intervention, and where its twin is."""

    pattern_id: int
    intervention: Intervention
    counterfactual_dir: str


def symptoms(row: LabelRow | None) -> list[str]:
    """A graded run's failing symptom kinds (none when it was not graded)."""
    return [] if row is None else [s.value for s in row.symptoms()]


def flipped(before: list[str], after: list[str]) -> bool:
    """A failing run flips when none of its failing symptoms remains in its twin."""
    return bool(before) and not set(before) & set(after)


def grade_if_needed(out: Path, grade: Callable[[Path], object]) -> None:
    """Grade the re-runs in `out` unless every bundle there already has its grade."""
    layout = BatchLayout(out)
    bundles = {p.stem for p in layout.bundle_paths()}
    if layout.labels.is_file() and {row.run_id for row in read_labels(layout.labels)} >= bundles:
        return
    grade(out)


def explain_runs(
    batch: Path,
    analysis: Path,
    manifest: BatchManifest,
    members: dict[str, int],
    labels: dict[str, LabelRow],
    explained: dict[str, Explained],
    reference: ResolvedVersionSet,
    grade: Callable[[Path], object],
    rerun_options: dict[str, Any],
    search: bool = True,
) -> list[RunCauseRow]:
    """One row per failing run of `members` (run id -> pattern id): the pattern intervention that flipped
    it (`explained`), else what the search finds (when `search`), else nothing."""
    failing = [r for r in sorted(members) if symptoms(labels.get(r))]
    rows: dict[str, RunCauseRow] = {}
    twin_labels: dict[str, dict[str, LabelRow]] = {}

    def after(run_id: str, where: str) -> list[str]:
        """The failing symptoms of the run's twin in `where` (relative to the analysis directory)."""
        if not where:
            return []
        if where not in twin_labels:
            path = BatchLayout(analysis / where).labels
            twin_labels[where] = {row.run_id: row for row in read_labels(path)} if path.is_file() else {}
        return symptoms(twin_labels[where].get(run_id))

    for run_id in failing:
        if run_id in explained:
            found = explained[run_id]
            rows[run_id] = RunCauseRow(
                run_id=run_id, pattern_id=members[run_id], found_by="pattern", intervention=found.intervention.slug,
                components=[component(c) for c in found.intervention.leaves],
                description=found.intervention.describe(), reruns=0, counterfactual_dir=found.counterfactual_dir,
                symptoms_before=symptoms(labels.get(run_id)), symptoms_after=after(run_id, found.counterfactual_dir),
            )  # fmt: skip
    open_runs = [r for r in failing if r not in rows]
    if search and open_runs:
        layout = BatchLayout(batch)
        runs = {r: candidates(saved_bundle(layout, r), lambda name: revert(name, reference)) for r in open_runs}

        def test(round_no: int, tests: dict[str, Intervention]) -> dict[str, tuple[bool, str]]:
            out = round_dir(analysis, round_no)
            errors = rerun_each(batch, manifest, tests, out, desc=f"search round {round_no}", **rerun_options)
            grade_if_needed(out, grade)
            twins = {row.run_id: row for row in read_labels(BatchLayout(out).labels)}
            where = str(out.relative_to(analysis))
            return {
                r: (errors.get(r) is None and flipped(symptoms(labels.get(r)), symptoms(twins.get(r))), where)
                for r in tests
            }

        for run_id, result in search_runs(runs, test).items():
            change = result.intervention
            rows[run_id] = RunCauseRow(
                run_id=run_id, pattern_id=members[run_id], found_by="search" if change else "none",
                intervention=change.slug if change else "", components=result.components,
                description=change.describe() if change else "nothing the search changed removed its symptoms",
                reruns=result.reruns, counterfactual_dir=result.counterfactual_dir,
                symptoms_before=symptoms(labels.get(run_id)), symptoms_after=after(run_id, result.counterfactual_dir),
            )  # fmt: skip
    for run_id in failing:
        rows.setdefault(
            run_id,
            RunCauseRow(
                run_id=run_id, pattern_id=members[run_id], found_by="none", intervention="", components=[],
                description="no pattern suspect removed its symptoms (the search was off)", reruns=0,
                counterfactual_dir="", symptoms_before=symptoms(labels.get(run_id)), symptoms_after=[],
            ),
        )  # fmt: skip
    return [rows[r] for r in failing]
