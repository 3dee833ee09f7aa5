"""Assemble the single self-contained report: plotly's script inlined once, every figure, tables."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from evswarm.core.io import atomic_write_bytes
from evswarm.macro.attribution import WEIGHTS
from evswarm.macro.graph import build_graph
from evswarm.macro.report import diagnosis, figures, sankey
from evswarm.macro.report.summary import summary_lines

if TYPE_CHECKING:
    from evswarm.macro.result import AnalysisResult

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{margin:0 0 4px} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:40px}
.meta{color:#666;font-size:14px}
.summary{background:#fff;border-left:5px solid #2a6fdb;padding:12px 20px;margin:16px 0}
.summary li{margin:6px 0;line-height:1.45}
.fig{background:#fff;margin:12px 0;padding:4px;border:1px solid #eee}
table{border-collapse:collapse;font-size:13px;background:#fff;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0} .muted{color:#888} .lead{font-weight:600}
details{margin:8px 0} code{background:#eee;padding:1px 4px}
"""


def _fig(fig: go.Figure, fig_id: str) -> str:
    body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=fig_id, config={"displaylogo": False})
    return f'<div class="fig" data-figure="{fig_id}">{body}</div>'


def _table(
    df: pd.DataFrame,
    cols: list[str],
    fmt: dict[str, str] | None = None,
    table_id: str = "",
    lead_col: str | None = None,
) -> str:
    if df.empty:
        return '<p class="muted">(nothing to show)</p>'
    fmt = fmt or {}
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in cols)
    rows = []
    for rec in df[cols + ([lead_col] if lead_col and lead_col not in cols else [])].to_dict("records"):
        cells = []
        for c in cols:
            v = rec[c]
            if isinstance(v, list):
                v = ", ".join(map(str, v))
            text = fmt[c].format(v) if c in fmt and v is not None and v == v else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        cls = ' class="lead"' if lead_col and rec.get(lead_col) else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _diagnosis_sections(r: AnalysisResult) -> list[str]:
    out: list[str] = []
    if r.suspects.empty:
        return ['<p class="muted">No pattern could be diagnosed.</p>']
    steps = r.suspect_steps
    for p in r.patterns[r.patterns.pattern_id > 0].head(r.config.top_patterns).itertuples():
        pid = int(p.pattern_id)
        mine = r.suspects[r.suspects.pattern_id == pid]
        if mine.empty:
            continue
        out.append(f'<h3 id="pattern-{pid}">P{pid} · {html.escape(p.label)}</h3>')
        out.append(_fig(diagnosis.suspect_leaderboard(mine, p.label), f"fig-suspects-p{pid}"))
        top = mine.iloc[0]
        blamed = r.attribution[r.attribution.suspect_component == top.component].run_id
        rep = next((rid for rid in p.representatives if rid in set(blamed)), None)
        if rep is None:
            continue
        trace_steps = steps[steps.run_id == rep].sort_values("rank")
        events = r.events[r.events.run_id == rep]
        g = build_graph(events, temporal=False)
        suspect, anchor = str(trace_steps.event_id.iloc[0]), str(trace_steps.anchor_event_id.iloc[0])
        if suspect not in g:  # the virtual input step
            out.append(
                f"<p>In representative trace <code>{html.escape(rep)}</code> no step before the failure differs "
                "from its peers: the input is the suspect.</p>"
            )
            continue
        path = diagnosis.story_path(g, suspect, anchor)
        out.append(
            f"<p>Representative trace <code>{html.escape(rep)}</code>: the top suspect is "
            f"<b>{html.escape(str(top.component))}</b> ({html.escape(str(top.side))}; top suspect in "
            f"{top.share:.0%} of the pattern's traces); its step reaches the step where the failure shows in "
            f"{len(path) - 1} content hop(s).</p>"
        )
        out.append(_fig(diagnosis.story_strip(g, path, p.label), f"fig-story-p{pid}"))
        highlights = trace_steps.event_id.head(3).tolist()
        out.append(_fig(diagnosis.swimlane(build_graph(events), anchor, highlights, p.label), f"fig-swimlane-p{pid}"))
    return out


def render(r: AnalysisResult) -> str:
    pats = r.patterns
    summary = "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(r))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in r.notes)
    lift_cols = [
        "pattern_id",
        "pattern",
        "slice",
        "value",
        "traces",
        "slice_traces",
        "slice_share",
        "overall_share",
        "lift",
        "q_value",
    ]
    pct = "{:.1%}"
    lift_fmt = {"slice_share": pct, "overall_share": pct, "lift": "{:.2f}", "q_value": "{:.2g}"}
    lift_view = r.lift.head(40) if not r.lift.empty else r.lift
    vc_cols = [
        "pattern_id",
        "pattern",
        "baseline",
        "version_set",
        "baseline_prevalence",
        "prevalence",
        "difference",
        "diff_ci_low",
        "diff_ci_high",
        "q_value",
        "change",
    ]
    vc_fmt = {
        "baseline_prevalence": pct,
        "prevalence": pct,
        "difference": "{:+.1%}",
        "diff_ci_low": "{:+.1%}",
        "diff_ci_high": "{:+.1%}",
        "q_value": "{:.2g}",
    }
    pat_cols = [
        "pattern_id",
        "label",
        "trace_count",
        "prevalence",
        "severity",
        "severity_weighted_prevalence",
        "impact",
        "top_suspect",
        "top_suspect_share",
        "dominant_case_type",
        "dominant_outcome",
        "keywords",
        "label_basis",
    ]
    pat_fmt = {
        "top_suspect_share": "{:.0%}",
        "prevalence": pct,
        "severity": "{:.2f}",
        "severity_weighted_prevalence": pct,
        "impact": "{:.3f}",
    }
    skipped = "".join(f"<li><code>{html.escape(s.source)}</code>: {html.escape(s.reason)}</li>" for s in r.skipped)
    timing = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.2f}</td></tr>" for k, v in r.timings.items())
    weights = " + ".join(f"{w}·{k}" for k, w in WEIGHTS.items())
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>evswarm macro analysis</title>",
        f"<style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body><main>",
        "<h1>Macro analysis: recurring behavior patterns</h1>",
        f"<p class='meta'>batch <code>{html.escape(str(r.extra.get('batch_dir', '')))}</code> · "
        f"{len(r.traces)} traces · {r.extra.get('layout')} layout · "
        f"embeddings {html.escape(r.embedding_method)} · "
        f"reduction {r.config.reducer} ({r.config.cluster_dims}-D for clustering) · "
        "HDBSCAN min cluster size "
        f"{r.extra.get('min_cluster_size')}</p>",
        f'<section class="summary" id="summary"><h2 style="margin-top:8px">Summary</h2><ul>{summary}</ul></section>',
        f"<details open><summary>Notes on the input</summary><ul>{notes}</ul></details>",
        "<h2>Impact leaderboard</h2>",
        _fig(figures.leaderboard(pats), "fig-impact-leaderboard"),
        _table(pats, [c for c in pat_cols if c in pats.columns], pat_fmt, "table-patterns"),
        "<h2>Trace map</h2>",
        _fig(figures.trace_map(r.assignments, pats), "fig-trace-map"),
        "<h2>Where patterns concentrate</h2>",
        _fig(figures.heatmap(r.lift, pats), "fig-heatmap"),
        _fig(sankey.outcome_finding(r.traces), "fig-sankey-findings"),
        _fig(sankey.outcome_pattern(r.assignments), "fig-sankey-patterns"),
        "<h2>Lift by slice</h2>",
        "<p>Bold rows are significant after Benjamini-Hochberg correction "
        f"(q &lt; {r.config.alpha}) with at least "
        f"{r.config.min_slice_support} traces. Fisher's exact test per row.</p>",
        _table(lift_view, lift_cols, lift_fmt, "table-lift", lead_col="leads"),
        "<h2>Agent-version comparison</h2>",
        _fig(figures.version_comparison(r.version_prevalence, pats), "fig-version-comparison"),
        _table(r.version_compare, vc_cols, vc_fmt, "table-version-compare")
        if not r.version_compare.empty
        else '<p class="muted">Only one agent version set in this batch: nothing to compare.</p>',
        "<h2>Root-cause diagnosis</h2>",
        "<p>Every analyzed trace is attributed: from its anchor (where the failure shows), each earlier step "
        f"that acts scores {weights}. Deviation = 1 − the share of peer traces (same case type, passing) "
        "that take the same step; earliness = 1/(1+k) for the trace's k-th unusual step; proximity = "
        "1/(1+hops) to the anchor over content edges (call to result, handoff to agent, span to parent). "
        "When no step differs from its peers, the input is the suspect. A pattern's suspects are the "
        "components its traces blame, with their shares.</p>",
        *_diagnosis_sections(r),
        "<h2>Run details</h2><table><tr><th>stage</th><th>seconds</th></tr>",
        timing,
        "</table>",
        f"<details><summary>Skipped bundles ({len(r.skipped)})</summary><ul>{skipped or '<li>none</li>'}</ul>"
        "</details>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def write_report(r: AnalysisResult) -> None:
    atomic_write_bytes(r.report_path, render(r).encode("utf-8"))
