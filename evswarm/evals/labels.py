"""Building label rows (the format is `evswarm.core.labels`) from rubric verdicts or from errors.

A grader or infrastructure error is never counted as an agent failure: a rubric whose grader crashed is
an error check (`grade_status` partial), and a run that could not be graded at all is an error row.
"""

from __future__ import annotations

from typing import Any

from evswarm.core.labels import GradeStatus, LabelRow, RubricFinding


def graded_row(
    *,
    run_id: str,
    facts: dict[str, Any],
    verdicts: dict[str, dict[str, Any]],
    errors: list[str],
    order: tuple[str, ...],
    applicable: frozenset[str] | None = None,
) -> LabelRow:
    """A row from per-rubric verdicts `{rubric: {pass, score, reason, findings}}`.

    `errors` lists rubrics whose grader crashed; a rubric in `applicable` (default: all of `order`)
    with no verdict is an error check too, while one outside it simply does not apply to the run."""
    applicable = frozenset(order) if applicable is None else applicable
    scores = {name: float(verdicts[name]["score"]) for name in order if name in verdicts and name not in errors}
    failed = [name for name in order if name in scores and not verdicts[name]["pass"]]
    missing = [name for name in order if name in applicable and name not in verdicts and name not in errors]
    error_checks = [name for name in order if name in errors] + missing
    status = GradeStatus.PARTIAL if error_checks else GradeStatus.GRADED
    passed: bool | None = not failed if status == GradeStatus.GRADED else (False if failed else None)
    findings = [
        RubricFinding.model_validate(finding)
        for name in order
        if name in scores
        for finding in verdicts[name].get("findings") or []
    ]
    return LabelRow(
        run_id=run_id,
        case_type=facts.get("case_type"),
        run_outcome=facts.get("run_outcome"),
        agent_version_set=facts.get("agent_version_set"),
        promptfoo_pass=passed,
        promptfoo_failed_checks=failed,
        promptfoo_score_mean=round(sum(scores.values()) / len(scores), 3) if scores else None,
        promptfoo_check_scores=scores,
        promptfoo_rationales={name: str(verdicts[name]["reason"]) for name in order if name in verdicts},
        promptfoo_primary_finding=failed[0] if failed else None,
        grade_status=status,
        grade_error=("grader error on " + ", ".join(error_checks)) if error_checks else None,
        promptfoo_error_checks=error_checks,
        findings=findings,
    )


def error_row(run_id: str, message: str, facts: dict[str, Any] | None = None) -> LabelRow:
    """A run that could not be graded at all (missing or invalid bundle, provider crash)."""
    facts = facts or {}
    lines = message.strip().splitlines() or ["unknown error"]
    message = lines[0][:500] + (" …" if len(lines) > 1 or len(lines[0]) > 500 else "")
    return LabelRow(
        run_id=run_id,
        case_type=facts.get("case_type"),
        run_outcome=facts.get("run_outcome"),
        agent_version_set=facts.get("agent_version_set"),
        promptfoo_pass=None,
        promptfoo_failed_checks=[],
        promptfoo_score_mean=None,
        promptfoo_check_scores={},
        promptfoo_rationales={},
        promptfoo_primary_finding=None,
        grade_status=GradeStatus.ERROR,
        grade_error=message,
    )
