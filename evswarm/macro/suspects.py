"""Root-cause suspects on each trace's execution graph, rolled up per pattern.

For each drilled trace: start at its anchor and find the **origin**. When the grader cited the anchor
precisely (a rubric verdict naming at most four steps: the report or tool call where the responsible
agent decided), the anchor is the origin: the grader compared the run with the correct handling and
located the decision. Otherwise the anchor is only where the failure shows (a marker, a finding), so
walk back over every upstream step and take the earliest one (findings and status entries aside) that
departs from runs that went fine (frequency >= 0.5, below), else the anchor.
Then walk back up to `max_hops` from the origin and score each step found there (the origin
included, at 0 hops):

score = 0.4·proximity + 0.3·frequency + 0.2·bridge + 0.1·role, each component in [0, 1]:

- proximity = 1 / (1 + hops) from the step to the origin over any edge kind (the origin itself: 1);
- frequency = how much more often this exact step (agent, kind, tool, the agent that handed over
  control, and its generalized text) precedes this pattern's anchors than it occurs in clean runs of
  the same case types: its share among the pattern's drilled traces minus the case-matched clean
  share, clipped at 0. Steps every run takes score 0; a step only this pattern takes scores its coverage;
- bridge = the share of the walked steps whose shortest route to the origin passes through this
  step (betweenness restricted to the walk; the origin counts as on every route);
- role = what kind of step it is: a model decision 1.0, a tool result 0.8, a handoff 0.6,
  an agent start or guardrail 0.4, a status/log entry 0.2, a finding or review signal 0.0
  (findings report a failure; they do not cause it).

Per pattern, steps are grouped by (agent, kind, tool); `pattern_score` = mean score where present ×
trace coverage, so a suspect must recur across the pattern to lead, not only score high once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import pandas as pd

from evswarm.macro.graph import build_graph

WEIGHTS = {"proximity": 0.4, "frequency": 0.3, "bridge": 0.2, "role": 0.1}
ROLE = {
    "generation": 1.0,
    "response": 1.0,
    "function": 0.8,
    "handoff": 0.6,
    "agent": 0.4,
    "guardrail": 0.4,
    "custom": 0.4,
    "status": 0.2,
    "log": 0.2,
    "review": 0.0,
    "finding": 0.0,
}
SIGNAL_KINDS = {"finding", "review", "status", "log"}
ORIGIN_MIN_FREQUENCY = 0.5
PRECISE_REASON = "cited precisely by the grader"
"""An anchor the grader cited precisely is where the decision went wrong: it is the origin itself."""


def step_signatures(events: pd.DataFrame) -> pd.Series:
    """A step's identity across runs: agent, kind, tool, the agent that handed over control, and
    its text with numbers and dashed identifiers generalized. Vectorized over the event table."""
    from evswarm.macro.documents import generalize_series

    ordered = events.sort_values(["run_id", "seq"], kind="stable")
    handed = ordered.source_agent.where(ordered.node_kind == "handoff")
    ctx = handed.groupby(ordered.run_id).ffill().groupby(ordered.run_id).shift(1).fillna("start")
    text = generalize_series(ordered.text.str.slice(0, 200))
    sig = (
        ordered.agent_name.astype(str)
        + "|"
        + ordered.node_kind.astype(str)
        + "|"
        + ordered.tool_name.fillna("").astype(str)
        + "|after "
        + ctx.astype(str)
        + "|"
        + text
    )
    return sig.reindex(events.index)


def walk_back(g: nx.DiGraph, anchor: str, max_hops: int) -> dict[str, int]:
    """Hop distance of every step that can reach the anchor within `max_hops` (anchor: 0)."""
    return dict(nx.single_source_shortest_path_length(g.reverse(copy=False), anchor, cutoff=max_hops))


def bridge_scores(g: nx.DiGraph, anchor: str, hops: dict[str, int]) -> dict[str, float]:
    sub = g.subgraph(hops)
    sources = [n for n in hops if n != anchor]
    if not sources:
        return {anchor: 1.0}
    bc = nx.betweenness_centrality_subset(sub, sources=sources, targets=[anchor], normalized=False)
    out = {n: min(1.0, bc.get(n, 0.0) / len(sources)) for n in hops}
    out[anchor] = 1.0
    return out


@dataclass
class Diagnosis:
    """Per-trace suspect rows, the per-pattern rollup, and one representative trace per pattern."""

    per_trace: pd.DataFrame
    rollup: pd.DataFrame
    graphs: dict[str, nx.DiGraph]


def _frequency(walks: pd.DataFrame, events: pd.DataFrame, clean_runs: list[str], case_of: dict[str, str]) -> pd.Series:
    """Contrast frequency per (pattern_id, signature): the share of the pattern's drilled traces whose
    walk holds the step, minus the share of clean runs holding it, matched to the pattern's case-type
    mix (a case type without clean runs is compared with all clean runs)."""
    drilled = walks.groupby("pattern_id").run_id.nunique()
    counts = walks.groupby(["pattern_id", "signature"]).run_id.nunique()
    in_pattern = counts / drilled.reindex(counts.index.get_level_values(0)).to_numpy()
    if not clean_runs:
        return in_pattern.clip(0.0, 1.0)
    clean = events[events.run_id.isin(set(clean_runs))]
    table = pd.DataFrame({"run_id": clean.run_id.to_numpy(), "signature": step_signatures(clean).to_numpy()})
    table = table.drop_duplicates()
    table["case"] = table.run_id.map(lambda r: case_of.get(r, "?"))
    runs_per_case = pd.Series(clean_runs).map(lambda r: case_of.get(r, "?")).value_counts()
    by_case = table.groupby(["case", "signature"]).run_id.nunique().rename("n").reset_index()
    by_case["share"] = by_case.n / by_case.case.map(runs_per_case)
    overall = table.groupby("signature").run_id.nunique() / len(clean_runs)
    mix = walks[["pattern_id", "run_id"]].drop_duplicates()
    mix["case"] = mix.run_id.map(lambda r: case_of.get(r, "?"))
    mix = mix.groupby(["pattern_id", "case"]).size().rename("w").reset_index()
    mix["w"] = mix.w / mix.groupby("pattern_id").w.transform("sum")
    keys = in_pattern.reset_index()[["pattern_id", "signature"]].merge(mix, on="pattern_id")
    matched = keys.merge(by_case[["case", "signature", "share"]], on=["case", "signature"], how="left")
    matched["share"] = matched.share.fillna(0.0).where(
        matched.case.isin(runs_per_case.index), matched.signature.map(overall).fillna(0.0)
    )
    expected = (matched.w * matched.share).groupby([matched.pattern_id, matched.signature]).sum()
    return (in_pattern - expected.reindex(in_pattern.index).fillna(0.0)).clip(0.0, 1.0)


def diagnose(
    members: pd.DataFrame,
    events: pd.DataFrame,
    clean_runs: list[str],
    max_hops: int = 6,
    case_of: dict[str, str] | None = None,
) -> Diagnosis:
    """`members`: run_id, pattern_id, anchor_event_id for the traces to drill; `case_of` maps run ids to
    case types so that each pattern is contrasted with clean runs of its own kinds of case."""
    case_of = case_of or {}
    mine = events[events.run_id.isin(set(members.run_id))]
    mine = mine.assign(signature=step_signatures(mine))
    sig_of = dict(zip(zip(mine.run_id, mine.event_id, strict=True), mine.signature, strict=True))
    ev_by_run = {rid: grp for rid, grp in mine.groupby("run_id")}
    graphs: dict[str, nx.DiGraph] = {}
    walk_rows: list[tuple[int, str, str, int, int, str]] = []
    for rec in members.itertuples(index=False):
        trace_events = ev_by_run.get(rec.run_id)
        if trace_events is None or rec.anchor_event_id not in set(trace_events.event_id):
            continue
        g = graphs.get(rec.run_id) or build_graph(trace_events)
        graphs[rec.run_id] = g
        for node, hop in walk_back(g, rec.anchor_event_id, len(g)).items():
            walk_rows.append((rec.pattern_id, rec.run_id, node, hop, g.nodes[node]["seq"], sig_of[(rec.run_id, node)]))
    walks = pd.DataFrame(walk_rows, columns=["pattern_id", "run_id", "event_id", "hop", "seq", "signature"])
    if walks.empty:
        return Diagnosis(pd.DataFrame(), pd.DataFrame(), graphs)
    freq = _frequency(walks, events, clean_runs, case_of)
    walks["frequency"] = freq.reindex(pd.MultiIndex.from_frame(walks[["pattern_id", "signature"]])).to_numpy()
    kinds = mine.set_index(["run_id", "event_id"]).node_kind
    walks["node_kind"] = kinds.reindex(pd.MultiIndex.from_frame(walks[["run_id", "event_id"]])).to_numpy()
    deviating = walks[(walks.frequency >= ORIGIN_MIN_FREQUENCY) & ~walks.node_kind.isin(SIGNAL_KINDS)]
    origin = deviating.sort_values("seq").drop_duplicates(["pattern_id", "run_id"])
    origin_of = dict(zip(zip(origin.pattern_id, origin.run_id, strict=True), origin.event_id, strict=True))
    freq_of = dict(zip(zip(walks.pattern_id, walks.run_id, walks.event_id, strict=True), walks.frequency, strict=True))
    rows: list[dict[str, object]] = []
    for rec in members.itertuples(index=False):
        g = graphs.get(rec.run_id)
        if g is None or rec.anchor_event_id not in g:
            continue
        trusted = getattr(rec, "anchor_reason", None) == PRECISE_REASON
        start = rec.anchor_event_id if trusted else origin_of.get((rec.pattern_id, rec.run_id), rec.anchor_event_id)
        hops = walk_back(g, start, max_hops)
        bridges = bridge_scores(g, start, hops)
        for node, hop in hops.items():
            d = g.nodes[node]
            rows.append(
                {
                    "pattern_id": rec.pattern_id,
                    "run_id": rec.run_id,
                    "event_id": node,
                    "seq": d["seq"],
                    "hop": hop,
                    "node_kind": d["node_kind"],
                    "agent_name": d["agent_name"],
                    "tool_name": d["tool_name"] if isinstance(d["tool_name"], str) else "",
                    "text": d["text"],
                    "is_anchor": node == rec.anchor_event_id,
                    "is_origin": node == start,
                    "anchor_event_id": rec.anchor_event_id,
                    "origin_event_id": start,
                    "signature": sig_of[(rec.run_id, node)],
                    "proximity": 1.0 / (1 + hop),
                    "bridge": bridges.get(node, 0.0),
                    "role": ROLE.get(d["node_kind"], 0.4),
                    "frequency": float(freq_of.get((rec.pattern_id, rec.run_id, node), 0.0)),
                }
            )
    per = pd.DataFrame(rows)
    drilled = walks.groupby("pattern_id").run_id.nunique()
    per["score"] = sum(w * per[c] for c, w in WEIGHTS.items())
    per = per.sort_values(["pattern_id", "run_id", "score", "hop"], ascending=[True, True, False, True])
    return Diagnosis(per.reset_index(drop=True), rollup(per, drilled), graphs)


def rollup(per: pd.DataFrame, drilled: pd.Series) -> pd.DataFrame:
    """Group each pattern's suspects by (agent, kind, tool); best step per trace counts once."""
    best = per.sort_values("score", ascending=False).drop_duplicates(
        ["pattern_id", "run_id", "agent_name", "node_kind", "tool_name"]
    )
    agg = (
        best.groupby(["pattern_id", "agent_name", "node_kind", "tool_name"], dropna=False)
        .agg(
            mean_score=("score", "mean"),
            traces_covered=("run_id", "nunique"),
            mean_hop=("hop", "mean"),
            proximity=("proximity", "mean"),
            frequency=("frequency", "mean"),
            bridge=("bridge", "mean"),
            role=("role", "mean"),
            example_text=("text", "first"),
        )
        .reset_index()
    )
    agg["drilled_traces"] = agg.pattern_id.map(drilled)
    agg["coverage"] = agg.traces_covered / agg.drilled_traces
    agg["pattern_score"] = agg.mean_score * agg.coverage
    agg["is_signal"] = agg.node_kind.isin(SIGNAL_KINDS)
    agg["suspect"] = [
        f"{a} · {k}{(' ' + t) if t else ''}"
        for a, k, t in zip(agg.agent_name, agg.node_kind, agg.tool_name, strict=True)
    ]
    agg = agg.sort_values(
        ["pattern_id", "pattern_score", "traces_covered", "mean_hop"], ascending=[True, False, False, True]
    )
    agg["rank"] = agg.groupby("pattern_id").cumcount() + 1
    return agg.reset_index(drop=True)


def top_operational(rollup_df: pd.DataFrame) -> pd.DataFrame:
    """Each pattern's best suspect that is a step (not a finding, review or status signal)."""
    ops = rollup_df[~rollup_df.is_signal]
    return ops.drop_duplicates("pattern_id")


def aggregate_by_agent(per: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per pattern, each agent's best step score averaged over traces (for summaries)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    best = per.groupby(["pattern_id", "run_id", "agent_name"]).score.max().reset_index()
    for (pid, agent), s in best.groupby(["pattern_id", "agent_name"]).score:
        out[str(pid)][str(agent)] = float(s.sum())
    return dict(out)
