"""Rank patterns by impact.

- prevalence = the pattern's traces / all traces in the batch;
- severity = mean per-trace severity of its traces (outcome weight: completed 1, awaiting_review 2,
  blocked 2.5, failed 3, other 2; +0.5 with an error finding; +0.5 when a rubric failed);
- severity-weighted prevalence = the pattern's share of the batch's total severity;
- impact = prevalence × severity.
Noise (unclustered traces) is reported but never ranked.
"""

from __future__ import annotations

import pandas as pd


def trace_severity(traces: pd.DataFrame) -> pd.Series:
    failed = traces["promptfoo_failed"].astype(bool) if "promptfoo_failed" in traces.columns else False
    return traces.severity_weight + 0.5 * traces.has_error_finding.astype(float) + 0.5 * failed


def rank_patterns(assign: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """`assign`: run_id, cluster_id. Returns one row per cluster with the ranking columns."""
    sev = trace_severity(traces)
    total_severity = float(sev.sum()) or 1.0
    df = assign.merge(traces[["run_id", "case_type", "run_outcome"]].assign(severity=sev.to_numpy()), on="run_id")
    n_batch = len(traces)
    g = df.groupby("cluster_id")
    out = pd.DataFrame(
        {
            "trace_count": g.size(),
            "severity": g.severity.mean(),
            "severity_sum": g.severity.sum(),
            "dominant_case_type": g.case_type.agg(lambda s: s.value_counts().index[0]),
            "dominant_outcome": g.run_outcome.agg(lambda s: s.value_counts().index[0]),
        }
    ).reset_index()
    out["prevalence"] = out.trace_count / n_batch
    out["share_of_analyzed"] = out.trace_count / len(assign)
    out["severity_weighted_prevalence"] = out.severity_sum / total_severity
    out["impact"] = out.prevalence * out.severity
    out = out.drop(columns="severity_sum")
    noise = out.cluster_id < 0
    ranked = out[~noise].sort_values(["impact", "trace_count", "cluster_id"], ascending=[False, False, True])
    ranked = ranked.assign(rank=range(1, len(ranked) + 1))
    return pd.concat([ranked, out[noise].assign(rank=0)], ignore_index=True)
