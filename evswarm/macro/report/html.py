"""Assemble the single self-contained report: plotly's script inlined once at the end of the page, every
figure drawn when it comes near the window (or when its section is opened), tables that fit the page.

The page reads top-down: the summary, then the impact leaderboard, the trace map, where patterns
concentrate, lift and version tables (what stands out first, the rest behind a toggle), then each top
pattern's root-cause story. It fits a 1280-pixel window without sideways scrolling.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from evswarm.core.analysis import read_optional_table, read_table
from evswarm.core.causes import REPORT_VERIFIED_END, REPORT_VERIFIED_START, CauseRow, RunCauseRow
from evswarm.core.io import atomic_write_bytes
from evswarm.core.palette import agent_colors
from evswarm.macro.attribution import WEIGHTS
from evswarm.macro.graph import build_graph
from evswarm.macro.report import diagnosis, figures, sankey
from evswarm.macro.report.lineage import CSS as LINEAGE_CSS
from evswarm.macro.report.lineage import lineage_section
from evswarm.macro.report.story import REVIEW_URL, pattern_story, traced_runs
from evswarm.macro.report.summary import summary_lines
from evswarm.macro.report.tables import number, pct, q_value, signed_pct, table
from evswarm.macro.report.verified import render_verified

if TYPE_CHECKING:
    from evswarm.macro.result import AnalysisResult

OPEN_STORIES = 5
"""Top patterns whose diagnosis is open when the page loads; the others open on a click."""
STEP_KINDS = ("generation", "response", "function", "handoff", "guardrail", "agent")
"""Event kinds that are steps of an agent (their agents get colours)."""

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:20px 24px}
h1{margin:0 0 4px} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
h3{margin:28px 0 6px} .meta{color:#666;font-size:14px;overflow-wrap:anywhere}
.summary{background:#fff;border-left:5px solid #2a6fdb;padding:12px 20px;margin:16px 0}
.summary li{margin:6px 0;line-height:1.45}
.fig{background:#fff;margin:12px 0;border:1px solid #eee;min-width:0}
.fig .plot{width:100%}
.table-wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:13px;background:#fff;margin:8px 0;width:100%}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f0f0;font-weight:600} tr.lead td{font-weight:600}
.muted{color:#777} .small{font-size:13px}
details{margin:8px 0} details>summary{cursor:pointer;color:#2a4fb3}
code{background:#eee;padding:1px 4px;overflow-wrap:anywhere}
.chip{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;background:var(--c);color:var(--i)}
ol.chain{list-style:none;padding:0;margin:8px 0;border-left:3px solid #ccc}
ol.chain li{position:relative;padding:4px 0 4px 16px;line-height:1.5}
ol.chain li.suspect{border-left:3px solid #7b2cbf;margin-left:-3px;background:#f6f0fc}
ol.chain li.anchor{border-left:3px solid #d62728;margin-left:-3px;background:#fdf0f0}
ol.chain li.gap{color:#777}
ol.chain .role{font-size:12px;color:#555;font-style:italic}
a.step{font-weight:600;font-variant-numeric:tabular-nums} h3.inline{display:inline}
td.good{color:#1a7f37} td.warn{color:#9a6700} td.bad{color:#cf222e}
.story{background:#fff;border:1px solid #eee;padding:6px 12px;margin:8px 0}
"""

DRAW_JS = """
(function () {
  var figures = Array.prototype.slice.call(document.querySelectorAll('.fig[data-figure]'));
  function draw(fig) {
    if (fig.dataset.drawn) return;
    fig.dataset.drawn = '1';
    var spec = JSON.parse(fig.querySelector('script[type="application/json"]').textContent);
    Plotly.newPlot(fig.querySelector('.plot'), spec.data, spec.layout, {displaylogo: false, responsive: true});
  }
  if ('IntersectionObserver' in window) {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { draw(entry.target); seen.unobserve(entry.target); }
      });
    }, {rootMargin: '600px 0px'});
    figures.forEach(function (fig) { seen.observe(fig); });
  } else {
    figures.forEach(draw);
  }
  document.querySelectorAll('details').forEach(function (box) {
    box.addEventListener('toggle', function () {
      if (box.open) box.querySelectorAll('.fig[data-figure]').forEach(draw);
    });
  });
  document.body.dataset.ready = '1';
})();
"""


def _fig(fig: go.Figure, fig_id: str) -> str:
    """A placeholder that the page fills with the figure when it comes near the window."""
    spec = fig.to_json().replace("</", "<\\/")
    height = int(fig.layout.height or 450)
    return (
        f'<div class="fig" data-figure="{fig_id}"><div class="plot" id="{fig_id}" style="height:{height}px"></div>'
        f'<script type="application/json">{spec}</script></div>'
    )


def _pattern_table(pats: pd.DataFrame) -> str:
    view = pats[pats.pattern_id > 0].copy()
    if view.empty:
        return table(view, {}, table_id="table-patterns")
    view["suspect"] = [
        f"{s} ({share:.0%})" if isinstance(s, str) and s and s.lower() != "nan" and share == share else "–"
        for s, share in zip(view.top_suspect, view.top_suspect_share, strict=True)
    ]
    view["terms"] = [", ".join(list(k)[:4]) if isinstance(k, list | tuple) else "–" for k in view.keywords]
    for column in ("status", "stability"):
        if column not in view.columns:
            view[column] = None
    columns = {
        "pattern_id": ("P", None),
        "label": ("pattern", None),
        "status": ("status", None),
        "stability": ("stability", number(2)),
        "trace_count": ("traces", None),
        "prevalence": ("of runs", pct),
        "severity": ("severity", number(2)),
        "impact": ("impact", number(3)),
        "suspect": ("top suspect (share of its traces)", None),
        "dominant_case_type": ("mostly in", None),
        "dominant_outcome": ("outcome", None),
        "terms": ("distinctive terms", None),
    }
    return table(view, columns, table_id="table-patterns", rest_label="other patterns")


def _lift_table(r: AnalysisResult) -> str:
    lift = r.lift
    if lift.empty:
        return table(lift, {}, table_id="table-lift")
    view = lift.sort_values(["leads", "q_value", "lift"], ascending=[False, True, False]).reset_index(drop=True)
    columns = {
        "pattern_id": ("P", None),
        "pattern": ("pattern", None),
        "slice": ("slice", None),
        "value": ("value", None),
        "traces": ("traces", None),
        "slice_share": ("share in slice", pct),
        "overall_share": ("share overall", pct),
        "lift": ("lift", number(2)),
        "q_value": ("q", q_value),
    }
    lead = view.leads.astype(bool)
    return table(view, columns, table_id="table-lift", lead=lead, rest_label="rows that do not stand out")


def _version_table(r: AnalysisResult) -> str:
    vc = r.version_compare
    if vc.empty:
        return '<p class="muted" id="table-version-compare">Only one agent version set: nothing to compare.</p>'
    changed = vc.change != "no clear change"
    view = vc.assign(_changed=changed).sort_values(["_changed", "q_value"], ascending=[False, True])
    view = view.reset_index(drop=True)
    columns = {
        "pattern_id": ("P", None),
        "pattern": ("pattern", None),
        "version_set": ("version set", None),
        "baseline_prevalence": ("baseline", pct),
        "prevalence": ("this version", pct),
        "difference": ("difference", signed_pct),
        "diff_ci_low": ("95% CI low", signed_pct),
        "diff_ci_high": ("95% CI high", signed_pct),
        "q_value": ("q", q_value),
        "change": ("change", None),
    }
    baseline = html.escape(str(vc.baseline.iloc[0]))
    return f"<p>Baseline: <code>{baseline}</code>.</p>" + table(
        view, columns, table_id="table-version-compare", lead=view._changed, rest_label="rows with no clear change"
    )


def _diagnosis_sections(r: AnalysisResult, colors: dict[str, str]) -> list[str]:
    if r.suspects.empty:
        return ['<p class="muted">No pattern could be diagnosed.</p>']
    out: list[str] = []
    members_of = r.assignments.groupby("pattern_id").run_id.apply(list).to_dict()
    attributed = r.attribution.set_index("run_id", drop=False)
    top = r.patterns[r.patterns.pattern_id > 0].head(r.config.top_patterns)
    shown = []
    wanted: set[str] = set()  # the traces a story may show in full: those it traces, and its representative
    for p in top.itertuples():
        members = members_of.get(int(p.pattern_id), [])
        mine = r.suspects[r.suspects.pattern_id == p.pattern_id]
        attribution = attributed.loc[attributed.index.intersection(members)]
        central = _representative(list(p.representatives), mine, attribution)
        shown.append((p, mine, members, attribution, central))
        wanted |= set(traced_runs(mine, attribution)) | ({central} if central is not None else set())
    events_by_run = {rid: ev for rid, ev in r.trace_events(wanted).groupby("run_id")}
    for rank, (p, mine, members, attribution, central) in enumerate(shown):
        pid = int(p.pattern_id)
        story, told = pattern_story(p, mine, attribution, members, events_by_run, colors)
        body = [story, _fig(diagnosis.suspect_leaderboard(mine, p.label), f"fig-suspects-p{pid}")]
        rep = told or central
        if rep is not None and rep in events_by_run:
            events = events_by_run[rep]
            steps = r.suspect_steps[r.suspect_steps.run_id == rep].sort_values("rank")
            anchor = str(steps.anchor_event_id.iloc[0]) if not steps.empty else None
            if anchor and anchor != "None":
                highlights = steps.event_id.head(3).tolist()
                lane = diagnosis.swimlane(build_graph(events), anchor, highlights, p.label, colors)
                body.append(_fig(lane, f"fig-swimlane-p{pid}"))
        count = f"<span class='muted small'>({p.trace_count} traces, {p.prevalence:.1%} of runs)</span>"
        title = f"P{pid} · {html.escape(p.label)} {count}"
        state = " open" if rank < OPEN_STORIES else ""
        out.append(
            f'<details class="pattern" id="story-p{pid}"{state}><summary><h3 id="pattern-{pid}" class="inline">'
            f"{title}</h3></summary>{''.join(body)}</details>"
        )
    return out


def _representative(representatives: list[str], suspects: pd.DataFrame, attribution: pd.DataFrame) -> str | None:
    """A trace near the pattern's centre that blames its top suspect (else any that does, else the centre)."""
    if suspects.empty or attribution.empty:
        return representatives[0] if representatives else None
    blamed = set(attribution[attribution.suspect_component == suspects.iloc[0].component].run_id)
    return next((rid for rid in representatives if rid in blamed), next(iter(sorted(blamed)), None))


def render(r: AnalysisResult) -> str:
    pats = r.patterns
    colors = agent_colors(r.events.agent_name[r.events.node_kind.isin(STEP_KINDS)].dropna().astype(str))
    summary = "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(r))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in r.notes)
    skipped = "".join(f"<li><code>{html.escape(s.source)}</code>: {html.escape(s.reason)}</li>" for s in r.skipped)
    timing = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.2f}</td></tr>" for k, v in r.timings.items())
    weights = " + ".join(f"{w}·{k}" for k, w in WEIGHTS.items())
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>evswarm macro analysis</title>",
        f"<style>{CSS}{LINEAGE_CSS}</style>",
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
        REPORT_VERIFIED_START,
        _verified(r),
        REPORT_VERIFIED_END,
        "<h2>Impact leaderboard</h2>",
        _fig(figures.leaderboard(pats), "fig-impact-leaderboard"),
        _pattern_table(pats),
        "<h2>Trace map</h2>",
        _fig(figures.trace_map(r.assignments, pats), "fig-trace-map"),
        "<h2>Where patterns concentrate</h2>",
        _fig(figures.heatmap(r.lift, pats), "fig-heatmap"),
        _fig(sankey.outcome_finding(r.traces), "fig-sankey-findings"),
        _fig(sankey.outcome_pattern(r.assignments), "fig-sankey-patterns"),
        "<h2>Lift by slice</h2>",
        "<p>How much more common a pattern is in one slice of the batch than overall (Fisher's exact test per row, "
        "Benjamini-Hochberg correction). Shown first and in bold: the rows that stand out, significant "
        f"(q &lt; {r.config.alpha}) with at least {r.config.min_slice_support} traces and a lift above 1.</p>",
        _lift_table(r),
        "<h2>Agent-version comparison</h2>",
        _fig(figures.version_comparison(r.version_prevalence, pats), "fig-version-comparison"),
        _version_table(r),
        lineage_section(r, _fig),
        "<h2>Root-cause diagnosis</h2>",
        "<p>Every analyzed trace is attributed to the step where it went wrong: from the step where the failure "
        f"shows (its anchor), each earlier step that acts scores {weights}. Deviation: how much more often the "
        "pattern's traces take the step than passing peers of the same case type; earliness: 1/(1+k) for the "
        "trace's k-th unusual step; proximity: 1/(1+hops) to the anchor over content edges (a call to its "
        "result, a handoff to the agent it names, a span to its parent). When no step differs from its peers, "
        "the input is the suspect if its request is unlike passing peers' requests, else the agent step nearest "
        "the anchor; each trace's attribution row names the rule that chose its suspect. For each pattern: whom "
        "its traces blame, and how its most common chain goes "
        f"from the suspect's step to the failure. Step numbers open the step in the review app (<code>{REVIEW_URL}"
        "</code>; start it with <code>evswarm serve DIR --analysis OUT</code>).</p>",
        *_diagnosis_sections(r, colors),
        "<h2>Run details</h2><table><tr><th>stage</th><th>seconds</th></tr>",
        timing,
        "</table>",
        f"<details><summary>Skipped bundles ({len(r.skipped)})</summary><ul>{skipped or '<li>none</li>'}</ul>"
        "</details>",
        "</main>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        f"<script>{DRAW_JS}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(r: AnalysisResult) -> None:
    atomic_write_bytes(r.report_path, render(r).encode("utf-8"))


def _verified(r: AnalysisResult) -> str:
    """The verdicts of an earlier `evswarm verify` on these same patterns, else an invitation to verify."""
    if r.extra.get("verified_kept"):
        per_run = read_optional_table(r.out_dir, RunCauseRow)
        return render_verified(read_table(r.out_dir, CauseRow), [], per_run)
    return (
        "<h2 id='verified'>Verified causes</h2><p>Not verified yet. A suspect is a correlation; <code>evswarm "
        "verify DIR --analysis OUT</code> re-runs each top pattern's runs with one suspect changed and fills this "
        "section with the suspects whose change makes the failures go away.</p>"
    )
