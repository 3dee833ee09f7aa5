"""`verify()`: re-run each top pattern's member runs under one intervention per suspect, grade the re-runs
like any batch, and say which suspects are causes.

For a (pattern, intervention), a member run *flips* when none of its failing symptoms (the symptom kinds
of its failed rubrics' findings) remains in its re-run. The flip rate comes with a 95% Wilson interval;
the verdict is `confirmed` when the interval's low end is at least `CONFIRMED` and `partial` when the
rate is at least `PARTIAL`, else `rejected` (`verdict.py`). A control (no intervention) re-runs the same runs and must
reproduce them byte for byte: offline runs are deterministic, and the control shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from evswarm.compute import Backend, check_backend
from evswarm.core.analysis import TracePatternRow, read_table, remove_table, write_table
from evswarm.core.causes import TWINS_DIR, VERIFIED_TABLES, CauseRow, CounterfactualRunRow, RunCauseRow
from evswarm.core.errors import EvswarmError
from evswarm.core.labels import LabelRow, read_labels
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest, read_manifest
from evswarm.counterfactual.plan import PatternPlan, plan
from evswarm.counterfactual.report import clear_section, write_section
from evswarm.counterfactual.runs import (
    Explained,
    Rerunner,
    explain_runs,
    flipped,
    symptoms,
)
from evswarm.counterfactual.splits import (
    CHECKS,
    check_dir,
    control_reproduced,
    seen_twins,
    split_verdicts,
    splits_of,
)
from evswarm.counterfactual.verdict import verdict
from evswarm.simulator.cases import generate
from evswarm.simulator.plan import versions_of, with_reference
from evswarm.simulator.replay import world_mismatch
from evswarm.simulator.rerun import run_index, saved_bundle, saved_bytes
from evswarm.world.intervention import Intervention


@dataclass
class VerifyReport:
    causes: list[CauseRow] = field(default_factory=list)
    runs: list[CounterfactualRunRow] = field(default_factory=list)
    run_causes: list[RunCauseRow] = field(default_factory=list)
    """What explains each failing member run (`runs.explain_runs`)."""
    notes: list[str] = field(default_factory=list)
    table_paths: list[Path] = field(default_factory=list)
    report_path: Path | None = None
    """The analysis's report.html, when its "Verified causes" section was filled in."""

    @property
    def split_reruns(self) -> int:
        """Re-runs the split verdicts' checks needed beyond the pattern interventions' and the search's."""
        return sum(c.check_reruns for c in self.causes if c.scope == "split")


def _check(batch: Path, analysis: Path, model: str | None) -> tuple[BatchManifest, dict[str, LabelRow]]:
    layout = BatchLayout(batch)
    if not batch.is_dir():
        raise EvswarmError(f"batch directory {batch} does not exist")
    if not layout.manifest.is_file():
        raise EvswarmError(
            f"{batch} has no batch.json: verify re-runs a batch `evswarm simulate` made",
            hint="recorded and imported traces cannot be re-executed",
        )
    manifest = read_manifest(layout.manifest)
    if manifest.model != "offline" and model is None:
        raise EvswarmError(
            f"{batch} was recorded on {manifest.model}: re-running its runs needs a model, so nothing was verified",
            hint="pass --model openai:MODEL (and OPENAI_API_KEY) to re-run on a real model",
        )
    if not (analysis / "trace_patterns.json").is_file():
        raise EvswarmError(f"{analysis} holds no analysis", hint=f"run `evswarm analyze {batch} --out {analysis}`")
    if not layout.labels.is_file():
        raise EvswarmError(f"{batch} has no grades", hint=f"run `evswarm grade {batch}` (verify compares symptoms)")
    members = [row.run_id for row in read_table(analysis, TracePatternRow)]
    strangers = [r for r in members if saved_bytes(layout, r) is None]
    if strangers:
        raise EvswarmError(
            f"{analysis} is an analysis of another batch: {len(strangers)} of its runs are not in {batch} "
            f"(e.g. {strangers[0]})",
            hint="point --analysis at the output of `evswarm analyze` on this batch",
        )
    labels = {row.run_id: row for row in read_labels(layout.labels)}
    return manifest, labels


def _same_world(batch: Path, manifest: BatchManifest, run_id: str) -> None:
    layout = BatchLayout(batch)
    saved = saved_bundle(layout, run_id)
    versions = versions_of(layout, manifest)
    scenario = generate(manifest.seed, run_index(saved.run.config_id), version_sets=manifest.version_sets,
                        batch_label=manifest.batch_label, versions=versions)  # fmt: skip
    changed = world_mismatch(saved, scenario, versions.version_sets[scenario.version_set])
    if changed:
        raise EvswarmError(
            f"the world no longer regenerates as it was when {run_id} ran ({changed}): its runs cannot be re-executed",
            hint="verify the batch with the evswarm version that made it, or simulate it again",
        )


def _same_bytes(twin: bytes, saved: bytes | None) -> bool:
    """Whether a re-run wrote exactly the saved bundle. A bundle saved before agent versions were recorded
    lacks `run.summary.agent_versions`, which every re-run now writes: it is left out of the comparison."""
    if saved is None or twin == saved:
        return twin == saved
    old, new = orjson.loads(saved), orjson.loads(twin)
    if "agent_versions" in old["run"]["summary"]:
        return False
    new["run"]["summary"].pop("agent_versions", None)
    return bool(old == new)


def verify(
    batch: Path,
    analysis: Path,
    *,
    reference: str = "v1.0",
    versions: Path | None = None,
    patterns: int = 3,
    suspects: int = 2,
    max_runs: int | None = 20,
    workers: int | None = None,
    model: str | None = None,
    progress: bool = True,
    grade: Callable[[Path], object] | None = None,
    backend: str = "local",
    address: str | None = None,
    search: bool = True,
    split_check: str = "confirmed",
) -> VerifyReport:
    """Verify the top `patterns` patterns' top `suspects` suspects of the analysis in `analysis`, re-running
    at most `max_runs` member runs per pattern (None: all).

    Re-run bundles go to `analysis/counterfactual/<intervention>/` (graded there, like any batch); the
    verdicts to `analysis/causes.{json,csv}` and the per-run twins to `analysis/counterfactual_runs`.
    Bundles already re-run are kept, so a second `verify` over the same analysis re-runs nothing.
    `backend` runs the re-runs on the local pool (`local`) or on Ray (`ray`, at `address` or a local
    instance), with the same results. With `search`, each failing member run that no suspect's change
    flips is searched for a minimal change of its own components that does (`search.py`, re-runs in
    `analysis/counterfactual/search-<round>/`); `analysis/run_causes` says what explains each run. Then
    each pattern splits into its causes, one per explaining change, each with its own verdict (`causes`
    rows of scope `split`, `splits.py`); each split's change is tried on the pattern's other failing runs,
    from the twins already made, and for the splits `split_check` names (`confirmed`: those confirmed on
    their own runs; `all`; `reuse`: none) by re-running the rest into `analysis/counterfactual/split-<k>/`."""
    if patterns < 1 or suspects < 1 or (max_runs is not None and max_runs < 1):
        raise EvswarmError("--patterns, --suspects and --max-runs must be at least 1")
    if split_check not in CHECKS:
        raise EvswarmError(f"--split-check must be one of {', '.join(CHECKS)}, not {split_check!r}")
    engine = Backend(backend, workers, address)  # type: ignore[arg-type]  # checked in Backend
    check_backend(engine)
    manifest, labels = _check(batch, analysis, model)
    batch_versions = with_reference(versions_of(BatchLayout(batch), manifest), manifest, reference, versions)
    plans = plan(analysis, batch_versions, reference, patterns, suspects, max_runs)
    report = VerifyReport()
    for found in plans:
        report.notes += [f"P{found.pattern_id}: {why}" for why in found.skipped]
        if found.total > len(found.members):
            report.notes.append(
                f"P{found.pattern_id}: {len(found.members)} of its {found.total} runs re-run (--max-runs)"
            )
    tested = [p for p in plans if p.members and p.interventions]
    if not tested:
        raise EvswarmError("no pattern of this analysis has members and a suspect to test")
    _same_world(batch, manifest, tested[0].members[0])
    _forget_earlier_verdicts(analysis)
    grade = grade or _grade
    by_slug: dict[str, tuple[Intervention, set[str]]] = {}
    control = Intervention(kind="control")
    for found in tested:
        for test in [control, *found.interventions]:
            by_slug.setdefault(test.slug, (test, set()))[1].update(found.members)
    twins: dict[str, dict[str, LabelRow]] = {}
    errors: dict[tuple[str, str], str] = {}
    options = {"workers": workers, "progress": progress, "model": model, "versions": batch_versions, "backend": engine}
    rerunner = Rerunner(batch, analysis, manifest, grade, options)
    for test, runs in by_slug.values():
        out = analysis / TWINS_DIR / test.slug
        failed, twins[test.slug] = rerunner.run(dict.fromkeys(sorted(runs), test), out, test.slug)
        errors.update({(test.slug, r): e for r, e in failed.items()})
    for found in tested:
        _score(batch, analysis, found, [control, *found.interventions], labels, twins, errors, report)
    explained = {
        run_id: Explained(cause.pattern_id, by_slug[cause.intervention][0], cause.counterfactual_dir)
        for cause in report.causes
        for run_id in cause.explains
    }
    members = {run_id: found.pattern_id for found in reversed(tested) for run_id in found.members}
    reference_set = batch_versions.version_sets[reference]
    found_runs = explain_runs(rerunner, members, labels, explained, reference_set, report.notes, search)
    report.run_causes = found_runs.rows

    def check(number: int, tests: dict[str, Intervention]) -> dict[str, tuple[bool, str]]:
        failed, graded = rerunner.run(tests, analysis / check_dir(number), f"split check {number}")
        report.notes.extend(f"split check {number} {r}: {error}" for r, error in sorted(failed.items()))
        return {r: (flipped(labels.get(r), graded.get(r)), check_dir(number)) for r in tests if r not in failed}

    splits = splits_of({p.pattern_id: p.label for p in tested}, found_runs.rows, found_runs.changes)
    seen = seen_twins(report.runs, found_runs.searched)
    report.causes += split_verdicts(splits, seen, control_reproduced(report.runs), check, split_check)
    report.table_paths = [
        *write_table(analysis, CauseRow, report.causes),
        *write_table(analysis, CounterfactualRunRow, report.runs),
        *write_table(analysis, RunCauseRow, report.run_causes),
    ]
    if write_section(analysis / "report.html", report.causes, report.notes, report.run_causes):
        report.report_path = analysis / "report.html"
    return report


def _forget_earlier_verdicts(analysis: Path) -> None:
    """Drop an earlier verify's tables and report section before any twin is re-made: a run stopped
    midway must not leave verdicts pointing at twins made under other changes."""
    for table in VERIFIED_TABLES:
        remove_table(analysis, table)
    clear_section(analysis / "report.html")


def _grade(out: Path) -> None:
    import io

    from rich.console import Console

    from evswarm.evals import grade

    grade(out, console=Console(file=io.StringIO()), progress=False)


def _score(
    batch: Path,
    analysis: Path,
    found: PatternPlan,
    tests: list[Intervention],
    labels: dict[str, LabelRow],
    twins: dict[str, dict[str, LabelRow]],
    errors: dict[tuple[str, str], str],
    report: VerifyReport,
) -> None:
    layout = BatchLayout(batch)
    rows: list[tuple[Intervention, list[CounterfactualRunRow]]] = []
    for test in tests:
        where = f"{TWINS_DIR}/{test.slug}"
        mine = []
        for run_id in found.members:
            if (test.slug, run_id) in errors:
                report.notes.append(f"{test.slug} {run_id}: {errors[(test.slug, run_id)]}")
                continue
            was, now = labels.get(run_id), twins[test.slug].get(run_id)
            twin_path = BatchLayout(analysis / where).bundle_path(run_id)
            identical = twin_path.is_file() and _same_bytes(twin_path.read_bytes(), saved_bytes(layout, run_id))
            mine.append(
                CounterfactualRunRow(
                    run_id=run_id, pattern_id=found.pattern_id, intervention=test.slug,
                    flipped=flipped(was, now), symptoms_before=symptoms(was),
                    symptoms_after=symptoms(now), identical=identical, counterfactual_dir=where,
                )
            )  # fmt: skip
        rows.append((test, mine))
        report.runs += mine
    best: dict[str, str] = {}
    ranked = sorted(
        ((t, r) for t, r in rows if t.kind != "control"),
        key=lambda tr: -sum(x.flipped for x in tr[1]) / max(len(tr[1]), 1),
    )
    for test, mine in ranked:
        for row in mine:
            if row.flipped:
                best.setdefault(row.run_id, test.slug)
    for test, mine in rows:
        n_flipped = sum(1 for r in mine if r.flipped)
        n_identical = sum(1 for r in mine if r.identical)
        found_verdict, low, high = verdict(test.kind, n_flipped, len(mine), n_identical)
        report.causes.append(
            CauseRow(
                pattern_id=found.pattern_id, pattern=found.label, intervention=test.slug, kind=test.kind,
                target=test.target, description=test.describe(), runs=len(mine), flipped=n_flipped,
                flip_rate=round(n_flipped / len(mine), 4) if mine else 0.0, ci_low=round(low, 4),
                ci_high=round(high, 4), verdict=found_verdict,
                explains=sorted(r for r, slug in best.items() if slug == test.slug),
                counterfactual_dir=f"{TWINS_DIR}/{test.slug}",
            )
        )  # fmt: skip
