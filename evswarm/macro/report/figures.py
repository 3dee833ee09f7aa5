"""Overview figures: impact leaderboard, trace map, pattern × case-type heatmap, version comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
]
NOISE_COLOR = "#c7c7c7"


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, height=220, xaxis_visible=False, yaxis_visible=False)
    return fig


def color_map(patterns: pd.DataFrame) -> dict[int, str]:
    ids = [int(p) for p in patterns.pattern_id if p > 0]
    out = {pid: PALETTE[i % len(PALETTE)] for i, pid in enumerate(ids)}
    out[-1] = NOISE_COLOR
    return out


def leaderboard(patterns: pd.DataFrame, top: int = 12) -> go.Figure:
    p = patterns[patterns.pattern_id > 0].head(top).iloc[::-1]
    if p.empty:
        return empty("Impact leaderboard", "no patterns")
    text = [
        f"{r.prevalence:.1%} of runs · {r.trace_count} traces · severity {r.severity:.1f} · suspect {r.top_suspect}"
        for r in p.itertuples()
    ]
    fig = go.Figure(
        go.Bar(
            x=p.impact,
            y=[f"P{r.pattern_id} {_short(r.label)}" for r in p.itertuples()],
            orientation="h",
            text=text,
            textposition="auto",
            marker={
                "color": p.severity,
                "colorscale": "OrRd",
                "cmin": 1,
                "cmax": 4,
                "colorbar": {"title": "severity"},
            },
            hovertemplate="%{y}<br>impact %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Behavior patterns by impact (prevalence × severity)",
        xaxis_title="impact",
        height=max(300, 48 * len(p) + 120),
        margin={"l": 320},
    )
    return fig


def trace_map(assign: pd.DataFrame, patterns: pd.DataFrame) -> go.Figure:
    if assign.empty:
        return empty("Trace map", "no traces")
    colors = color_map(patterns)
    fig = go.Figure()
    for pid in [*sorted(p for p in assign.pattern_id.unique() if p > 0), -1]:
        pts = assign[assign.pattern_id == pid]
        if pts.empty:
            continue
        name = "unclustered" if pid < 0 else f"P{pid} {_short(str(pts.pattern.iloc[0]), 36)}"
        fig.add_trace(
            go.Scattergl(
                x=pts.map_x,
                y=pts.map_y,
                mode="markers",
                name=name,
                marker={"size": 6, "color": colors.get(int(pid), NOISE_COLOR), "opacity": 0.8},
                customdata=np.stack([pts.run_id, pts.case_type, pts.run_outcome, pts.agent_version_set], axis=1),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]} · %{customdata[2]} · %{customdata[3]}"
                "<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Trace map (2-D UMAP of the trace documents; clusters were found in more dimensions)",
        height=520,
        xaxis_visible=False,
        yaxis_visible=False,
    )
    return fig


def heatmap(lift: pd.DataFrame, patterns: pd.DataFrame, top: int = 10) -> go.Figure:
    rows = lift[lift.slice == "case_type"] if not lift.empty else lift
    if rows.empty:
        return empty("Pattern × case type", "only one case type in this batch")
    keep = [int(p) for p in patterns.pattern_id if p > 0][:top]
    rows = rows[rows.pattern_id.isin(keep)]
    z = rows.pivot_table(index="pattern_id", columns="value", values="lift", fill_value=0.0)
    share = rows.pivot_table(index="pattern_id", columns="value", values="traces", fill_value=0)
    z = z.reindex([p for p in keep if p in z.index])
    share = share.reindex(z.index)[z.columns]
    labels = dict(zip(patterns.pattern_id, patterns.label, strict=False))
    text = [[f"{int(c)} traces" for c in row] for row in share.to_numpy()]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=list(z.columns),
            y=[f"P{p} {_short(str(labels.get(p, p)), 32)}" for p in z.index],
            text=text,
            colorscale="RdBu_r",
            zmid=1.0,
            colorbar={"title": "lift"},
            hovertemplate="%{y}<br>%{x}<br>lift %{z:.2f}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Where each pattern concentrates: lift by case type (1 = as often as overall)",
        height=max(320, 40 * len(z) + 200),
        margin={"l": 280, "b": 160},
        xaxis_tickangle=-35,
    )
    return fig


def version_comparison(prev: pd.DataFrame, patterns: pd.DataFrame, top: int = 10) -> go.Figure:
    if prev.empty or prev.version_set.nunique() < 2:
        return empty("Agent-version comparison", "only one agent version set in this batch")
    keep = [int(p) for p in patterns.pattern_id if p > 0][:top]
    labels = dict(zip(patterns.pattern_id, patterns.label, strict=False))
    fig = go.Figure()
    versions = sorted(prev.version_set.unique())
    for i, version in enumerate(versions):
        v = prev[(prev.version_set == version) & prev.pattern_id.isin(keep)]
        v = v.set_index("pattern_id").reindex(keep)
        fig.add_trace(
            go.Bar(
                name=version,
                x=[f"P{p} {_short(str(labels.get(p, p)), 28)}" for p in keep],
                y=v.prevalence,
                marker_color=PALETTE[i % len(PALETTE)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": v.ci_high - v.prevalence,
                    "arrayminus": v.prevalence - v.ci_low,
                },
                customdata=np.stack([v.traces, v.runs], axis=1),
                hovertemplate=version + "<br>%{x}<br>%{y:.1%} (%{customdata[0]} of %{customdata[1]} runs)"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title="Pattern prevalence per agent version set (95% Wilson intervals)",
        yaxis_tickformat=".0%",
        yaxis_title="share of the version's runs",
        height=480,
        margin={"b": 180},
        xaxis_tickangle=-30,
    )
    return fig
