"""Lift of each pattern in each slice, with Fisher's exact test and Benjamini-Hochberg correction.

Over the analyzed traces (unclustered ones included in every denominator), for pattern p and slice
value v: lift = P(p | v) / P(p). The test compares the pattern's share inside the slice with its
share outside it. Rows lead the table only when q < alpha and the slice holds >= min_support of the
pattern's traces.
"""

from __future__ import annotations

import pandas as pd

from evswarm.macro.stats import bh, fisher, wilson

SLICES = (
    "case_type",
    "run_outcome",
    "agent_version_set",
    "orchestrator_mode",
    "market_regime",
    "price_regime",
    "schedule_regime",
)


def lift_table(
    assign: pd.DataFrame, traces: pd.DataFrame, labels: dict[int, str], alpha: float, min_support: int
) -> pd.DataFrame:
    """`assign`: run_id, cluster_id over the analyzed population."""
    df = assign.merge(traces[["run_id", *SLICES]], on="run_id")
    n = len(df)
    rows: list[dict[str, object]] = []
    pattern_totals = df[df.cluster_id >= 0].cluster_id.value_counts()
    for col in SLICES:
        values = df[col].astype(str)
        if values.nunique() < 2:
            continue
        slice_totals = values.value_counts()
        counts = pd.crosstab(values, df.cluster_id)
        for pid, total in pattern_totals.items():
            for value, size in slice_totals.items():
                a = int(counts.at[value, pid]) if pid in counts.columns else 0
                b, c = int(size) - a, int(total) - a
                d = n - a - b - c
                share = a / size
                overall = total / n
                lo, hi = wilson(a, int(size))
                rows.append(
                    {
                        "slice": col,
                        "value": value,
                        "pattern_id": int(pid),
                        "pattern": labels.get(int(pid), str(pid)),
                        "traces": a,
                        "slice_traces": int(size),
                        "pattern_traces": int(total),
                        "slice_share": share,
                        "overall_share": overall,
                        "lift": share / overall if overall else float("nan"),
                        "share_ci_low": lo,
                        "share_ci_high": hi,
                        "p_value": fisher(a, b, c, d),
                    }
                )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["q_value"] = bh(out.p_value.to_numpy())
    out["leads"] = (out.q_value < alpha) & (out.traces >= min_support) & (out.lift > 1)
    return out.sort_values(["leads", "lift", "traces"], ascending=[False, False, False]).reset_index(drop=True)
