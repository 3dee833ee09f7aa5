"""The verdict on an intervention's flip rate, the same rule for a whole pattern and for one of its splits:
`confirmed` when the rate's 95% Wilson interval starts at or above `CONFIRMED`, `partial` when the rate
itself reaches `PARTIAL`, else `rejected`; a control is `reproduced` when every re-run is its original."""

from __future__ import annotations

from statsmodels.stats.proportion import proportion_confint

CONFIRMED = 0.5
"""A verdict is `confirmed` when the flip rate's 95% interval starts at or above this."""
PARTIAL = 0.3
"""... and `partial` when the flip rate itself reaches this."""


def verdict(kind: str, flipped: int, runs: int, identical: int = 0) -> tuple[str, float, float]:
    """(verdict, interval low, interval high) for `flipped` of `runs`; `identical` counts a control's
    byte-identical re-runs."""
    if runs == 0:
        return "rejected", 0.0, 1.0
    low, high = proportion_confint(flipped, runs, alpha=0.05, method="wilson")
    if kind == "control":
        return ("reproduced" if identical == runs else "not reproduced"), float(low), float(high)
    found = "confirmed" if low >= CONFIRMED else "partial" if flipped / runs >= PARTIAL else "rejected"
    return found, float(low), float(high)
