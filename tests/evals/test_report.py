"""Pass-rate table: Wilson intervals and per-version rates that leave error rows out."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from evswarm.evals.labels import error_row, graded_row
from evswarm.evals.report import ALL_FIVE, pass_rates, rates_table, wilson
from evswarm.evals.rubrics import RUBRICS


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (81, 100, 0.7222, 0.8749)],
)
def test_wilson_matches_known_values(k: int, n: int, low: float, high: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_with_no_data_is_uninformative() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def _row(run_id: str, version: str, failing: set[str]):
    verdicts = {n: {"pass": n not in failing, "score": 0.0 if n in failing else 1.0, "reason": "r"} for n in RUBRICS}
    facts = {"case_type": "c", "run_outcome": "completed", "agent_version_set": version}
    return graded_row(run_id=run_id, facts=facts, verdicts=verdicts, errors=[], order=RUBRICS)


def test_pass_rates_per_version_exclude_error_rows() -> None:
    rows = [
        _row("a", "v1.0", set()),
        _row("b", "v1.0", set()),
        _row("c", "v1.1", {"market_drift_awareness"}),
        _row("d", "v1.1", set()),
        error_row("e", "unreadable", {"agent_version_set": "v1.1"}),
    ]
    rates = pass_rates(rows)
    assert (rates["market_drift_awareness"]["v1.1"].passed, rates["market_drift_awareness"]["v1.1"].n) == (
        1,
        2,
    )
    assert rates["market_drift_awareness"]["v1.0"].value == 1.0
    assert (rates[ALL_FIVE]["all"].passed, rates[ALL_FIVE]["all"].n) == (3, 4)
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(rates_table(rows, "Pass rates"))
    text = buffer.getvalue()
    assert "v1.0" in text and "v1.1" in text and "50.0%" in text and "[9–91]" in text
    assert "2 runs" in text, "each version set's row shows how many runs were graded"
