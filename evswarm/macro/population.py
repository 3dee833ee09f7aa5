"""Which traces to cluster: the failing ones.

With grades (`eval_labels.jsonl`), a graded trace is failing when it failed a rubric: the grader
compared it with the world's correct handling, so a correct block or a justified review is not a
failure, and a wrong price on a completed run is. A trace without a usable grade is failing when it
did not complete or carries an error-severity finding (warnings are routine business signals: a
price adjustment, a supplier on a watch list). If no trace is failing, every trace is analyzed and
the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Population:
    run_ids: list[str]
    scope: str  # "failing" or "all"
    failing_count: int
    note: str


def failing_mask(traces: pd.DataFrame) -> pd.Series:
    by_status = (traces["run_outcome"] != "completed") | traces["has_error_finding"].astype(bool)
    if "promptfoo_pass" not in traces.columns:
        return by_status
    graded = traces["promptfoo_pass"].notna()
    failed = traces["promptfoo_pass"].eq(False)
    return (graded & failed) | (~graded & by_status)


def choose(traces: pd.DataFrame) -> Population:
    mask = failing_mask(traces)
    failing = traces.loc[mask, "run_id"].tolist()
    graded = int(traces["promptfoo_pass"].notna().sum()) if "promptfoo_pass" in traces.columns else 0
    rule = (
        "a failed rubric" + (" (or, where ungraded, not completed / an error finding)" if graded < len(traces) else "")
        if graded
        else "not completed, or an error-severity finding"
    )
    if failing:
        return Population(
            failing,
            "failing",
            len(failing),
            f"{len(failing)} of {len(traces)} traces are failing ({rule}); patterns are mined from these.",
        )
    return Population(
        traces["run_id"].tolist(),
        "all",
        0,
        f"None of the {len(traces)} traces is failing ({rule}), so patterns are mined from all "
        "of them: they describe how successful runs differ, not failures.",
    )
