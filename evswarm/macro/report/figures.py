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


def _name(value: object) -> str:
    """A display name: None, NaN and 'nan' read as a dash."""
    if value is None or (isinstance(value, float) and value != value) or str(value).lower() == "nan":
        return "–"
    return str(value)


SEVERITY_SCALE = "OrRd"


def _severity_colors(values: pd.Series, cmin: float = 1.0, cmax: float = 4.0) -> list[str]:
    """Explicit colours for severities (a bar's text colour is then computed from a real colour)."""
    from plotly.colors import sample_colorscale

    share = ((values.astype(float) - cmin) / (cmax - cmin)).clip(0.0, 1.0).fillna(0.0)
    return [str(c) for c in sample_colorscale(SEVERITY_SCALE, share.tolist(), colortype="rgb")]


def _colorbar_trace(title: str, cmin: float, cmax: float, scale: str) -> go.Scatter:
    """An invisible trace that only draws a colour bar."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        showlegend=False,
        hoverinfo="skip",
        marker={
            "colorscale": scale,
            "cmin": cmin,
            "cmax": cmax,
            "color": [cmin],
            "showscale": True,
            "colorbar": {"title": {"text": title}, "thickness": 12, "len": 0.8},
        },
    )


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
    """Top patterns by impact, coloured by severity, each bar saying its share of runs and top suspect."""
    p = patterns[patterns.pattern_id > 0].head(top).iloc[::-1]
    if p.empty:
        return empty("Impact leaderboard", "no patterns")
    text = [
        f"{r.prevalence:.1%} of runs · {r.trace_count} traces · suspect {_short(_name(r.top_suspect), 28)}"
        for r in p.itertuples()
    ]
    fig = go.Figure(
        go.Bar(
            x=p.impact,
            y=[f"P{r.pattern_id} {_short(r.label, 40)}" for r in p.itertuples()],
            orientation="h",
            text=text,
            textposition="auto",
            insidetextanchor="start",
            marker={"color": _severity_colors(p.severity)},
            customdata=np.stack([p.severity.astype(float).round(2), p.label], axis=1),
            hovertemplate="%{customdata[1]}<br>impact %{x:.3f} · severity %{customdata[0]}<extra></extra>",
        )
    )
    fig.add_trace(_colorbar_trace("severity", 1, 4, SEVERITY_SCALE))
    fig.update_layout(
        title="Behavior patterns by impact (prevalence × severity)",
        xaxis_title="impact",
        height=max(300, 44 * len(p) + 120),
        margin={"l": 300, "r": 20},
    )
    return fig


SPOT = 0.015
"""Points closer than this share of the map's extent count as one spot, and are spread around it."""


def _spread(x: pd.Series, y: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points that (nearly) share a spot, spread in a small sunflower around it so each trace is seen;
    returns the moved x, y and how many traces share each spot."""
    xs, ys = x.to_numpy(dtype=float).copy(), y.to_numpy(dtype=float).copy()
    span = max(float(np.ptp(xs)) if len(xs) else 0.0, float(np.ptp(ys)) if len(ys) else 0.0, 1e-6)
    cell = SPOT * span
    keys = pd.Series(list(zip(np.round(xs / cell), np.round(ys / cell), strict=True)))
    counts = keys.map(keys.value_counts()).to_numpy()
    rank = keys.groupby(keys).cumcount().to_numpy()
    angle = rank * 2.399963  # golden angle: a sunflower of points around the shared spot
    radius = 0.45 * cell * np.sqrt(rank)
    moved = counts > 1
    xs[moved] += radius[moved] * np.cos(angle[moved])
    ys[moved] += radius[moved] * np.sin(angle[moved])
    return xs, ys, counts


def trace_map(assign: pd.DataFrame, patterns: pd.DataFrame) -> go.Figure:
    if assign.empty:
        return empty("Trace map", "no traces")
    colors = color_map(patterns)
    xs, ys, shared = _spread(assign.map_x, assign.map_y)
    assign = assign.assign(x=xs, y=ys, shared=shared)
    fig = go.Figure()
    for pid in [*sorted(p for p in assign.pattern_id.unique() if p > 0), -1]:
        pts = assign[assign.pattern_id == pid]
        if pts.empty:
            continue
        name = "unclustered" if pid < 0 else f"P{pid} {_short(str(pts.pattern.iloc[0]), 30)}"
        fig.add_trace(
            go.Scatter(
                x=pts.x,
                y=pts.y,
                mode="markers",
                name=f"{name} ({len(pts)})",
                marker={"size": 7, "color": colors.get(int(pid), NOISE_COLOR), "opacity": 0.85},
                customdata=np.stack(
                    [pts.run_id, pts.case_type, pts.run_outcome, pts.agent_version_set, pts.shared], axis=1
                ),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]} · %{customdata[2]} · %{customdata[3]}"
                "<br>%{customdata[4]} trace(s) on this spot<extra>" + name + "</extra>",
            )
        )
    stacked = int((shared > 1).sum())
    fig.update_layout(
        title=f"Trace map: all {len(assign)} analyzed traces (2-D UMAP of their documents"
        + (f"; {stacked} that share a spot are spread around it)" if stacked else ")"),
        height=560,
        xaxis_visible=False,
        yaxis_visible=False,
        legend={"font": {"size": 11}},
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
    lift = z.to_numpy(dtype=float)
    counts = share.to_numpy(dtype=float)
    text = [
        [
            f"lift {v:.2f} · {int(c)} traces" if c else "no trace of the pattern here"
            for v, c in zip(lrow, crow, strict=True)
        ]
        for lrow, crow in zip(lift, counts, strict=True)
    ]
    # Lift is a ratio (1 = as often as overall): the colour follows log2(lift), so 0.5× and 2× sit equally
    # far from white. A cell without a trace of the pattern is left blank.
    steps = np.where(counts > 0, np.log2(np.clip(lift, 1 / 8, 8)), np.nan)
    ticks = [-3, -2, -1, 0, 1, 2, 3]
    fig = go.Figure(
        go.Heatmap(
            z=steps,
            x=[str(c).replace("_", " ") for c in z.columns],
            y=[f"P{p} {_short(str(labels.get(p, p)), 30)}" for p in z.index],
            text=text,
            colorscale="RdBu_r",
            zmin=-3,
            zmid=0,
            zmax=3,
            colorbar={
                "title": {"text": "lift"},
                "tickvals": ticks,
                "ticktext": ["≤⅛×", "¼×", "½×", "1×", "2×", "4×", "≥8×"],
                "thickness": 12,
            },
            hovertemplate="%{y}<br>%{x}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Where each pattern concentrates: lift by case type (1× = as often as overall; blank: none)",
        height=max(320, 40 * len(z) + 220),
        margin={"l": 260, "b": 170, "r": 20},
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
                x=[f"P{p} {_short(str(labels.get(p, p)), 24)}" for p in keep],
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
        height=500,
        margin={"b": 190, "r": 20},
        xaxis_tickangle=-30,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return fig
