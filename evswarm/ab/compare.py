"""`compare_batches`: compare two graded batches, paired when they ran the same scenarios, and write the
verdict (`ab.json`, `ab.md`, `junit.xml`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evswarm.ab.arms import Arm, load_arm
from evswarm.ab.checks import build_checks
from evswarm.ab.pairing import Pairing, check_seeds, pair_arms
from evswarm.ab.render import write_outputs
from evswarm.ab.verdict import decide
from evswarm.core.ab import ABReport, ArmInfo
from evswarm.core.errors import EvswarmError
from evswarm.core.layout import BatchLayout
from evswarm.core.version_catalog import describe_changes

Grader = Callable[[Path], object]
"""Grades a batch directory in place (writes its `eval_labels.jsonl`): `evswarm.evals.grade`, given by the CLI."""


def check_thresholds(alpha: float, max_regression: float) -> None:
    if not 0 < alpha < 1:
        raise EvswarmError(f"--alpha must be between 0 and 1 (got {alpha:g})")
    if not 0 <= max_regression < 100:
        raise EvswarmError(f"--max-regression is in percentage points, from 0 to 100 (got {max_regression:g})")


def _info(arm: Arm) -> ArmInfo:
    return ArmInfo(
        role="base" if arm.role == "base" else "candidate",
        batch_dir=str(arm.root),
        version_sets=arm.version_sets,
        seed=arm.manifest.seed if arm.manifest else None,
        runs=len(arm.runs),
        graded=sum(1 for run in arm.runs.values() if run.graded),
        agent_versions=arm.agent_versions,
    )


def _changes(base: Arm, candidate: Arm) -> list[str]:
    """What the candidate changes, per agent: from the batches' resolved versions when each arm ran one set,
    else from the version hashes its bundles recorded."""
    if len(base.version_sets) == 1 and len(candidate.version_sets) == 1 and base.versions and candidate.versions:
        before = base.versions.version_sets.get(base.version_sets[0])
        after = candidate.versions.version_sets.get(candidate.version_sets[0])
        if before is not None and after is not None:
            return describe_changes(before, after) or ["no agent changes"]
    old, new = base.agent_versions, candidate.agent_versions
    if old and new:
        changed = [f"{agent}: version {old.get(agent)} → {new[agent]}" for agent in new if old.get(agent) != new[agent]]
        return changed or ["no agent changes"]
    return ["the arms mix version sets or record no agent versions: see each batch's versions.json"]


def _changed_behavior_runs(base: Arm, candidate: Arm, pairing: Pairing) -> int | None:
    if pairing.mode != "paired":
        return None
    return sum(1 for run_id in pairing.run_ids if base.runs[run_id].steps != candidate.runs[run_id].steps)


def compare_arms(
    base: Arm, candidate: Arm, *, alpha: float = 0.05, max_regression: float = 0.0, unpaired: bool = False
) -> ABReport:
    """Compare two loaded arms check by check and decide."""
    pairing = pair_arms(base, candidate, unpaired=unpaired)
    checks = build_checks(base, candidate, pairing, alpha=alpha, max_regression=max_regression)
    changed = _changed_behavior_runs(base, candidate, pairing)
    pairs = len(pairing.run_ids)
    names = [", ".join(arm.version_sets) or arm.role for arm in (base, candidate)]
    verdict = decide(
        checks,
        base=names[0],
        candidate=names[1],
        mode=pairing.mode,
        pairs=pairs,
        alpha=alpha,
        max_regression=max_regression,
        changed_behavior_runs=changed,
    )
    return ABReport(
        mode="paired" if pairing.mode == "paired" else "unpaired",
        pairing=pairing.reason,
        base=_info(base),
        candidate=_info(candidate),
        changes=_changes(base, candidate),
        alpha=alpha,
        max_regression=max_regression,
        pairs=pairs,
        checks=checks,
        verdict=verdict,
        notes=[*pairing.notes, *base.notes, *candidate.notes],
    )


def needs_grading(root: Path) -> bool:
    """True when `root` has no grades, or a bundle newer than them."""
    layout = BatchLayout(root)
    if not layout.labels.is_file():
        return True
    stamp = layout.labels.stat().st_mtime
    return any(path.stat().st_mtime > stamp for path in layout.bundle_paths())


def ensure_graded(root: Path, grade: Grader | None) -> bool:
    """Grade `root` with `grade` when it needs it; True when it graded."""
    if grade is None or not needs_grading(root):
        return False
    grade(root)
    return True


def compare_batches(
    base_dir: Path,
    candidate_dir: Path,
    *,
    out: Path | None = None,
    alpha: float = 0.05,
    max_regression: float = 0.0,
    unpaired: bool = False,
    grade: Grader | None = None,
) -> ABReport:
    """Compare two existing batches (grading either first if its grades are missing or stale and `grade`
    is given); with `out`, write `ab.json`, `ab.md` and `junit.xml` there."""
    check_thresholds(alpha, max_regression)
    for role, root in (("base", base_dir), ("candidate", candidate_dir)):
        if not BatchLayout(root).bundles_dir.is_dir():
            raise EvswarmError(
                f"{role} batch {root} has no bundles/ directory", hint="give `evswarm simulate --out` dirs"
            )
    check_seeds(base_dir, candidate_dir, unpaired=unpaired)
    for root in (base_dir, candidate_dir):
        ensure_graded(root, grade)
    report = compare_arms(
        load_arm("base", base_dir),
        load_arm("candidate", candidate_dir),
        alpha=alpha,
        max_regression=max_regression,
        unpaired=unpaired,
    )
    if out is not None:
        write_outputs(out, report)
    return report
