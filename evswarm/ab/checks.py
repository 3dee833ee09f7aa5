"""The checks of an A/B comparison, each a proportion in both arms: every rubric's pass rate, every run
passing (`overall`), each symptom pattern's prevalence (gating), and each behavior's prevalence (not gating).

Gating checks form one family (Holm); behaviors another (Benjamini-Hochberg: they point where to look,
they do not fail a build). A check whose margins can never reach significance stays out of its family.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evswarm.ab import stats
from evswarm.ab.arms import Arm, RunRecord
from evswarm.ab.pairing import Pairing
from evswarm.core.ab import Check, CheckKind

EXAMPLES = 5
"""Run ids kept per check to show the change."""


@dataclass(frozen=True)
class Measure:
    """A yes/no question asked of every run where it applies."""

    kind: CheckKind
    name: str
    label: str
    higher_is_better: bool
    gates: bool

    def value(self, run: RunRecord) -> bool | None:
        if self.kind == "overall":
            return run.overall
        if self.kind == "rubric":
            return run.passed(self.name)
        if self.kind == "pattern":
            return self.name in run.patterns if run.graded else None
        return self.name in run.behaviors


def pattern_label(key: str) -> str:
    kind, _, subject = key.partition(" ")
    return kind.replace("_", " ") + (f": {subject}" if subject else "")


def measures(base: Arm, candidate: Arm) -> list[Measure]:
    """Every check both arms can answer: rubrics and overall, symptom patterns, behaviors."""
    runs = [*base.runs.values(), *candidate.runs.values()]
    out = [Measure("overall", "overall", "every rubric passes", True, True)]
    rubrics = dict.fromkeys([*base.rubrics, *candidate.rubrics])
    out += [Measure("rubric", r, r, True, True) for r in rubrics]
    patterns = sorted({p for run in runs for p in run.patterns})
    out += [Measure("pattern", p, pattern_label(p), False, True) for p in patterns]
    behaviors = sorted({b for run in runs for b in run.behaviors})
    out += [Measure("behavior", b, b, False, False) for b in behaviors]
    return out


def _values(measure: Measure, runs: list[RunRecord]) -> list[tuple[str, bool]]:
    out = []
    for run in runs:
        value = measure.value(run)
        if value is not None:
            out.append((run.run_id, value))
    return out


def _paired(
    measure: Measure, base: Arm, candidate: Arm, run_ids: list[str]
) -> tuple[stats.Result, list[str], list[str]]:
    """The result over pairs where both arms answer, and the run ids where each arm alone has the event."""
    ids, b, c = [], [], []
    for run_id in run_ids:
        vb, vc = measure.value(base.runs[run_id]), measure.value(candidate.runs[run_id])
        if vb is not None and vc is not None:
            ids.append(run_id)
            b.append(vb)
            c.append(vc)
    result = stats.paired(np.array(b, dtype=bool), np.array(c, dtype=bool))
    only_base = [i for i, vb, vc in zip(ids, b, c, strict=True) if vb and not vc]
    only_candidate = [i for i, vb, vc in zip(ids, b, c, strict=True) if vc and not vb]
    return result, only_base, only_candidate


def _check(measure: Measure, result: stats.Result) -> Check:
    return Check(
        kind=measure.kind,
        name=measure.name,
        label=measure.label,
        higher_is_better=measure.higher_is_better,
        gates=measure.gates,
        n_base=result.n_base,
        n_candidate=result.n_candidate,
        base_count=result.base_count,
        candidate_count=result.candidate_count,
        base_rate=result.base_rate,
        candidate_rate=result.candidate_rate,
        difference=result.difference,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        p_value=result.p_value,
        p_adjusted=None,
        significant=False,
        status="no clear change",
        fails_gate=False,
    )


def build_checks(base: Arm, candidate: Arm, pairing: Pairing, *, alpha: float, max_regression: float) -> list[Check]:
    """Every check, tested and corrected, with its status, whether it fails the gate, and example runs.

    Behaviors that cannot reach significance are left out (there are hundreds of steps)."""
    rows: list[tuple[Check, stats.Result, list[str], list[str]]] = []
    for measure in measures(base, candidate):
        if pairing.mode == "paired":
            result, only_base, only_candidate = _paired(measure, base, candidate, pairing.run_ids)
        else:
            b = _values(measure, list(base.runs.values()))
            c = _values(measure, list(candidate.runs.values()))
            result = stats.unpaired(sum(v for _, v in b), len(b), sum(v for _, v in c), len(c))
            # the runs that show a check going wrong: failing ones for a pass rate, showing ones otherwise
            shows = not measure.higher_is_better
            only_base = sorted(i for i, v in b if v == shows)
            only_candidate = sorted(i for i, v in c if v == shows)
        if result.n_base == 0 or result.n_candidate == 0:
            continue
        if not measure.gates and result.min_p > alpha:
            continue
        rows.append((_check(measure, result), result, only_base, only_candidate))
    for gates, adjust in ((True, stats.holm), (False, stats.bh)):
        family = [i for i, (check, result, *_) in enumerate(rows) if check.gates == gates and result.min_p <= alpha]
        adjusted = adjust([rows[i][1].p_value for i in family], alpha)
        for i, p_adj in zip(family, adjusted, strict=True):
            check = rows[i][0]
            check.p_adjusted = p_adj
            check.significant = p_adj <= alpha
    out = []
    for check, result, only_base, only_candidate in rows:
        _judge(check, result, only_base, only_candidate, pairing.mode, max_regression)
        out.append(check)
    return out


def _judge(
    check: Check,
    result: stats.Result,
    only_base: list[str],
    only_candidate: list[str],
    mode: str,
    max_regression: float,
) -> None:
    """Status, presence, gate and examples of one tested check."""
    if check.kind in ("pattern", "behavior"):
        if result.base_count == 0 and result.candidate_count > 0:
            check.presence = "appears"
        elif result.candidate_count == 0 and result.base_count > 0:
            check.presence = "vanishes"
    if mode == "paired":
        check.worse_pairs = result.only_base if check.higher_is_better else result.only_candidate
        check.better_pairs = result.only_candidate if check.higher_is_better else result.only_base
    if not check.significant or check.difference == 0:
        return
    increased = check.difference > 0
    if check.kind == "behavior":
        check.status = "changed"
    else:
        worse = increased != check.higher_is_better
        check.status = "regressed" if worse else "improved"
        check.fails_gate = worse and abs(check.difference) * 100 > max_regression
    if mode == "paired":  # the discordant pairs in the direction of the change
        check.examples = (only_candidate if increased else only_base)[:EXAMPLES]
    else:  # the runs that show it in the arm where it is more common (failures, for a pass rate)
        in_candidate = increased != check.higher_is_better
        check.examples_in = "candidate" if in_candidate else "base"
        check.examples = (only_candidate if in_candidate else only_base)[:EXAMPLES]
