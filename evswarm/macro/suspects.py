"""Root-cause suspects: walk back from each trace's anchor on its execution graph and score the
steps found there, then roll the scores up per pattern.

score = 0.4·proximity + 0.3·frequency + 0.2·bridge + 0.1·role, each component in [0, 1]:

- proximity = 1 / (1 + hops) from the step to the anchor over any edge kind (the anchor itself: 1);
- frequency = how much more often this exact step (agent, kind, tool and scrubbed text) happens
  before this pattern's anchors than anywhere in runs that went fine: share among the pattern's
  diagnosed traces minus share among clean traces, clipped at 0. Steps every run takes score 0;
- bridge = the share of the walked steps whose shortest route to the anchor passes through this
  step (betweenness restricted to the walk; the anchor counts as on every route);
- role = what kind of step it is: a model decision 1.0, a tool result 0.8, a handoff 0.6,
  an agent start or guardrail 0.4, a status/log entry 0.2, a finding or review signal 0.0
  (findings report a failure; they do not cause it).

Per pattern, steps are grouped by (agent, kind, tool); `pattern_score` = mean score where present ×
trace coverage, so a suspect must recur across the pattern to lead, not only score high once.
"""

from __future__ import annotations

import re
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
_NUM = re.compile(r"\d+[.,]\d+|\d{3,}")  # prices, dates, ids; small counts stay (they carry meaning)


def signature(agent: object, kind: object, tool: object, text: object) -> str:
    return f"{agent}|{kind}|{tool}|{_NUM.sub('#', str(text))}"


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


def _expected_share(
    per: pd.DataFrame, events: pd.DataFrame, clean_runs: list[str], case_of: dict[str, str]
) -> pd.Series:
    """For each (pattern, signature) row of `per`: the share of clean runs that contain the signature,
    matched to the pattern's case-type mix (clean runs of the same case types; all clean runs for a case
    type without any)."""
    if not clean_runs:
        return pd.Series(0.0, index=per.index)
    clean = events[events.run_id.isin(set(clean_runs))]
    sigs = [
        signature(*r)
        for r in clean[["agent_name", "node_kind", "tool_name", "text"]].itertuples(index=False, name=None)
    ]
    table = pd.DataFrame({"run_id": clean.run_id.to_numpy(), "signature": sigs}).drop_duplicates()
    table["case"] = table.run_id.map(case_of).fillna("?")
    runs_per_case = pd.Series(clean_runs).map(case_of).fillna("?").value_counts()
    by_case = table.groupby(["case", "signature"]).run_id.nunique().rename("n").reset_index()
    by_case["share"] = by_case.n / by_case.case.map(runs_per_case)
    overall = (table.groupby("signature").run_id.nunique() / len(clean_runs)).rename("share")
    # the pattern's case mix over its drilled traces
    mix = per[["pattern_id", "run_id"]].drop_duplicates()
    mix = mix.assign(case=mix.run_id.map(case_of).fillna("?"))
    mix = mix.groupby(["pattern_id", "case"]).size().rename("w").reset_index()
    mix["w"] = mix.w / mix.groupby("pattern_id").w.transform("sum")
    mix["has_clean"] = mix.case.isin(runs_per_case.index)
    keys = per[["pattern_id", "signature"]].drop_duplicates()
    matched = keys.merge(mix, on="pattern_id").merge(
        by_case[["case", "signature", "share"]], on=["case", "signature"], how="left"
    )
    matched["share"] = matched.share.fillna(0.0)
    fallback = matched.signature.map(overall).fillna(0.0)
    matched["share"] = matched.share.where(matched.has_clean, fallback)
    expected = (matched.w * matched.share).groupby([matched.pattern_id, matched.signature]).sum()
    idx = pd.MultiIndex.from_frame(per[["pattern_id", "signature"]])
    return pd.Series(expected.reindex(idx).fillna(0.0).to_numpy(), index=per.index)


def diagnose(
    members: pd.DataFrame,
    events: pd.DataFrame,
    clean_runs: list[str],
    max_hops: int = 6,
    case_of: dict[str, str] | None = None,
) -> Diagnosis:
    """`members`: run_id, pattern_id, anchor_event_id for the traces to drill; `case_of` maps run ids to
    case types so that each pattern is contrasted with clean runs of its own kinds of case."""
    ev_by_run = {rid: grp for rid, grp in events[events.run_id.isin(set(members.run_id))].groupby("run_id")}
    rows: list[dict[str, object]] = []
    graphs: dict[str, nx.DiGraph] = {}
    for rec in members.itertuples(index=False):
        trace_events = ev_by_run.get(rec.run_id)
        if trace_events is None or rec.anchor_event_id not in set(trace_events.event_id):
            continue
        g = build_graph(trace_events)
        graphs[rec.run_id] = g
        hops = walk_back(g, rec.anchor_event_id, max_hops)
        bridges = bridge_scores(g, rec.anchor_event_id, hops)
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
                    "signature": signature(d["agent_name"], d["node_kind"], d["tool_name"], d["text"]),
                    "proximity": 1.0 / (1 + hop),
                    "bridge": bridges.get(node, 0.0),
                    "role": ROLE.get(d["node_kind"], 0.4),
                }
            )
    per = pd.DataFrame(rows)
    if per.empty:
        return Diagnosis(per, pd.DataFrame(), graphs)
    drilled = per.groupby("pattern_id").run_id.nunique()
    sig_runs = per.groupby(["pattern_id", "signature"]).run_id.nunique().rename("sig_runs").reset_index()
    per = per.merge(sig_runs, on=["pattern_id", "signature"])
    in_pattern = per.sig_runs / per.pattern_id.map(drilled)
    expected = _expected_share(per, events, clean_runs, case_of or {})
    per["frequency"] = (in_pattern - expected).clip(0.0, 1.0)
    per["score"] = sum(w * per[c] for c, w in WEIGHTS.items())
    per = per.drop(columns="sig_runs").sort_values(
        ["pattern_id", "run_id", "score", "hop"], ascending=[True, True, False, True]
    )
    return Diagnosis(per, rollup(per, drilled), graphs)


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
