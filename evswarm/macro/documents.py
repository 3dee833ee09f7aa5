"""The document of each analyzed trace: what is wrong with it and what it did that passing peers do not.

A document is a few short lines:
- with grades, one line per symptom a rubric saw (`symptom price_mismatch quote below`), from the
  structured findings of the label file;
- the trace's failure-associated step features (see `behavior.association`): features of its model
  decisions, handoffs, tool errors and its agents' own findings that go with failing among its peers
  (log odds at least `MIN_LOG_ODDS`) and that at least `MIN_SUPPORT` failing traces share, earliest
  step first, one line per step (its most associated feature); tool results need `MIN_LOG_ODDS_TOOL`,
  as they mostly echo the order and the world (`IncentivePolicyAgent|generation|transfer_to_pricingagent|call
  transfer_to_pricingagent eligible_incentives=[1]`);
- how the run ended.
Two causes with the same symptom separate when they behave differently, and without grades the
behavior lines alone describe the trace. Case type, version set and regimes are left out on purpose:
they are the slices that explain patterns afterwards, so they must not shape the patterns themselves.
"""

from __future__ import annotations

import pandas as pd

MIN_LOG_ODDS = 1.5
MIN_LOG_ODDS_TOOL = 3.0
"""Tool results mostly echo the order and the world; one enters a document only when it goes with
failing far more strongly than a decision must."""
MIN_SUPPORT = 2
MAX_FEATURES = 6
"""Behavior lines a document keeps (the earliest steps': closest to where the run first went its own way)."""


def behavior_lines(features: pd.DataFrame) -> pd.Series:
    """Per run: its failure-associated features, earliest step first, as document lines.

    `features` carries `log_odds` and `support` (see `behavior.association`)."""
    tool = features.feature.str.contains("|function|", regex=False) & ~features.feature.str.contains(
        "error", regex=False
    )
    strong = features.log_odds >= pd.Series(MIN_LOG_ODDS_TOOL, index=features.index).where(tool, MIN_LOG_ODDS)
    keep = features[strong & (features.support >= MIN_SUPPORT)]
    if keep.empty:
        return pd.Series(dtype=object)
    keep = keep.assign(detail=keep.feature.str.len())
    keep = keep.sort_values(["run_id", "seq", "log_odds", "detail"], ascending=[True, True, False, False])
    keep = keep.drop_duplicates(["run_id", "seq"]).drop_duplicates(["run_id", "feature"])
    head = keep.groupby("run_id", sort=False, observed=True).head(MAX_FEATURES)
    line = head.feature.str.replace(r"\|+", " ", regex=True).str.strip()
    return line.groupby(head.run_id, sort=False, observed=True).agg(list)


def build(traces: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """One row per trace in `traces`: `run_id` and its `document`."""
    lines = behavior_lines(features[features.run_id.isin(set(traces.run_id))])
    docs = []
    for row in traces.itertuples(index=False):
        body = [f"symptom {s}" for s in getattr(row, "symptoms", []) or []]
        body += lines.get(row.run_id, []) if row.run_id in lines.index else []
        body.append(f"ended {row.run_outcome}")
        docs.append("\n".join(body))
    return pd.DataFrame({"run_id": traces.run_id.to_numpy(), "document": docs})
