"""Which traces to analyze: the failing ones.

With grades (`eval_labels.jsonl`), a graded trace is failing when it failed a rubric: the grader
compared it with the correct handling, so a correct block or a justified review is not a failure, and
a wrong price on a completed run is. A trace without a usable grade is failing when it behaved unlike
its peers (a step feature few traces of its case type have, see `behavior`, or an outcome fewer than
`RARE_OUTCOME` of them end in), hit an error (a span or tool error, an error-severity finding of its own
agents) or crashed. An outcome alone says little: blocking or holding an order is often right.
If no trace is failing, every trace is analyzed and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CRASHED = frozenset({"failed"})
RARE_OUTCOME = 0.2
"""An outcome fewer than this share of a case type's traces end in is odd for that case type."""


@dataclass(frozen=True)
class Population:
    run_ids: list[str]
    scope: str  # "failing" or "all"
    failing_count: int
    note: str


def failing_mask(traces: pd.DataFrame) -> pd.Series:
    """Needs the `odd` (a rare step feature) and `marked` (an error in a step) flags per trace."""
    behaved_oddly = traces["odd"] | traces["marked"] | traces.run_outcome.isin(CRASHED)
    if "promptfoo_pass" not in traces.columns:
        return behaved_oddly
    graded = traces["promptfoo_pass"].notna()
    failed = traces["promptfoo_pass"].eq(False)
    return (graded & failed) | (~graded & behaved_oddly)


def choose(traces: pd.DataFrame) -> Population:
    mask = failing_mask(traces)
    failing = traces.loc[mask, "run_id"].tolist()
    graded = int(traces["promptfoo_pass"].notna().sum()) if "promptfoo_pass" in traces.columns else 0
    odd = "behaved unlike its peers, hit an error or crashed"
    rule = (
        "a failed rubric" + (f" (or, where ungraded, {odd})" if graded < len(traces) else "")
        if graded
        else f"no grades: the trace {odd}"
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
        "of them: they describe how runs differ, not failures.",
    )
