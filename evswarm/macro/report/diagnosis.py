"""Diagnosis figures per top pattern: suspect leaderboard, root-cause story strip, swimlane."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from evswarm.macro.graph import window
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
            y=[_short(f"{c} ({s})", 52) for c, s in zip(r.component, r.side, strict=True)],
            orientation="h",
            marker={"color": [SIDE_COLOR.get(s, "#7f7f7f") for s in r.side]},
            text=[f"{t} trace(s) · mean score {m:.2f}" for t, m in zip(r.traces, r.mean_score, strict=True)],
            textposition="auto",
            hovertemplate="%{y}: top suspect in %{x:.0%} of the pattern's traces<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Who the pattern's traces blame: {_short(label, 60)}",
        xaxis={"title": "share of the pattern's traces", "tickformat": ".0%", "range": [0, 1]},
        height=max(240, 40 * len(r) + 120),
        margin={"l": 300},
    )
    return fig


def story_path(g: nx.DiGraph, suspect: str, anchor: str) -> list[str]:
    try:
        path = nx.shortest_path(g, suspect, anchor)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        path = [suspect, anchor] if suspect != anchor else [anchor]
    return [str(p) for p in path]


def story_strip(g: nx.DiGraph, path: list[str], label: str) -> go.Figure:
    if not path:
        return empty(f"Root-cause story: {label}", "no path")
    keep = path if len(path) <= 5 else [path[0], *path[1:-1][:: max(1, (len(path) - 2) // 3)][:3], path[-1]]
    fig = go.Figure()
    for i, node in enumerate(keep):
        d = g.nodes[node]
        color = "#ff7f0e" if i == 0 else "#d62728" if i == len(keep) - 1 else "#1f77b4"
        fig.add_shape(
            type="rect",
            x0=i * 2,
            x1=i * 2 + 1.6,
            y0=0,
            y1=1,
            fillcolor=color,
            opacity=0.85,
            line={"width": 0},
        )
        role = "suspect" if i == 0 else "anchor" if i == len(keep) - 1 else f"step {d['seq']}"
        fig.add_annotation(
            x=i * 2 + 0.8,
            y=0.5,
            showarrow=False,
            font={"color": "white", "size": 11},
            text=f"<b>{role}</b><br>{_short(str(d['agent_name']), 26)}<br>"
            f"{d['node_kind']} {_short(str(d['tool_name'] or ''), 20)}",
        )
        if i < len(keep) - 1:
            fig.add_annotation(
                x=i * 2 + 1.95,
                y=0.5,
                ax=i * 2 + 1.65,
                ay=0.5,
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                showarrow=True,
                arrowhead=3,
                arrowwidth=2,
                text="",
            )
    fig.update_layout(
        title=f"Root-cause story (representative trace): {_short(label, 60)}",
        xaxis={"visible": False, "range": [-0.2, len(keep) * 2]},
        yaxis={"visible": False, "range": [-0.2, 1.2]},
        height=220,
        margin={"t": 50, "b": 10},
    )
    return fig


def swimlane(g: nx.DiGraph, anchor: str, highlights: list[str], label: str) -> go.Figure:
    w = window(g, anchor)
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
        fig.add_trace(
            go.Scatter(
                x=part.seq,
                y=y[part.index],
                mode="markers",
                name=str(kind),
                marker={"symbol": KIND_SYMBOL.get(str(kind), "circle"), "size": 11},
                text=[_short(t, 140) for t in part.text],
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
            name="anchor",
            text=["anchor"],
            textposition="top center",
            marker={"symbol": "diamond", "size": 16, "color": "#d62728"},
        )
    )
    fig.update_layout(
        title=f"Swimlane around the anchor (representative trace): {_short(label, 60)}",
        xaxis_title="event sequence",
        height=max(300, 42 * len(lanes) + 140),
        margin={"l": 240},
        yaxis={"tickmode": "array", "tickvals": list(range(len(lanes))), "ticktext": lanes},
    )
    return fig
