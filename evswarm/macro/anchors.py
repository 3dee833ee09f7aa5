"""Pick each trace's anchor event: where its failure shows first. One definition, used by the
documents and by the diagnosis alike.

Order of preference (first that exists, earliest in the trace):
1. a step the grader cites precisely: rationales cite evidence ids, and an id cited by a rubric that
   names at most four steps weighs at least 1/4; the earliest such step;
2. the span a warning/error finding cites (`finding.span_id`): the step the finding is about;
3. the earliest structural failure marker (span error, tripped guardrail, tool output reporting
   findings or a failed check, non-completed terminal status);
4. any step the grader cites;
5. the earliest finding row;
6. the last event.
Cited runtime-log entries that the event table folds into their span resolve to that span.
"""

from __future__ import annotations

import pandas as pd

ANCHOR_REASONS = {
    1: "cited precisely by the grader",
    2: "cited by a finding",
    3: "first failure marker",
    4: "cited by the grader",
    5: "first finding",
    6: "last event",
}
PRECISE_WEIGHT = 0.25


def _cited(traces: pd.DataFrame, events: pd.DataFrame, aliases: pd.DataFrame | None) -> pd.DataFrame:
    """run_id, seq, weight of every cited id that resolves to an event row."""
    if "cited_ids" not in traces.columns:
        return pd.DataFrame(columns=["run_id", "seq", "weight"])
    cited = traces[["run_id", "cited_ids", "cited_weights"]].explode(["cited_ids", "cited_weights"]).dropna()
    cited = cited.rename(columns={"cited_ids": "event_id", "cited_weights": "weight"})
    if aliases is not None and not aliases.empty:
        resolved = cited.merge(
            aliases.rename(columns={"event_id": "target"}),
            left_on=["run_id", "event_id"],
            right_on=["run_id", "alias"],
            how="left",
        )
        resolved["event_id"] = resolved.target.where(resolved.target.notna(), resolved.event_id)
        cited = resolved[["run_id", "event_id", "weight"]]
    hit = events[["run_id", "seq", "event_id"]].merge(cited, on=["run_id", "event_id"])
    return hit.groupby(["run_id", "seq"], as_index=False).weight.sum()


def pick_anchors(traces: pd.DataFrame, events: pd.DataFrame, aliases: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return run_id, anchor_seq, anchor_event_id, anchor_reason for every trace in `traces`."""
    ev = events[events.run_id.isin(set(traces.run_id))]
    ev = ev[["run_id", "seq", "event_id", "node_kind", "marker", "parent_id", "finding_severity"]]
    cited = _cited(traces, ev, aliases)
    candidates: list[pd.DataFrame] = [
        cited[cited.weight.astype(float) >= PRECISE_WEIGHT][["run_id", "seq"]].assign(prio=1),
        cited[["run_id", "seq"]].assign(prio=4),
    ]
    serious = ev[(ev.node_kind == "finding") & ev.finding_severity.isin(["error", "warning"]) & ev.parent_id.notna()]
    by_finding = ev.merge(
        serious[["run_id", "parent_id"]].rename(columns={"parent_id": "event_id"}), on=["run_id", "event_id"]
    )[["run_id", "seq"]]
    candidates.append(by_finding.assign(prio=2))
    structural = ev[(ev.marker != "") & (ev.node_kind != "finding")]
    candidates.append(structural[["run_id", "seq"]].assign(prio=3))
    candidates.append(ev[ev.node_kind == "finding"][["run_id", "seq"]].assign(prio=5))
    last = ev.groupby("run_id", sort=False)["seq"].max().reset_index()
    candidates.append(last.assign(prio=6))
    allc = pd.concat(candidates, ignore_index=True)
    best = allc.sort_values(["run_id", "prio", "seq"]).drop_duplicates("run_id")
    best = best.merge(ev[["run_id", "seq", "event_id"]], on=["run_id", "seq"], how="left")
    best["anchor_reason"] = best.prio.map(ANCHOR_REASONS)
    return best.rename(columns={"seq": "anchor_seq", "event_id": "anchor_event_id"})[
        ["run_id", "anchor_seq", "anchor_event_id", "anchor_reason"]
    ].reset_index(drop=True)
