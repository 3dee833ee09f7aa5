"""Per-trace attribution: which step (and so which agent, tool or input) a failing trace went wrong at.

For every analyzed trace, from its anchor (where the failure shows, see `anchors`), every step before
it that acts (model decisions, tool results, handoffs, environment events; not findings or status
entries) is a candidate, scored

    score = 0.7·deviation + 0.2·earliness + 0.1·proximity,   each part in [0, 1]

- deviation = the step's contrast (see `behavior`): how much more often the trace's pattern takes this
  step (with these contents) than passing peers of the same case types do. For a trace that fits no
  pattern, its own log odds of failing with the step's features, scaled to [0, 1] (`LOG_ODDS_SCALE`).
  Steps every run takes score 0; a step only the pattern takes scores 1.
- earliness = 1 / (1 + k) for the k-th deviating step of the trace (deviation at least half the trace's
  strongest and at least `FLOOR`; k = 0 for the first), 0 for the other steps: later departures are
  often consequences of an earlier one.
- proximity = 1 / (1 + hops) from the step to the anchor over content edges (a tool call to its result,
  a handoff to the agent it names, a span to its parent); 0 when no content route reaches the anchor.

No part is given to any step by construction: a step earns each from the data. When no step before the
anchor deviates, the run behaved like its peers and still failed, so the *input* (the order, the user's
request) is the suspect: a virtual step `input` gets deviation 1 (documented fallback). With no passing
traces at all, every feature contrasts fully, so earliness decides (the first step that acts).

The side of a suspect follows from its kind: model decisions and handoffs are the agent's, tool results
the tool's, environment events the environment's, and the virtual input step the input's.
Beside the score, three obvious baselines are kept for every trace, so a user sees whether the method
adds anything on their data: the last agent step before the anchor (skipping the hub's closing turn),
the agent with the most steps, and the first agent step.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

WEIGHTS = {"deviation": 0.7, "earliness": 0.2, "proximity": 0.1}
DEVIATING = 0.5
"""A step whose deviation reaches this share of the trace's strongest deviation departs from its peers
(earliness counts these)."""
FLOOR = 0.3
"""Below this deviation no step departs from its peers, and the input is the suspect."""
LOG_ODDS_SCALE = 4.0
"""Log odds of failing that count as a full deviation, for traces outside every pattern."""
CANDIDATE_KINDS = frozenset({"generation", "response", "function", "handoff", "guardrail", "environment"})
AGENT_KINDS = frozenset({"generation", "response", "handoff", "guardrail"})
INPUT = "input"
TOP_STEPS = 5
"""Suspect steps kept per trace in `suspect_steps`."""


def side_of(kind: str) -> str:
    """Whose a step is: agent, tool, environment or input."""
    if kind == "function":
        return "tool"
    if kind == "environment":
        return "environment"
    if kind == INPUT:
        return "input"
    return "agent"


def _content_hops(trace: pd.DataFrame, anchor: str) -> dict[str, int]:
    """Hops from each step to the anchor over content edges (parent, tool call -> result, handoff -> agent)."""
    preds: dict[str, set[str]] = {}
    calls: dict[str, str] = {}
    pending: dict[str, str] = {}
    for event_id, parent, call_id, kind, agent, target in zip(
        trace.event_id,
        trace.parent_id,
        trace.call_id,
        trace.node_kind,
        trace.agent_name,
        trace.target_agent,
        strict=True,
    ):
        into = preds.setdefault(event_id, set())
        if isinstance(parent, str):
            into.add(parent)
        if isinstance(call_id, str):
            if kind == "function" and call_id in calls:
                into.add(calls[call_id])
            elif kind in ("generation", "response"):
                calls[call_id] = event_id
        if kind == "handoff" and isinstance(target, str):
            pending[target] = event_id
        elif agent in pending and kind not in ("status", "finding"):
            into.add(pending.pop(agent))
    hops = {anchor: 0}
    queue = deque([anchor])
    while queue:
        node = queue.popleft()
        for pred in preds.get(node, ()):
            if pred not in hops:
                hops[pred] = hops[node] + 1
                queue.append(pred)
    return hops


def _baselines(steps: pd.DataFrame, hub: str | None) -> dict[str, str | None]:
    agents = steps[steps.node_kind.isin(AGENT_KINDS)]
    own = agents[agents.agent_name != hub] if hub else agents
    last = (own if not own.empty else agents).agent_name
    return {
        "baseline_last_agent": str(last.iloc[-1]) if len(last) else None,
        "baseline_most_frequent_agent": str(agents.agent_name.value_counts().index[0]) if len(agents) else None,
        "baseline_first_agent": str(agents.agent_name.iloc[0]) if len(agents) else None,
    }


def step_deviation(features: pd.DataFrame) -> pd.Series:
    """Per (run_id, event_id): the step's deviation, from its features' `contrast` (pattern members) or
    `log_odds` (traces outside every pattern, `in_pattern` False)."""
    own = (features.log_odds.clip(lower=0.0) / LOG_ODDS_SCALE).clip(upper=1.0)
    value = features.contrast.where(features.in_pattern, own)
    return value.groupby([features.run_id, features.event_id]).max()


def attribute(events: pd.DataFrame, anchors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the steps of each anchored trace. Returns (suspect_steps, attribution).

    `events` carries `deviation` per step (`step_deviation`); `anchors` has run_id, anchor_seq, anchor_event_id,
    anchor_reason. `suspect_steps`: the top `TOP_STEPS` steps per trace with their score parts, rank 1
    first. `attribution`: one row per trace with its top suspect, its side, the rule that placed the
    anchor, and the three baselines."""
    steps_out: list[pd.DataFrame] = []
    rows: list[dict[str, object]] = []
    anchor_of = anchors.set_index("run_id")
    mine = events[events.run_id.isin(set(anchors.run_id))].sort_values(["run_id", "seq"], kind="stable")
    for run_id, trace in mine.groupby("run_id", sort=True):
        anchor = anchor_of.loc[run_id]
        hub = str(trace.agent_name.iloc[0]) if len(trace) else None
        before = trace[(trace.seq <= anchor.anchor_seq) & trace.node_kind.isin(CANDIDATE_KINDS)].copy()
        before["tool_name"] = before.tool_name.fillna("")
        before["deviation"] = before.deviation.astype(float).fillna(0.0).clip(0.0, 1.0)
        strongest = float(before.deviation.max()) if len(before) else 0.0
        unusual = (before.deviation >= max(DEVIATING * strongest, FLOOR)).to_numpy()
        rank = np.cumsum(unusual) - 1
        before["earliness"] = np.where(unusual, 1.0 / (1.0 + np.maximum(rank, 0)), 0.0)
        hops = _content_hops(trace, str(anchor.anchor_event_id))
        before["hop"] = before.event_id.map(hops)
        before["proximity"] = (1.0 / (1.0 + before.hop)).fillna(0.0)
        if not unusual.any():
            virtual = {
                "run_id": run_id, "seq": -1, "event_id": f"{run_id}::input", "node_kind": INPUT,
                "agent_name": INPUT, "tool_name": "", "deviation": 1.0, "earliness": 1.0, "proximity": 0.0,
                "hop": np.nan,
            }  # fmt: skip
            before = pd.concat([pd.DataFrame([virtual]), before], ignore_index=True)
        before["score"] = sum(w * before[part] for part, w in WEIGHTS.items())
        ranked = before.sort_values(["score", "seq"], ascending=[False, True]).head(TOP_STEPS)
        ranked = ranked.assign(rank=range(1, len(ranked) + 1), anchor_event_id=anchor.anchor_event_id)
        steps_out.append(ranked)
        top = ranked.iloc[0]
        side = side_of(str(top.node_kind))
        rows.append(
            {
                "run_id": run_id,
                "suspect_event_id": top.event_id,
                "suspect_seq": int(top.seq),
                "suspect_agent": str(top.agent_name),
                "suspect_kind": str(top.node_kind),
                "suspect_tool": str(top.tool_name or ""),
                "suspect_side": side,
                "suspect_component": str(top.tool_name) if side == "tool" else str(top.agent_name),
                "score": float(top.score),
                "deviation": float(top.deviation),
                "earliness": float(top.earliness),
                "proximity": float(top.proximity),
                "anchor_event_id": anchor.anchor_event_id,
                "anchor_rule": anchor.anchor_reason,
                "unusual_steps": int(unusual.sum()),
                **_baselines(trace[trace.seq <= anchor.anchor_seq], hub),
            }
        )
    steps = pd.concat(steps_out, ignore_index=True) if steps_out else pd.DataFrame()
    return steps, pd.DataFrame(rows)


def pattern_suspects(attribution: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Per pattern, each suspect component (agent, tool, environment or input) with the share of the
    pattern's traces whose top suspect it is, best first: a pattern with two causes shows both."""
    joined = attribution.merge(assignments[["run_id", "pattern_id"]], on="run_id")
    joined = joined[joined.pattern_id >= 0]
    if joined.empty:
        return pd.DataFrame(
            columns=["pattern_id", "rank", "component", "side", "traces", "share", "mean_score", "example_step"]
        )
    grouped = joined.groupby(["pattern_id", "suspect_component", "suspect_side"], as_index=False).agg(
        traces=("run_id", "nunique"), mean_score=("score", "mean"), example_step=("suspect_event_id", "first")
    )
    sizes = joined.groupby("pattern_id").run_id.nunique()
    grouped["share"] = grouped.traces / grouped.pattern_id.map(sizes)
    grouped = grouped.sort_values(["pattern_id", "traces", "mean_score"], ascending=[True, False, False])
    grouped["rank"] = grouped.groupby("pattern_id").cumcount() + 1
    return grouped.rename(columns={"suspect_component": "component", "suspect_side": "side"}).reset_index(drop=True)
