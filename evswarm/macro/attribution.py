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
earns each from the data, and rules 2-4 apply only where no step earned a deviation.
With no passing traces at all (every run failed, or no outcomes), nothing can be contrasted: no step
deviates and no request is unusual, so rule 3 decides every trace, and the outputs say so.

Whose steps may be blamed is `Blameable` (`evswarm.core.speakers`): agents by default; people (a chat
log's user, a simulated user) and terminals (a speaker that runs others' code and reports the outcome)
only when asked. A step of a speaker not blameable is no candidate, no agent step for rule 3, and no
baseline's step.

The side of a suspect follows from its kind: model decisions and handoffs are the agent's, tool results
the tool's, environment events the environment's, and the virtual input step the input's.
Beside the suspect, three obvious baselines are kept for every trace, so a user sees whether the method
adds anything on their data: the last agent step before the anchor that is not the hub's, the agent
with the most steps, and the first agent step (people's messages are not agent steps).
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from evswarm.core.speakers import TURN_SPAN_TYPES, Blameable
from evswarm.macro import behavior

WEIGHTS = {"deviation": 0.7, "earliness": 0.2, "proximity": 0.1}
DEVIATING = 0.5
"""A step whose deviation reaches this share of the trace's strongest deviation departs from its peers
(earliness counts these)."""
FLOOR = 0.3
"""Below this deviation no step departs from its peers (and a request this little novel is usual)."""
CANDIDATE_KINDS = frozenset({"generation", "response", "function", "handoff", "guardrail", "environment"})
INPUT = "input"
RULE_CONTRAST = "contrast with peers"
RULE_INPUT = "unusual input"
RULE_NEAREST = "nearest agent step to the anchor"
RULE_NO_AGENT = "no agent step before the anchor"
TOP_STEPS = 5
"""Suspect steps kept per trace in `suspect_steps`."""
_BLOCK = 2048
"""Traces `attribute` turns into Python objects at a time."""


def side_of(kind: str) -> str:
    """Whose a step is: agent, tool, environment or input."""
    if kind == "function":
        return "tool"
    if kind == "environment":
        return "environment"
    if kind == INPUT:
        return "input"
    return "agent"


class _Step(NamedTuple):
    """One event of a trace, as attribution reads it."""

    seq: int
    event_id: str
    parent_id: str | None
    call_id: str | None
    node_kind: str
    agent_name: str
    target_agent: str | None
    tool_name: str
    deviation: float


def _content_hops(trace: list[_Step], anchor: str) -> dict[str, int]:
    """Hops from each step to the anchor over content edges (parent, tool call -> result, handoff -> agent)."""
    preds: dict[str, set[str]] = {}
    calls: dict[str, str] = {}
    pending: dict[str, str] = {}
    for step in trace:
        into = preds.setdefault(step.event_id, set())
        kind, call_id = step.node_kind, step.call_id
        if isinstance(step.parent_id, str):
            into.add(step.parent_id)
        if isinstance(call_id, str):
            if kind == "function" and call_id in calls:
                into.add(calls[call_id])
            elif kind in ("generation", "response"):
                calls[call_id] = step.event_id
        if kind == "handoff" and isinstance(step.target_agent, str):
            pending[step.target_agent] = step.event_id
        elif step.agent_name in pending and kind not in ("status", "finding"):
            into.add(pending.pop(step.agent_name))
    hops = {anchor: 0}
    queue = deque([anchor])
    while queue:
        node = queue.popleft()
        for pred in preds.get(node, ()):
            if pred not in hops:
                hops[pred] = hops[node] + 1
                queue.append(pred)
    return hops


def _blameable_turn(step: _Step, blame: Blameable) -> bool:
    """An agent step (a decision or handoff) of a speaker `blame` allows."""
    return step.node_kind in TURN_SPAN_TYPES and blame.allows(step.agent_name)


def _hub(trace: list[_Step], blame: Blameable) -> str | None:
    """The agent that opens the run: the agent of its first (blameable) agent step."""
    return next((s.agent_name for s in trace if _blameable_turn(s, blame)), None)


def _baselines(steps: list[_Step], hub: str | None, blame: Blameable) -> dict[str, str | None]:
    agents = [s.agent_name for s in steps if _blameable_turn(s, blame)]
    own = [agent for agent in agents if agent != hub] if hub else agents
    last = own or agents
    return {
        "baseline_last_agent": last[-1] if last else None,
        "baseline_most_frequent_agent": Counter(agents).most_common(1)[0][0] if agents else None,  # ties: first
        "baseline_first_agent": agents[0] if agents else None,
    }


@dataclass
class _Candidate:
    """A candidate step with its score parts (the input is the candidate with seq -1)."""

    seq: int
    event_id: str
    node_kind: str
    agent_name: str
    tool_name: str
    deviation: float
    earliness: float = 0.0
    hop: float = np.nan
    proximity: float = 0.0

    @property
    def score(self) -> float:
        return sum(w * getattr(self, part) for part, w in WEIGHTS.items())


def _nearest_turn(before: list[_Candidate], hub: str | None) -> _Candidate | None:
    """The agent step nearest the anchor among `before` (in seq order): the fewest content hops, else the
    last in time order. The hub's closing steps (its steps after every other agent's) are passed over when
    another agent acted before them. None with no agent step."""
    turns = [c for c in before if c.node_kind in TURN_SPAN_TYPES]
    others = [i for i, c in enumerate(turns) if c.agent_name != hub]
    if hub is not None and others:
        turns = turns[: others[-1] + 1]
    if not turns:
        return None
    reached = [c for c in turns if not np.isnan(c.hop)]
    if reached:
        return min(reached, key=lambda c: (c.hop, -c.seq))
    return turns[-1]


def _unit(value: object) -> float:
    """A deviation as a float in [0, 1]; missing counts 0."""
    number = np.nan if value is None else float(value)  # type: ignore[arg-type]
    return 0.0 if np.isnan(number) else min(max(number, 0.0), 1.0)


def step_deviation(
    features: pd.DataFrame, traces: pd.DataFrame, groups: pd.Series, analyzed: set[str], passing: set[str]
) -> pd.Series:
    """Per (run_id, seq) of the analyzed traces: the step's deviation, the largest contrast with passing
    peers of its features (`behavior.contrast`): its pattern's contrast for a pattern member (`groups`:
    run_id -> pattern), else the contrast of all analyzed traces taken as one group. With no passing
    peers every step's deviation is 0: there is nothing to contrast with."""
    mine = features.run_id.isin(analyzed).to_numpy()
    if passing:
        peers = behavior.peer_shares(features, traces, passing)
        value = behavior.contrast(features, traces, groups, passing, peers).to_numpy(copy=True)
        outside = behavior.contrast(features, traces, pd.Series(0, index=sorted(analyzed)), passing, peers)
        np.copyto(value, outside.to_numpy(), where=~features.run_id.isin(set(groups.index)).to_numpy())
        del outside, peers
    else:
        value = np.zeros(len(features))
    run_ids, seqs, value = features.run_id.to_numpy(dtype=object)[mine], features.seq.to_numpy()[mine], value[mine]
    run_code, run_names = pd.factorize(run_ids, sort=True)
    key = run_code.astype(np.int64) * (int(seqs.max(initial=0)) + 2) + (seqs + 1)
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
    best = np.maximum.reduceat(value, starts) if len(starts) else value[:0]
    steps = order[starts]
    index = pd.MultiIndex.from_arrays([run_names[run_code[steps]], seqs[steps]], names=["run_id", "seq"])
    return pd.Series(best, index=index)


def attribute(
    events: pd.DataFrame,
    anchors: pd.DataFrame,
    novelty: pd.Series | None = None,
    blame: Blameable | None = None,
    deviation: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the steps of each anchored trace and pick its suspect. Returns (suspect_steps, attribution).

    Each step's deviation is `deviation` (per (run_id, seq), from `step_deviation`; a step it lacks counts
    0), else the `deviation` column of `events`. `anchors` has run_id, anchor_seq, anchor_event_id,
    anchor_reason; `novelty` maps run_id to its request's novelty (`behavior.input_novelty`; missing: 0);
    `blame`: whose steps may be blamed (default: agents only).
    `suspect_steps`: the suspect and the next best steps (up to `TOP_STEPS`) per trace with their score
    parts, rank 1 the suspect. `attribution`: one row per trace with its suspect, the rule that chose it,
    its side, the rule that placed the anchor, and the three baselines. Traces are read `_BLOCK` at a time,
    so memory holds one block's steps as Python objects, not the batch's."""
    anchor_of = {row.run_id: row for row in anchors.itertuples(index=False)}
    novel = novelty.to_dict() if novelty is not None else {}
    blame = blame or Blameable()
    fields = list(_Step._fields) if deviation is None else [f for f in _Step._fields if f != "deviation"]
    mine = events.loc[events.run_id.isin(set(anchor_of)), ["run_id", *fields]]
    if mine.empty:
        return pd.DataFrame(), pd.DataFrame()
    mine = mine.sort_values(["run_id", "seq"], kind="stable")
    if deviation is not None:
        found = deviation.reindex(pd.MultiIndex.from_arrays([mine.run_id, mine.seq])).to_numpy()
        mine = mine.assign(deviation=found)
    run_ids = mine.run_id.to_numpy()
    starts = [0, *(np.flatnonzero(run_ids[1:] != run_ids[:-1]) + 1).tolist(), len(run_ids)]
    steps_out: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    for first in range(0, len(starts) - 1, _BLOCK):
        bounds = starts[first : first + _BLOCK + 1]
        block = mine.iloc[bounds[0] : bounds[-1]]
        steps = [_Step(*values) for values in zip(*(block[c].tolist() for c in _Step._fields), strict=True)]
        for lo, hi in itertools.pairwise(bounds):
            run_id = str(run_ids[lo])
            trace = steps[lo - bounds[0] : hi - bounds[0]]
            ranked, row = _attribute_trace(run_id, trace, anchor_of[run_id], novel.get(run_id, 0.0), blame)
            steps_out += ranked
            rows.append(row)
    return pd.DataFrame(steps_out), pd.DataFrame(rows)


def _attribute_trace(
    run_id: str, trace: list[_Step], anchor: Any, novelty: float, blame: Blameable
) -> tuple[list[dict[str, object]], dict[str, object]]:
    """One trace (its events in seq order): its ranked suspect steps and its attribution row."""
    hub = _hub(trace, blame)
    before = [
        _Candidate(s.seq, s.event_id, s.node_kind, s.agent_name, s.tool_name or "", _unit(s.deviation))
        for s in trace
        if s.seq <= anchor.anchor_seq
        and s.node_kind in CANDIDATE_KINDS
        and (s.node_kind not in TURN_SPAN_TYPES or _blameable_turn(s, blame))
    ]
    strongest = max((c.deviation for c in before), default=0.0)
    unusual = [c.deviation >= max(DEVIATING * strongest, FLOOR) for c in before]
    hops = _content_hops(trace, str(anchor.anchor_event_id))
    rank = 0
    for candidate, departs in zip(before, unusual, strict=True):
        if departs:
            candidate.earliness = 1.0 / (1.0 + rank)
            rank += 1
        if candidate.event_id in hops:
            candidate.hop = float(hops[candidate.event_id])
            candidate.proximity = 1.0 / (1.0 + candidate.hop)
    asked = float(np.clip(novelty, 0.0, 1.0))
    entry = _Candidate(-1, f"{run_id}::input", INPUT, INPUT, "", asked)
    chosen: _Candidate | None
    if any(unusual):
        rule, chosen = RULE_CONTRAST, min(before, key=lambda c: (-c.score, c.seq))
    elif asked >= FLOOR:
        rule, chosen = RULE_INPUT, entry
    else:
        chosen = _nearest_turn(before, hub)
        rule = RULE_NEAREST if chosen is not None else RULE_NO_AGENT
        chosen = chosen or entry
    ranked = sorted([entry, *before], key=lambda c: (c is not chosen, -c.score, c.seq))[:TOP_STEPS]
    out = [
        {"run_id": run_id, **asdict(c), "score": c.score, "rank": i, "anchor_event_id": anchor.anchor_event_id}
        for i, c in enumerate(ranked, start=1)
    ]
    top = ranked[0]
    side = side_of(top.node_kind)
    row: dict[str, object] = {
        "run_id": run_id,
        "suspect_event_id": top.event_id,
        "suspect_seq": int(top.seq),
        "suspect_agent": top.agent_name,
        "suspect_kind": top.node_kind,
        "suspect_tool": top.tool_name,
        "suspect_side": side,
        "suspect_component": top.tool_name if side == "tool" else top.agent_name,
        "suspect_rule": rule,
        "score": float(top.score),
        "deviation": float(top.deviation),
        "earliness": float(top.earliness),
        "proximity": float(top.proximity),
        "anchor_event_id": anchor.anchor_event_id,
        "anchor_rule": anchor.anchor_reason,
        "unusual_steps": int(sum(unusual)),
        **_baselines([s for s in trace if s.seq <= anchor.anchor_seq], hub, blame),
    }
    return out, row


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
