"""The report's lineage and stability section: each pattern's status against the previous analysis, its
prevalence then and now and over the whole chain (a small line per pattern, and one figure for the chain), the
patterns that are gone or split or merged away, and how stable the clustering is under bootstrap resamples."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from evswarm.core.lineage import Lineage, PatternLineage
from evswarm.macro.lineage import history_table, then_prevalence

if TYPE_CHECKING:
    from evswarm.macro.result import AnalysisResult
    from evswarm.macro.stability import Stability

CSS = """
table.lineage td.spark{padding:2px 6px} svg.spark{display:block}
.status{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;background:#eee}
.status-new{background:#dbeafe}.status-continuing{background:#dcfce7}.status-returned{background:#fef3c7}
.status-split,.status-merged{background:#ede9fe}.status-gone{background:#fee2e2}
"""

STABLE, DISSOLVING = 0.75, 0.5
"""Hennig's reading of cluster-wise bootstrap Jaccard: at least 0.75 stable, at most 0.5 dissolving."""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def relation(status: str, related: list[int], current: bool) -> str:
    """The status in words, with the patterns it relates to."""
    ids = ", ".join(f"P{r}" for r in related)
    if not related:
        return status
    if current:
        return {
            "split": f"split from {ids}",
            "merged": f"merged from {ids}",
            "continuing": f"continuing (absorbed {ids})",
            "returned": f"returned (absorbed {ids})",
        }.get(status, status)
    return {"split": f"split into {ids}", "merged": f"merged into {ids}"}.get(status, status)


def _chip(status: str, related: list[int], current: bool) -> str:
    return f"<span class='status status-{status}'>{html.escape(relation(status, related, current))}</span>"


def sparkline(p: PatternLineage, steps: int, width: int = 120, height: int = 26) -> str:
    """An inline SVG of the pattern's prevalence over the chain's `steps` analyses (0 before it appeared)."""
    values = [0.0] * steps
    for s in p.history:
        values[s.step - 1] = s.prevalence
    top = max(values) or 1.0
    pad = 3
    xs = [pad + (width - 2 * pad) * (i / max(steps - 1, 1)) for i in range(steps)]
    ys = [height - pad - (height - 2 * pad) * (v / top) for v in values]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    title = " · ".join(f"step {i + 1}: {v:.1%}" for i, v in enumerate(values))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2"/>' for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="prevalence {title}">'
        f"<title>{html.escape(title)}</title>"
        f'<polyline fill="none" stroke="#2a6fdb" stroke-width="1.5" points="{points}"/>'
        f'<g fill="#2a6fdb">{dots}</g></svg>'
    )


def chain_figure(chain: Lineage, shown: list[int]) -> go.Figure:
    """Prevalence of the `shown` patterns over the chain's analyses (one line each)."""
    hist = history_table(chain)
    fig = go.Figure()
    labels = {p.pattern_id: p.label for p in chain.patterns}
    ticks = [f"{s.step}: {s.batch}" for s in chain.steps]
    for pid in shown:
        mine = hist[hist.pattern_id == pid].set_index("step")
        ys = [float(mine.prevalence.get(step, 0.0)) for step in range(1, chain.step + 1)]
        fig.add_trace(
            go.Scatter(x=ticks, y=ys, mode="lines+markers", name=f"P{pid} {labels[pid][:40]}", hovertemplate="%{y:.1%}")
        )
    fig.update_layout(
        title="Prevalence over the chain of analyses",
        height=360,
        yaxis={"tickformat": ".0%", "title": "of runs"},
        xaxis={"title": "analysis (step: batch)", "type": "category"},
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        legend={"font": {"size": 11}},
    )
    return fig


def _stability_text(s: Stability | None) -> str:
    if s is None or not s.runs:
        return "<p class='muted' id='stability'>Stability was not measured (<code>--stability-runs 0</code>).</p>"
    aris = ", ".join(f"{a:.2f}" for a in s.ari)
    return (
        f"<p id='stability'><strong>Stability.</strong> The analyzed traces were resampled with replacement "
        f"{s.runs} times and reduced and clustered again with the same settings. Adjusted Rand index between the "
        f"full run and each resample, on the traces they share: {aris} (mean <strong>{s.mean_ari:.2f}</strong>; "
        "1 = the same partition, about 0 = no better than chance). Beside each pattern: its stability, the mean "
        "over resamples of the best Jaccard overlap between its traces and a resample's cluster (at least "
        f"{STABLE} reads as stable, at most {DISSOLVING} as a pattern that dissolves when the data change a "
        "little).</p>"
    )


def _stability_cell(value: object) -> str:
    if value is None or value != value:
        return "<td>–</td>"
    v = float(value)  # type: ignore[arg-type]
    cls = "good" if v >= STABLE else "bad" if v <= DISSOLVING else "warn"
    return f'<td class="{cls}">{v:.2f}</td>'


def _fewer(status: str, minimum: object) -> str:
    if status != "gone" or not minimum:
        return ""
    return f", fewer than the minimum cluster size {minimum}, and than half of it or significantly fewer than before"


def assignment_text(chain: Lineage, minimum: object, noise: object = None) -> str:
    """How this step's patterns were found: which were carried over by assignment and how many traces were
    assigned or clustered (so that nobody reads a carried pattern as one the clustering found again)."""
    step = chain.steps[-1]
    now = [p.latest for p in chain.patterns if p.latest.step == chain.step and p.latest.trace_count > 0]
    carried = sum(1 for s in now if s.basis == "assignment")
    clustered = len(now) - carried
    rest = step.analyzed - step.assigned - step.clustered
    need = (
        f" (at least the minimum cluster size, {minimum}, or half of it for a pattern that held that many "
        "before and whose drop sampling explains)"
        if minimum
        else ""
    )
    return (
        f"<p id='lineage-assignment'>Step {chain.step} of a chain of {chain.step} analyses; it continues <code>"
        f"{html.escape(str(step.previous))}</code>. <strong>Assignment first:</strong> {step.fitted} of the "
        f"{step.analyzed} analyzed traces fit an earlier pattern's centre (the nearest one, within the distance "
        "of 95% of that pattern's own members or half the typical gap between patterns, in the embedding space). "
        f"An earlier pattern that enough traces fit{need} is carried over: <strong>{carried} pattern"
        f"{'s' if carried != 1 else ''} carried over by assignment</strong>, holding {step.assigned} traces. "
        "They keep their ids and names because their traces fit their centres, not because the clustering found "
        "them again; their stability column says whether the clustering alone would. "
        f"<strong>{clustered} pattern{'s' if clustered != 1 else ''} found by clustering</strong> (new, split or "
        f"merged: fresh ids), holding {step.clustered} traces; {rest} analyzed trace"
        f"{'s are' if rest != 1 else ' is'} in no pattern"
        + (f" (the clustering of all traces alone left {noise} as noise)" if noise is not None else "")
        + ".</p>"
    )


def lineage_section(r: AnalysisResult, fig: Callable[[go.Figure, str], str]) -> str:
    """The section's HTML (heading included); `fig` turns a figure and an id into the report's placeholder."""
    chain = r.lineage
    parts = ["<h2 id='lineage'>Pattern lineage and stability</h2>", _stability_text(r.stability)]
    if chain is None:
        return "\n".join(parts)
    if chain.step == 1:
        parts.append(
            "<p>This analysis starts a chain: its pattern ids are impact ranks and every pattern is new. Analyze the "
            "next batch with <code>--previous OUT</code> (this directory) and the patterns that continue keep "
            "their ids and names.</p>"
        )
    else:
        parts.append(assignment_text(chain, r.extra.get("min_cluster_size"), r.extra.get("clustering_noise")))
    by_id = chain.by_id()
    pats = r.patterns[r.patterns.pattern_id > 0]
    rows = []
    for p in pats.itertuples():
        line = by_id.get(int(p.pattern_id))
        if line is None:
            continue
        latest = line.latest
        rows.append(
            f"<tr id='lineage-p{p.pattern_id}'><td>P{p.pattern_id}</td><td>{html.escape(str(p.label))}</td>"
            f"<td>{_chip(latest.status, latest.related, True)}</td><td>{html.escape(latest.basis)}</td>"
            f"<td>{_pct(then_prevalence(chain, line))}</td><td>{_pct(float(p.prevalence))}</td>"
            f"{_stability_cell(getattr(p, 'stability', None))}"
            f"<td class='spark'>{sparkline(line, chain.step)}</td></tr>"
        )
    head = (
        "<tr><th>P</th><th>pattern</th><th>status</th><th>found by</th><th>then</th><th>now</th><th>stability</th>"
        f"<th>prevalence over {chain.step} analys{'es' if chain.step != 1 else 'is'}</th></tr>"
    )
    parts.append(
        f"<div class='table-wrap'><table class='lineage' id='table-lineage'><thead>{head}</thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    left = [p for p in chain.patterns if p.latest.step == chain.step and p.latest.trace_count == 0]
    minimum = r.extra.get("min_cluster_size")
    if chain.step > 1:
        items = "".join(
            f"<li id='gone-p{p.pattern_id}'>P{p.pattern_id} {html.escape(p.label)}: "
            f"{_chip(p.latest.status, p.latest.related, False)} (then {_pct(then_prevalence(chain, p))}; "
            f"{p.latest.fitted} trace(s) of this batch fit its centre{_fewer(p.latest.status, minimum)})"
            f" {sparkline(p, chain.step, 80, 18)}</li>"
            for p in left
        )
        parts.append(
            f"<h3>No longer a pattern ({len(left)})</h3><ul id='lineage-gone' class='small'>"
            f"{items or '<li>none: every earlier pattern continues</li>'}</ul>"
        )
    shown = chain_figure_ids(r)
    if shown:
        parts.append(fig(chain_figure(chain, shown), "fig-lineage"))
    return "\n".join(parts)


def chain_figure_ids(r: AnalysisResult, limit: int = 12) -> list[int]:
    """The patterns the chain figure draws: this analysis's top ones, then those that just left."""
    if r.lineage is None or r.lineage.step < 2:
        return []
    current = [int(p) for p in r.patterns.pattern_id if p > 0][:limit]
    left = [p.pattern_id for p in r.lineage.patterns if p.latest.step == r.lineage.step and p.latest.trace_count == 0]
    return current + left[: max(0, limit - len(current))]
