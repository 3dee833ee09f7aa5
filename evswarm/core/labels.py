"""The label file (`eval_labels.jsonl`): one row per run, written by `evswarm grade`, read by `analyze`,
`ab`, `compare` and the review app.

Each row keeps the reference notebook's columns (run_id, case_type, run_outcome, promptfoo_pass,
promptfoo_failed_checks, promptfoo_score_mean, promptfoo_check_scores, promptfoo_rationales,
promptfoo_primary_finding) and adds structured `findings`: what each rubric saw, in the frozen symptom
vocabulary of `evswarm.core.symptoms`, with the step ids where it shows. No stage parses rationale prose.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_jsonl, iter_jsonl
from evswarm.core.symptoms import Severity, Symptom

LABELS_FORMAT = "evswarm.labels.v2"
"""v2: structured `findings` in the symptom vocabulary (v1 had rationale prose only)."""

_LLM_FIELDS = ("promptfoo_llm_check_scores", "promptfoo_llm_failed_checks", "promptfoo_llm_rationales",
               "promptfoo_llm_error")  # fmt: skip


class GradeStatus(StrEnum):
    """Whether a run could be graded: every rubric (graded), some (partial) or none (error)."""

    GRADED = "graded"
    PARTIAL = "partial"
    ERROR = "error"


class RubricFinding(BaseModel):
    """One symptom a rubric saw in a run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rubric: str = Field(description="the rubric that saw it (a promptfoo metric name)")
    kind: Symptom = Field(description="what is wrong, in the frozen symptom vocabulary")
    severity: Severity = Field(description="`error` fails the rubric; `warning` and `info` do not")
    subject: str | None = Field(
        default=None,
        description="what the symptom is about, in a word or two: a signal type (tariff), a specialist that "
        "never ran, a tool, a decision pair (block instead of release); never the cause",
    )
    message: str = Field(description="one sentence for people: the symptom with its particulars")
    evidence: list[str] = Field(default_factory=list, description="span or event ids where the symptom shows")


class LabelRow(BaseModel):
    """One run's grades."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(description="the run (bundle `run.run_id`)")
    case_type: str | None = Field(description="the run's case type (scenario family), when known")
    run_outcome: str | None = Field(description="the run's terminal state as the bundle records it")
    agent_version_set: str | None = Field(description="the version set the run used")
    promptfoo_pass: bool | None = Field(description="every rubric passed; None when some could not be graded")
    promptfoo_failed_checks: list[str] = Field(description="failed rubrics, in assertion order")
    promptfoo_score_mean: float | None = Field(description="mean rubric score, 3 decimals")
    promptfoo_check_scores: dict[str, float] = Field(description="score in [0, 1] per graded rubric")
    promptfoo_rationales: dict[str, str] = Field(description="per rubric: why it passed or failed, for people")
    promptfoo_primary_finding: str | None = Field(description="the first failed rubric, or None")
    grade_status: GradeStatus = Field(description="graded, partial (a rubric's grader crashed) or error")
    grade_error: str | None = Field(default=None, description="why the run or some rubric was not graded")
    promptfoo_error_checks: list[str] = Field(default_factory=list, description="rubrics whose grader crashed")
    findings: list[RubricFinding] = Field(default_factory=list, description="what the rubrics saw (symptoms)")
    promptfoo_llm_check_scores: dict[str, float] | None = Field(default=None, description="model grader scores")
    promptfoo_llm_failed_checks: list[str] | None = Field(default=None, description="model grader failures")
    promptfoo_llm_rationales: dict[str, str] | None = Field(default=None, description="model grader reasons")
    promptfoo_llm_error: str | None = Field(default=None, description="why a model verdict is missing")

    @property
    def is_error(self) -> bool:
        return self.grade_status == GradeStatus.ERROR

    def passed(self, rubric: str) -> bool | None:
        """This rubric's verdict, or None when it was not graded (an error)."""
        if self.is_error or rubric in self.promptfoo_error_checks or rubric not in self.promptfoo_check_scores:
            return None
        return rubric not in self.promptfoo_failed_checks

    def symptoms(self, *, failing_only: bool = True) -> list[Symptom]:
        """The symptom kinds of this row's findings (errors only, unless `failing_only` is False), unique."""
        kinds = [f.kind for f in self.findings if not failing_only or f.severity == Severity.ERROR]
        return list(dict.fromkeys(kinds))

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if all(data[name] is None for name in _LLM_FIELDS):
            for name in _LLM_FIELDS:
                del data[name]
        return data


def write_labels(path: Path, rows: list[LabelRow]) -> None:
    """Atomically write rows (sorted keys, one JSON object a line)."""
    atomic_write_jsonl(path, (row.to_json() for row in rows))


def _row_error(path: Path, number: int, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{path}:{number}: field `{where}`: {first['msg']}"


def read_labels(
    path: Path,
    *,
    on_bad_row: Callable[[str], None] | None = None,
    adapt: Callable[[dict[str, Any]], LabelRow | None] | None = None,
) -> list[LabelRow]:
    """Read and validate a label file.

    A bad line raises an EvswarmError naming the file, line and field; with `on_bad_row`, the message
    is passed to it instead and the line is skipped (readers that must not lose a whole analysis).
    `adapt` may turn a row of another layout into a LabelRow (None: not that layout)."""
    rows = []
    for number, raw in iter_jsonl(path, on_bad_line=on_bad_row):
        try:
            adapted = adapt(raw) if adapt is not None else None
        except ValueError as exc:  # includes pydantic's ValidationError
            message = f"{path}, line {number}: {exc}"
            if on_bad_row is None:
                raise EvswarmError(message) from exc
            on_bad_row(message)
            continue
        if adapted is not None:
            rows.append(adapted)
            continue
        try:
            rows.append(LabelRow.model_validate(raw))
        except ValidationError as exc:
            message = _row_error(path, number, exc)
            if on_bad_row is None:
                raise EvswarmError(message) from exc
            on_bad_row(message)
    return rows
