"""Per-trace attribution: which step (and so which agent, tool or input) a failing trace went wrong at.

For every analyzed trace, from its anchor (where the failure shows, see `anchors`), every step before
it that acts (model decisions, tool results, handoffs, environment events; not findings, status entries
or a person's messages) is a candidate, scored

    score = 0.7·deviation + 0.2·earliness + 0.1·proximity,   each part in [0, 1]

- deviation = the step's contrast with passing peers (see `behavior.contrast`): how much more often the
  trace's pattern takes this step (with these contents) than passing peers of the same case types do;
  for a trace outside every pattern, how much more often the analyzed traces as a whole take it. Steps
  every run takes score 0; a step only the group takes scores 1. Chat messages are compared through
  their words and the JSON written inside them (see `shapes`).
- earliness = 1 / (1 + k) for the k-th deviating step of the trace (deviation at least half the trace's
  strongest and at least `FLOOR`; k = 0 for the first), 0 for the other steps: later departures are
  often consequences of an earlier one.
- proximity = 1 / (1 + hops) from the step to the anchor over content edges (a tool call to its result,
  a handoff to the agent it names, a span to its parent); 0 when no content route reaches the anchor.

The suspect is chosen by the first rule that applies, and every attribution row names it (`suspect_rule`):
1. `contrast with peers`: some step deviates; the best score wins (ties: the earlier step).
2. `unusual input`: no step deviates, and the run's request (its virtual step `input`) is unlike the
   requests of passing peers (`behavior.input_novelty`: a feature of the request that at least two
   failing traces share and fewer than 5% of passing peers have, at least `FLOOR`). The run handled an
   unusual request the way its peers handle usual ones, and still failed.
3. `nearest agent step to the anchor`: no step deviates and the request is usual, so contrast names no
   one; the suspect is the agent step that produced what the failure shows: of the agent steps up to the
   anchor, the one nearest it over content edges, else the last in time order. The hub's closing steps
   are passed over when another agent acted before them (the hub, the agent of the trace's first agent
   step, closes by relaying the others' work).
4. `no agent step before the anchor`: the input.
The input is never blamed for want of evidence against the agents: it wins only on its own novelty
(rule 2) or when no agent acted (rule 4). No score part is given to any step by construction: a step
earns each from the data, and rules 2-4 apply only where no step earned a deviation. With no passing
traces at all, every feature contrasts by its share alone, so earliness mostly decides.

The side of a suspect follows from its kind: model decisions and handoffs are the agent's, tool results
the tool's, environment events the environment's, and the virtual input step the input's.
Beside the suspect, three obvious baselines are kept for every trace, so a user sees whether the method
adds anything on their data: the last agent step before the anchor that is not the hub's, the agent
with the most steps, and the first agent step (people's messages are not agent steps).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from evswarm.macro import behavior

WEIGHTS = {"deviation": 0.7, "earliness": 0.2, "proximity": 0.1}
DEVIATING = 0.5
"""A step whose deviation reaches this share of the trace's strongest deviation departs from its peers
(earliness counts these)."""
FLOOR = 0.3
"""Below this deviation no step departs from its peers (and a request this little novel is usual)."""
CANDIDATE_KINDS = frozenset({"generation", "response", "function", "handoff", "guardrail", "environment"})
AGENT_KINDS = frozenset({"generation", "response", "handoff", "guardrail"})
INPUT = "input"
PEOPLE = frozenset({"user", "human", "customer"})
"""Speakers that are people, not agents (an imported chat log's user turns)."""
RULE_CONTRAST = "contrast with peers"
RULE_INPUT = "unusual input"
RULE_NEAREST = "nearest agent step to the anchor"
RULE_NO_AGENT = "no agent step before the anchor"
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


def _hub(trace: pd.DataFrame) -> str | None:
    """The agent that opens the run: the agent of its first agent step."""
    agents = trace.agent_name[trace.node_kind.isin(AGENT_KINDS) & ~trace.agent_name.isin(PEOPLE)]
    return str(agents.iloc[0]) if len(agents) else None


def _baselines(steps: pd.DataFrame, hub: str | None) -> dict[str, str | None]:
    agents = steps[steps.node_kind.isin(AGENT_KINDS) & ~steps.agent_name.isin(PEOPLE)]
    own = agents[agents.agent_name != hub] if hub else agents
    last = (own if not own.empty else agents).agent_name
    return {
        "baseline_last_agent": str(last.iloc[-1]) if len(last) else None,
        "baseline_most_frequent_agent": str(agents.agent_name.value_counts().index[0]) if len(agents) else None,
        "baseline_first_agent": str(agents.agent_name.iloc[0]) if len(agents) else None,
    }


def _input_step(run_id: str, novelty: float) -> dict[str, object]:
    """The virtual input step (the run's request), its deviation the request's novelty."""
    return {
        "run_id": run_id, "seq": -1, "event_id": f"{run_id}::input", "node_kind": INPUT, "agent_name": INPUT,
        "tool_name": "", "deviation": novelty, "earliness": 0.0, "proximity": 0.0, "hop": np.nan,
    }  # fmt: skip


def _nearest_turn(before: pd.DataFrame, hub: str | None) -> int | None:
    """Row label of the agent step nearest the anchor among `before`: the fewest content hops, else the
    last in time order. The hub's closing steps (its steps after every other agent's) are passed over when
    another agent acted before them. None with no agent step."""
    turns = before[before.node_kind.isin(AGENT_KINDS) & ~before.agent_name.isin(PEOPLE)].sort_values("seq")
    others = np.flatnonzero(turns.agent_name.to_numpy() != hub)
    if hub is not None and len(others):
        turns = turns.iloc[: others[-1] + 1]
    if turns.empty:
        return None
    reached = turns[turns.hop.notna()]
    if len(reached):
        return int(reached.sort_values(["hop", "seq"], ascending=[True, False]).index[0])
    return int(turns.index[-1])


def step_deviation(
    features: pd.DataFrame, traces: pd.DataFrame, groups: pd.Series, analyzed: set[str], passing: set[str]
) -> pd.Series:
    """Per (run_id, event_id) of the analyzed traces: the step's deviation, the largest contrast with passing
    peers of its features (`behavior.contrast`): its pattern's contrast for a pattern member (`groups`:
    run_id -> pattern), else the contrast of all analyzed traces taken as one group."""
    in_pattern = features.run_id.isin(set(groups.index))
    everyone = pd.Series(0, index=sorted(analyzed))
    peers = behavior.peer_shares(features, traces, passing)
    value = behavior.contrast(features, traces, groups, passing, peers).where(
        in_pattern, behavior.contrast(features, traces, everyone, passing, peers)
    )
    mine = features.run_id.isin(analyzed)
    return value[mine].groupby([features.run_id[mine], features.event_id[mine]]).max()


def attribute(
    events: pd.DataFrame, anchors: pd.DataFrame, novelty: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the steps of each anchored trace and pick its suspect. Returns (suspect_steps, attribution).

    `events` carries `deviation` per step (`step_deviation`); `anchors` has run_id, anchor_seq, anchor_event_id,
    anchor_reason; `novelty` maps run_id to its request's novelty (`behavior.input_novelty`; missing: 0).
    `suspect_steps`: the suspect and the next best steps (up to `TOP_STEPS`) per trace with their score
    parts, rank 1 the suspect. `attribution`: one row per trace with its suspect, the rule that chose it,
    its side, the rule that placed the anchor, and the three baselines."""
    steps_out: list[pd.DataFrame] = []
    rows: list[dict[str, object]] = []
    anchor_of = anchors.set_index("run_id")
    novel = novelty if novelty is not None else pd.Series(dtype=float)
    mine = events[events.run_id.isin(set(anchors.run_id))].sort_values(["run_id", "seq"], kind="stable")
    for run_id, trace in mine.groupby("run_id", sort=True):
        anchor = anchor_of.loc[run_id]
        hub = _hub(trace)
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
        asked = float(np.clip(novel.get(run_id, 0.0), 0.0, 1.0))
        before = pd.concat([pd.DataFrame([_input_step(str(run_id), asked)]), before], ignore_index=True)
        before["score"] = sum(w * before[part] for part, w in WEIGHTS.items())
        if unusual.any():
            rule = RULE_CONTRAST
            acting = before.iloc[1:]
            chosen = acting.sort_values(["score", "seq"], ascending=[False, True]).index[0]
        elif asked >= FLOOR:
            rule, chosen = RULE_INPUT, 0
        else:
            nearest = _nearest_turn(before.iloc[1:], hub)
            rule, chosen = (RULE_NEAREST, nearest) if nearest is not None else (RULE_NO_AGENT, 0)
        before["chosen"] = before.index == chosen
        ranked = before.sort_values(["chosen", "score", "seq"], ascending=[False, False, True]).head(TOP_STEPS)
        ranked = ranked.drop(columns="chosen").assign(
            rank=range(1, len(ranked) + 1), anchor_event_id=anchor.anchor_event_id
        )
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
                "suspect_rule": rule,
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
