"""Which change explains each member run: the pattern's own suspect interventions first, then, for the
failing runs none of them flips, the per-run cause search (`search.py`) over the run's components.

The result is one `RunCauseRow` per failing member run, so a pattern whose runs have different causes
is split into them, and a run whose cause no pattern suspect named still gets one, verified by its twin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Explanations:
    """What `explain_runs` found: one row per failing member run, the change that explains each explained
    run, and every twin the search made (run id, change's slug) -> (flipped, where), for reuse."""

    rows: list[RunCauseRow] = field(default_factory=list)
    changes: dict[str, Intervention] = field(default_factory=dict)
    searched: dict[tuple[str, str], tuple[bool, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rerunner:
    """Everything a re-run needs: the batch, where the twins go, how to grade them, the re-run options
    (`rerun_each`'s keywords)."""

    batch: Path
    analysis: Path
    manifest: BatchManifest
    grade: Callable[[Path], object]
    options: dict[str, Any] = field(default_factory=dict)

    def run(self, tests: dict[str, Intervention], out: Path, desc: str) -> tuple[dict[str, str], dict[str, LabelRow]]:
        """Re-run `tests` (run id -> its intervention) into `out`, grade what needs it, and return the runs
        whose re-run failed (run id -> error) and the twins' grades (run id -> label row)."""
        done = rerun_each(self.batch, self.manifest, tests, out, desc=desc, **self.options)
        grade_if_needed(out, self.grade)
        return {r: error for r, error in done.items() if error}, graded_twins(out)


def symptoms(row: LabelRow | None) -> list[str]:
    """A graded run's failing symptom kinds (none when it was not graded)."""
    return [] if row is None else [s.value for s in row.symptoms()]


def flipped(before: LabelRow | None, after: LabelRow | None) -> bool:
    """A failing run flips when its twin was graded (no error, and none of the run's failed rubrics
    crashed on the twin) and none of the run's failing symptoms remains in it. A twin that could not be
    graded never counts as a flip: a grader's failure is not a symptom gone."""
    was = symptoms(before)
    if not was or after is None or after.is_error:
        return False
    if before is not None and set(before.promptfoo_failed_checks) & set(after.promptfoo_error_checks):
        return False
    return not set(was) & set(symptoms(after))


def grade_if_needed(out: Path, grade: Callable[[Path], object]) -> None:
    """Grade the re-runs in `out` unless every bundle there already has its grade (or there is none)."""
    layout = BatchLayout(out)
    bundles = {p.stem for p in layout.bundle_paths()}
    if not bundles or (layout.labels.is_file() and {row.run_id for row in read_labels(layout.labels)} >= bundles):
        return
    grade(out)


def graded_twins(directory: Path) -> dict[str, LabelRow]:
    """Run id -> the grade of its twin in `directory` (none when the directory was never graded)."""
    path = BatchLayout(directory).labels
    return {row.run_id: row for row in read_labels(path)} if path.is_file() else {}


def explain_runs(
    rerunner: Rerunner,
    members: dict[str, int],
    labels: dict[str, LabelRow],
    explained: dict[str, Explained],
    reference: ResolvedVersionSet,
    notes: list[str],
    search: bool = True,
) -> Explanations:
    """One row per failing run of `members` (run id -> pattern id): the pattern intervention that flipped
    it (`explained`), else what the search finds (when `search`), else nothing. Re-runs that failed are
    added to `notes`."""
    analysis = rerunner.analysis
    failing = [r for r in sorted(members) if symptoms(labels.get(r))]
    twin_labels: dict[str, dict[str, LabelRow]] = {}

    def row(
        run_id: str, found_by: str, change: Intervention | None, where: str, reruns: int, why: str = ""
    ) -> RunCauseRow:
        if where and where not in twin_labels:
            twin_labels[where] = graded_twins(analysis / where)
        return RunCauseRow(
            run_id=run_id, pattern_id=members[run_id], found_by=found_by, intervention=change.slug if change else "",
            components=[component(c) for c in change.leaves] if change else [],
            description=change.describe() if change else why, reruns=reruns, counterfactual_dir=where,
            symptoms_before=symptoms(labels.get(run_id)),
            symptoms_after=symptoms(twin_labels[where].get(run_id)) if where else [],
        )  # fmt: skip

    rows = {
        r: row(r, "pattern", explained[r].intervention, explained[r].counterfactual_dir, 0)
        for r in failing
        if r in explained
    }
    found = Explanations(changes={r: explained[r].intervention for r in rows})
    open_runs = [r for r in failing if r not in rows]
    if not search:
        for run_id in open_runs:
            rows[run_id] = row(run_id, "unsearched", None, "", 0, "no pattern suspect removed its symptoms (no search)")
        found.rows = [rows[r] for r in failing]
        return found
    layout = BatchLayout(rerunner.batch)
    runs = {r: candidates(saved_bundle(layout, r), lambda name: revert(name, reference)) for r in open_runs}

    def test(round_no: int, tests: dict[str, Intervention]) -> dict[str, tuple[bool, str]]:
        out = round_dir(analysis, round_no)
        errors, twins = rerunner.run(tests, out, f"search round {round_no}")
        notes.extend(f"search round {round_no} {r}: {error}" for r, error in sorted(errors.items()))
        where = str(out.relative_to(analysis))
        return {r: (r not in errors and flipped(labels.get(r), twins.get(r)), where) for r in tests}

    for run_id, result in search_runs(runs, test).items():
        found.searched.update({(run_id, slug): seen for slug, seen in result.tested.items()})
        if result.intervention is None:
            rows[run_id] = row(
                run_id, "none", None, "", result.reruns, "nothing the search changed removed its symptoms"
            )
        else:
            rows[run_id] = row(run_id, "search", result.intervention, result.counterfactual_dir, result.reruns)
            found.changes[run_id] = result.intervention
    found.rows = [rows[r] for r in failing]
    return found
