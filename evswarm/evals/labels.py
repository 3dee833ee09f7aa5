"""The label file (`eval_labels.jsonl`): one row per run, the reference's columns plus error bookkeeping.

Reference columns: run_id, case_type, run_outcome, promptfoo_pass, promptfoo_failed_checks (assertion
order), promptfoo_score_mean (3 decimals), promptfoo_check_scores, promptfoo_rationales,
promptfoo_primary_finding. evswarm adds agent_version_set, grade_status (graded | partial | error),
grade_error and promptfoo_error_checks, so a grader or infrastructure error is never counted as an agent
failure; with a model grader, the promptfoo_llm_* columns hold the llm-rubric verdicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_jsonl, read_jsonl

GradeStatus = Literal["graded", "partial", "error"]
_LLM_FIELDS = ("promptfoo_llm_check_scores", "promptfoo_llm_failed_checks", "promptfoo_llm_rationales",
               "promptfoo_llm_error")  # fmt: skip


class LabelRow(BaseModel):
    """One run's grades."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    case_type: str | None
    run_outcome: str | None
    agent_version_set: str | None
    promptfoo_pass: bool | None
    promptfoo_failed_checks: list[str]
    promptfoo_score_mean: float | None
    promptfoo_check_scores: dict[str, float]
    promptfoo_rationales: dict[str, str]
    promptfoo_primary_finding: str | None
    grade_status: GradeStatus
    grade_error: str | None = None
    promptfoo_error_checks: list[str] = []
    promptfoo_llm_check_scores: dict[str, float] | None = None
    promptfoo_llm_failed_checks: list[str] | None = None
    promptfoo_llm_rationales: dict[str, str] | None = None
    promptfoo_llm_error: str | None = None

    @property
    def is_error(self) -> bool:
        return self.grade_status == "error"

    def passed(self, rubric: str) -> bool | None:
        """This rubric's verdict, or None when it was not graded (an error)."""
        if (
            self.is_error
            or rubric in self.promptfoo_error_checks
            or rubric not in self.promptfoo_check_scores
        ):
            return None
        return rubric not in self.promptfoo_failed_checks

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if all(data[name] is None for name in _LLM_FIELDS):
            for name in _LLM_FIELDS:
                del data[name]
        return data


def graded_row(
    *,
    run_id: str,
    facts: dict[str, Any],
    verdicts: dict[str, dict[str, Any]],
    errors: list[str],
    order: tuple[str, ...],
) -> LabelRow:
    """A row from per-rubric verdicts `{rubric: {pass, score, reason}}`; `errors` lists crashed rubrics."""
    scores = {
        name: float(verdicts[name]["score"]) for name in order if name in verdicts and name not in errors
    }
    failed = [name for name in order if name in scores and not verdicts[name]["pass"]]
    missing = [name for name in order if name not in verdicts and name not in errors]
    error_checks = [name for name in order if name in errors] + missing
    status: GradeStatus = "partial" if error_checks else "graded"
    passed: bool | None = not failed if status == "graded" else (False if failed else None)
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
        grade_status="error",
        grade_error=message,
    )


def write_labels(path: Path, rows: list[LabelRow]) -> None:
    """Atomically write rows (sorted keys, one JSON object a line)."""
    atomic_write_jsonl(path, (row.to_json() for row in rows))


def read_labels(path: Path) -> list[LabelRow]:
    """Read and validate a label file; a bad row raises an error naming the file, line and field."""
    rows = []
    for number, raw in enumerate(read_jsonl(path), start=1):
        try:
            rows.append(LabelRow.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise EvswarmError(f"{path}: row {number}: field `{where}`: {first['msg']}") from exc
    return rows
