"""Pick each trace's anchor: the step where its failure shows first. Documents, the diagnosis and the
review app all use this one definition, and every output says which rule chose the anchor.

Rules, the first that applies wins (earliest step within a rule):
0. `supplied by the user`: the step the user named for the trace (an `anchor` column of the outcomes
   file given to `evswarm import`, kept as `run.summary.anchor_step`);
1. `cited by a grader`: a step a failing rubric finding cites (where the symptom shows);
2. `failure marker`: a span error, a tripped guardrail, a tool output reporting an error or a failed
   check, an error-severity finding's step;
3. `failure marker in text (<name>)`: a tool output or message whose text shows a failure (a traceback,
   a non-zero exit code, an error, a refusal; the patterns are configurable, see `markers`);
4. `terminal step`: the run's final status entry, when the run did not complete;
5. `last step`: the trace's last event.
Cited runtime-log entries that the event table folds into their span resolve to that span.
"""

from __future__ import annotations

import pandas as pd

RULES = {
    0: "supplied by the user",
    1: "cited by a grader",
    2: "failure marker",
    3: "failure marker in text",
    4: "terminal step",
    5: "last step",
}
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


def _supplied(traces: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """run_id, seq of the step the user named for each trace (`user_anchor`), where it exists."""
    if "user_anchor" not in traces.columns:
        return pd.DataFrame(columns=["run_id", "seq"])
    named = traces[["run_id", "user_anchor"]].dropna().rename(columns={"user_anchor": "event_id"})
    return events[["run_id", "seq", "event_id"]].merge(named, on=["run_id", "event_id"])[["run_id", "seq"]]


def pick_anchors(traces: pd.DataFrame, events: pd.DataFrame, aliases: pd.DataFrame | None = None) -> pd.DataFrame:
    """run_id, anchor_seq, anchor_event_id, anchor_reason for every trace in `traces`."""
    ev = events[events.run_id.isin(set(traces.run_id))][["run_id", "seq", "event_id", "node_kind", "marker", "shape"]]
    marked = ev[ev.marker.isin(FAILURE_MARKERS) | ev["shape"].str.startswith("{error:")]
    in_text = ev[ev.marker.str.startswith("text_")]
    supplied = _supplied(traces, ev)
    not_completed = set(traces.loc[traces.run_outcome != "completed", "run_id"])
    status = ev[(ev.node_kind == "status") & ev.run_id.isin(not_completed)]
    terminal = status.groupby("run_id", sort=False)["seq"].max().reset_index()
    last = ev.groupby("run_id", sort=False)["seq"].max().reset_index()
    candidates = pd.concat(
        [
            supplied.assign(rule=0),
            _cited(traces, ev, aliases).assign(rule=1),
            marked[["run_id", "seq"]].assign(rule=2),
            in_text[["run_id", "seq"]].assign(rule=3),
            terminal.assign(rule=4),
            last.assign(rule=5),
        ],
        ignore_index=True,
    )
    best = candidates.sort_values(["run_id", "rule", "seq"]).drop_duplicates("run_id")
    best = best.merge(ev[["run_id", "seq", "event_id", "marker"]], on=["run_id", "seq"], how="left")
    reason = best.rule.map(RULES)
    text_rule = best.rule.eq(3)
    reason[text_rule] = reason[text_rule] + " (" + best.marker[text_rule].str.removeprefix("text_") + ")"
    best["anchor_reason"] = reason
    return best.rename(columns={"seq": "anchor_seq", "event_id": "anchor_event_id"})[
        ["run_id", "anchor_seq", "anchor_event_id", "anchor_reason"]
    ].reset_index(drop=True)
