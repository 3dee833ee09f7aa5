"""The report's "Verified causes" section, rendered from the `causes` table that `evswarm verify` writes
beside an analysis. The report leaves the section between two markers
(`evswarm.core.analysis.REPORT_VERIFIED_START` / `_END`) so that verify can fill it in place."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence

from evswarm.core.causes import CauseRow, RunCauseRow, explanations

_VERDICT_CLASS = {"confirmed": "good", "partial": "warn", "reproduced": "good", "not reproduced": "bad"}


def render_verified(causes: list[CauseRow], notes: list[str], run_causes: Sequence[RunCauseRow] = ()) -> str:
    """The section's HTML: one table row per pattern and intervention, controls last in each pattern; then
    what explains each failing member run, counted per pattern."""
    rows = []
    for cause in sorted(causes, key=lambda c: (c.pattern_id, c.kind == "control", -c.flip_rate)):
        verdict = html.escape(cause.verdict)
        style = _VERDICT_CLASS.get(cause.verdict, "")
        rows.append(
            "<tr>"
            f"<td>P{cause.pattern_id} {html.escape(cause.pattern)}</td>"
            f"<td>{html.escape(cause.description)}</td>"
            f"<td>{cause.flipped}/{cause.runs}</td>"
            f"<td>{cause.flip_rate:.0%} [{cause.ci_low:.0%}, {cause.ci_high:.0%}]</td>"
            f"<td class='{style}'><b>{verdict}</b></td>"
            f"<td>{len(cause.explains)}</td>"
            "</tr>"
        )
    confirmed = [c for c in causes if c.verdict == "confirmed"]
    lead = (
        "Confirmed: " + "; ".join(f"P{c.pattern_id}: {html.escape(c.description)}" for c in confirmed) + "."
        if confirmed
        else "No suspect was confirmed: none of the tested changes made most of a pattern's failures go away."
    )
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return "\n".join(
        [
            "<h2 id='verified'>Verified causes</h2>",
            "<p>Each top pattern's member runs were re-executed from the batch manifest with one suspect changed "
            "and everything else identical, then graded. A run flips when none of its failing symptoms remains; "
            "the rate comes with a 95% Wilson interval. Confirmed: the interval starts at 50% or above; partial: "
            "at least 30% flip. The control changes nothing and must reproduce every run. "
            "<i>explains</i>: the runs this change is the best explanation of.</p>",
            f"<p><b>{lead}</b></p>",
            "<table><tr><th>pattern</th><th>change</th><th>flipped</th><th>rate [95% CI]</th><th>verdict</th>"
            "<th>explains</th></tr>",
            *rows,
            "</table>",
            _run_causes(run_causes),
            f"<details><summary>Notes ({len(notes)})</summary><ul>{notes_html}</ul></details>" if notes else "",
        ]
    )


def _run_causes(rows: Sequence[RunCauseRow]) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>P{e.pattern_id}</td><td>{html.escape(e.changed)}</td><td>{html.escape(e.found_by)}</td>"
        f"<td>{e.runs}</td></tr>"
        for e in explanations(rows)
    )
    searched = [r for r in rows if r.found_by in ("search", "none")]
    return (
        "<h3>What explains each failing run</h3><p>Per failing member run, the change that removed all its "
        "symptoms: one of the pattern's suspects (<i>pattern</i>), or, when none did, a minimal set of the "
        "run's own components (its agents, tools, environment and input) whose change does, found by re-running "
        f"it with halves of that set changed (<i>search</i>: {len(searched)} run(s) searched, "
        f"{sum(r.reruns for r in searched)} re-runs). Several components: only changing them together works. "
        "<i>none</i>: even changing every component left a symptom; <i>unsearched</i>: the search was off.</p>"
        "<table><tr><th>pattern</th><th>changed</th><th>found by</th><th>runs</th></tr>" + body + "</table>"
    )


def verified_lines(causes: list[CauseRow], run_causes: Sequence[RunCauseRow] = ()) -> list[str]:
    """Plain-text lines for a terminal summary: each confirmed or partial cause, best first; then what the
    per-run search found for the runs no suspect explained."""
    found = [c for c in causes if c.verdict in ("confirmed", "partial")]
    found.sort(key=lambda c: (c.verdict != "confirmed", -c.flip_rate, c.pattern_id))
    lines = [
        f"Verified: P{c.pattern_id} {c.pattern}: when {c.description}, it is gone in {c.flipped} of {c.runs} runs "
        f"({c.flip_rate:.0%}, 95% CI {c.ci_low:.0%}-{c.ci_high:.0%}; {c.verdict})."
        for c in found
    ]
    searched = [r for r in run_causes if r.found_by in ("search", "none")]
    if searched:
        hits = Counter(" + ".join(sorted(r.components)) for r in searched if r.components)
        common = ", ".join(f"{what} ({n})" for what, n in hits.most_common(3))
        lines.append(
            f"Searched: {len(searched)} failing run(s) no suspect explained; a change of their own components "
            f"removed the symptoms in {sum(hits.values())}" + (f", most often {common}." if common else ".")
        )
    return lines
