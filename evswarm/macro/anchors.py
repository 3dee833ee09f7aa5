"""Pick each trace's anchor: the step where its failure shows first. Documents, the diagnosis and the
review app all use this one definition, and every output says which rule chose the anchor.

Rules, the first that applies wins (earliest step within a rule):
1. `cited by a grader`: a step a failing rubric finding cites (where the symptom shows);
2. `failure marker`: a span error, a tripped guardrail, a tool output reporting an error or a failed
   check, an error-severity finding's step;
3. `terminal step`: the run's final status entry, when the run did not complete;
4. `last step`: the trace's last event.
Cited runtime-log entries that the event table folds into their span resolve to that span.
"""

from __future__ import annotations

import pandas as pd

RULES = {1: "cited by a grader", 2: "failure marker", 3: "terminal step", 4: "last step"}
FAILURE_MARKERS = frozenset({"span_error", "guardrail_tripped", "tool_check_failed", "finding_error"})


def _cited(traces: pd.DataFrame, events: pd.DataFrame, aliases: pd.DataFrame | None) -> pd.DataFrame:
    """run_id, seq of every cited id that resolves to an event row."""
    if "cited_ids" not in traces.columns:
        return pd.DataFrame(columns=["run_id", "seq"])
    cited = traces[["run_id", "cited_ids"]].explode("cited_ids").dropna()
    cited = cited.rename(columns={"cited_ids": "event_id"})
    if aliases is not None and not aliases.empty:
        resolved = cited.merge(
            aliases.rename(columns={"event_id": "target"}),
            left_on=["run_id", "event_id"],
            right_on=["run_id", "alias"],
            how="left",
        )
        resolved["event_id"] = resolved.target.where(resolved.target.notna(), resolved.event_id)
        cited = resolved[["run_id", "event_id"]]
    return events[["run_id", "seq", "event_id"]].merge(cited, on=["run_id", "event_id"])[["run_id", "seq"]]


def pick_anchors(traces: pd.DataFrame, events: pd.DataFrame, aliases: pd.DataFrame | None = None) -> pd.DataFrame:
    """run_id, anchor_seq, anchor_event_id, anchor_reason for every trace in `traces`."""
    ev = events[events.run_id.isin(set(traces.run_id))][["run_id", "seq", "event_id", "node_kind", "marker", "shape"]]
    marked = ev[ev.marker.isin(FAILURE_MARKERS) | ev["shape"].str.startswith("{error:")]
    not_completed = set(traces.loc[traces.run_outcome != "completed", "run_id"])
    status = ev[(ev.node_kind == "status") & ev.run_id.isin(not_completed)]
    terminal = status.groupby("run_id", sort=False)["seq"].max().reset_index()
    last = ev.groupby("run_id", sort=False)["seq"].max().reset_index()
    candidates = pd.concat(
        [
            _cited(traces, ev, aliases).assign(rule=1),
            marked[["run_id", "seq"]].assign(rule=2),
            terminal.assign(rule=3),
            last.assign(rule=4),
        ],
        ignore_index=True,
    )
    best = candidates.sort_values(["run_id", "rule", "seq"]).drop_duplicates("run_id")
    best = best.merge(ev[["run_id", "seq", "event_id"]], on=["run_id", "seq"], how="left")
    best["anchor_reason"] = best.rule.map(RULES)
    return best.rename(columns={"seq": "anchor_seq", "event_id": "anchor_event_id"})[
        ["run_id", "anchor_seq", "anchor_event_id", "anchor_reason"]
    ].reset_index(drop=True)
