"""Two Sankey diagrams: case type → outcome → finding, and case type → outcome → pattern."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import plotly.graph_objects as go

from evswarm.macro.report.figures import empty


def _sankey(df: pd.DataFrame, cols: list[str], title: str, min_link: int) -> go.Figure:
    if df.empty:
        return empty(title, "no traces")
    nodes: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    val: list[int] = []
    for a, b in pairwise(cols):
        flows = df.groupby([a, b]).size().reset_index(name="n")
        flows = flows[flows.n >= min_link]
        for r in flows.itertuples(index=False):
            left, right = f"{a}: {r[0]}", f"{b}: {r[1]}"
            src.append(nodes.setdefault(left, len(nodes)))
            dst.append(nodes.setdefault(right, len(nodes)))
            val.append(int(r[2]))
    names = [n.split(": ", 1)[1].replace("_", " ") for n in nodes]
    labels = [n if len(n) <= 34 else n[:33] + "…" for n in names]
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 10, "thickness": 14, "customdata": names,
                  "hovertemplate": "%{customdata}: %{value} traces<extra></extra>"},
            link={"source": src, "target": dst, "value": val},
            textfont={"size": 11},
        )
    )  # fmt: skip
    fig.update_layout(
        title=title + (f" (flows of ≥ {min_link} traces)" if min_link > 1 else ""),
        height=640,
        margin={"l": 10, "r": 10, "t": 50, "b": 20},
    )
    return fig


def outcome_finding(traces: pd.DataFrame) -> go.Figure:
    df = traces.assign(finding=traces.primary_finding.fillna("no finding"))
    if "promptfoo_primary_finding" in df.columns:
        df["finding"] = df.promptfoo_primary_finding.where(df.promptfoo_primary_finding.notna(), df.finding)
    df = df.rename(columns={"case_type": "case type", "run_outcome": "outcome"})
    return _sankey(
        df,
        ["case type", "outcome", "finding"],
        "Case type → outcome → primary finding",
        max(1, len(df) // 300),
    )


def outcome_pattern(assign: pd.DataFrame) -> go.Figure:
    df = assign.assign(
        pattern=[
            ("unclustered" if p < 0 else f"P{p} {lab}")
            for p, lab in zip(assign.pattern_id, assign.pattern, strict=True)
        ]
    )
    df = df.rename(columns={"case_type": "case type", "run_outcome": "outcome"})
    return _sankey(
        df,
        ["case type", "outcome", "pattern"],
        "Case type → outcome → behavior pattern",
        max(1, len(df) // 300),
    )
