"""Join a batch's grades (`eval_labels.jsonl`, format `evswarm.core.labels`) to its traces.

Labels are optional; the reference notebook's label file (no findings) is read too. Rows for runs that
are not in the batch, and unreadable rows, are counted and reported, never fatal. From each row the
analysis keeps whether the run failed, which rubrics failed, the symptoms its findings name (kind and
subject) and the step ids they cite (with a weight: a finding that cites few steps points more
precisely than one citing many). Rationale prose is never parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evswarm.core.labels import LabelRow, read_labels
from evswarm.core.reference import is_reference_label, reference_label
from evswarm.core.symptoms import Severity

LABEL_COLUMNS = [
    "run_id",
    "promptfoo_pass",
    "failed_rubrics",
    "promptfoo_score_mean",
    "symptoms",
    "cited_ids",
    "cited_weights",
]


@dataclass
class Grades:
    table: pd.DataFrame
    path: Path | None = None
    bad_rows: list[str] = field(default_factory=list)
    unknown_runs: int = 0

    @property
    def present(self) -> bool:
        return self.path is not None and not self.table.empty


def _columns(row: LabelRow) -> dict[str, object]:
    failing = [f for f in row.findings if f.severity == Severity.ERROR]
    weights: dict[str, float] = {}
    for finding in failing:
        for cited in finding.evidence:
            weights[cited] = weights.get(cited, 0.0) + 1.0 / len(finding.evidence)
    return {
        "run_id": row.run_id,
        "promptfoo_pass": row.promptfoo_pass,
        "failed_rubrics": sorted(row.promptfoo_failed_checks),
        "promptfoo_score_mean": row.promptfoo_score_mean,
        "symptoms": sorted({f"{f.kind.value} {f.subject}" if f.subject else f.kind.value for f in failing}),
        "cited_ids": list(weights),
        "cited_weights": list(weights.values()),
    }


def _reference(raw: dict[str, object]) -> LabelRow | None:
    return reference_label(raw) if is_reference_label(raw) else None


def read_grades(path: Path | None, known_runs: set[str]) -> Grades:
    """The label file's rows for runs of this batch; bad rows and unknown runs are counted, not fatal."""
    if path is None:
        return Grades(pd.DataFrame(columns=LABEL_COLUMNS))
    bad: list[str] = []
    rows = read_labels(path, on_bad_row=bad.append, adapt=_reference)
    known = {row.run_id: _columns(row) for row in rows if row.run_id in known_runs}
    unknown = sum(1 for row in rows if row.run_id not in known_runs)
    return Grades(pd.DataFrame(list(known.values()), columns=LABEL_COLUMNS), path, bad, unknown)


def attach(traces: pd.DataFrame, grades: Grades) -> pd.DataFrame:
    """Left-join grade columns onto the trace table (empty lists / None where a run has no grade)."""
    merged = traces.merge(grades.table, on="run_id", how="left")
    for col in ("failed_rubrics", "cited_ids", "cited_weights", "symptoms"):
        merged[col] = merged[col].apply(lambda v: v if isinstance(v, list) else [])
    merged["promptfoo_failed"] = merged["promptfoo_pass"].eq(False)
    return merged
