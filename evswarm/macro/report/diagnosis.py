"""Diagnosis figures per top pattern: the suspect leaderboard and the swimlane of a representative trace
(the story itself is told in words, see `story`)."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from evswarm.macro.report.figures import _short, empty

KIND_SYMBOL = {
    "generation": "circle",
    "function": "square",
    "handoff": "triangle-right",
    "agent": "diamond-tall",
    "status": "line-ew",
    "finding": "x",
    "guardrail": "hexagon",
    "review": "star",
}


SIDE_COLOR = {"agent": "#7b2cbf", "tool": "#2a6fdb", "environment": "#2ca02c", "input": "#8c564b"}


def suspect_leaderboard(suspects: pd.DataFrame, label: str, top: int = 8) -> go.Figure:
    """Components blamed in a pattern's traces, by share of its traces, coloured by side."""
    if suspects.empty:
        return empty(f"Suspects: {label}", "no trace of this pattern could be attributed")
    r = suspects.head(top).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=r["share"],
            y=[_short(f"{c} ({s})", 40) for c, s in zip(r.component, r.side, strict=True)],
            orientation="h",
            marker={"color": [SIDE_COLOR.get(s, "#7f7f7f") for s in r.side]},
            text=[f"{t} trace(s) · mean score {m:.2f}" for t, m in zip(r.traces, r.mean_score, strict=True)],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: top suspect in %{x:.0%} of the pattern's traces<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Who the pattern's traces blame: {_short(label, 60)}",
        xaxis={
            "title": "share of the pattern's traces",
            "tickformat": ".0%",
            "range": [0, 1.3],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
        },
        height=max(220, 36 * len(r) + 110),
        margin={"l": 260, "r": 20},
    )
    return fig


LANE_STEPS = 36
"""Steps a swimlane shows at most: those around the first suspect and those before the failure."""


def lane_window(g: nx.DiGraph, anchor: str, highlights: list[str]) -> pd.DataFrame:
    """The steps from just before the earliest highlighted suspect to just after the anchor (status
    changes left out); a long stretch keeps its two ends."""
    if anchor not in g:
        return pd.DataFrame()
    seqs = [int(g.nodes[h]["seq"]) for h in highlights if h in g]
    end = int(g.nodes[anchor]["seq"])
    start = min([*seqs, end - 8]) - 2
    rows = [
        {"event_id": n, **d}
        for n, d in g.nodes(data=True)
        if start <= d["seq"] <= end + 2 and (d.get("node_kind") != "status" or n == anchor)
    ]
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame(rows).sort_values("seq").reset_index(drop=True)
    if len(out) > LANE_STEPS:
        out = pd.concat([out.head(LANE_STEPS // 3), out.tail(LANE_STEPS - LANE_STEPS // 3)]).reset_index(drop=True)
    return out


def swimlane(g: nx.DiGraph, anchor: str, highlights: list[str], label: str, colors: dict[str, str]) -> go.Figure:
    """The steps around the anchor, one lane per agent: marker colour = the agent's colour (as in every
    chart and the review app), marker shape = the step's kind."""
    w = lane_window(g, anchor, highlights)
    if w.empty:
        return empty(f"Swimlane: {label}", "no events")
    lanes = list(dict.fromkeys(w.agent_name.astype(str)))
    y = w.agent_name.astype(str).map({lane: i for i, lane in enumerate(lanes)})
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=w.seq,
            y=y,
            mode="lines",
            line={"color": "#bbbbbb", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    for kind, part in w.groupby("node_kind"):
        symbol = KIND_SYMBOL.get(str(kind), "circle")
        fig.add_trace(  # the legend entry: the kind's shape in grey (colours are the agents')
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=str(kind),
                legendgroup=str(kind),
                marker={"symbol": symbol, "size": 10, "color": "#9e9e9e", "line": {"width": 1, "color": "#333"}},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=part.seq,
                y=y[part.index],
                mode="markers",
                name=str(kind),
                legendgroup=str(kind),
                showlegend=False,
                marker={
                    "symbol": symbol,
                    "size": 11,
                    "color": [colors.get(str(a), "#7f7f7f") for a in part.agent_name],
                    "line": {"width": 1, "color": "#333333"},
                },
                text=[_short(str(t), 140) for t in part.text],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    hi = w[w.event_id.isin(highlights)]
    if not hi.empty:
        fig.add_trace(
            go.Scatter(
                x=hi.seq,
                y=y[hi.index],
                mode="markers",
                name="top suspects",
                marker={"symbol": "circle-open", "size": 22, "color": "#7b2cbf", "line": {"width": 3}},
                hoverinfo="skip",
            )
        )
    a = w[w.event_id == anchor]
    fig.add_trace(
        go.Scatter(
            x=a.seq,
            y=y[a.index],
            mode="markers+text",
            name="failure shows",
            text=["failure"],
            textposition="top center",
            marker={"symbol": "diamond", "size": 16, "color": "#d62728"},
        )
    )
    fig.update_layout(
        title=f"Swimlane from the suspects to the failure (representative trace): {_short(label, 44)}",
        xaxis_title="step (position in the trace)",
        height=max(300, 40 * len(lanes) + 190),
        margin={"l": 220, "r": 20, "b": 50, "t": 90},
        yaxis={"tickmode": "array", "tickvals": list(range(len(lanes))), "ticktext": lanes},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
    )
    return fig
