"""The report's "Verified causes" section: what `verify` found, written into the analysis's report.html
between the markers the report leaves for it (see `evswarm.core.analysis.REPORT_VERIFIED_START`)."""

from __future__ import annotations

import html
from pathlib import Path

from evswarm.core.analysis import REPORT_VERIFIED_END, REPORT_VERIFIED_START, CauseRow
from evswarm.core.io import atomic_write_bytes

_VERDICT_CLASS = {"confirmed": "good", "partial": "warn", "reproduced": "good", "not reproduced": "bad"}


def render_section(causes: list[CauseRow], notes: list[str]) -> str:
    """The section's HTML: one table row per pattern and intervention, controls last in each pattern."""
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
            f"<details><summary>Notes ({len(notes)})</summary><ul>{notes_html}</ul></details>" if notes else "",
        ]
    )


def write_section(report: Path, causes: list[CauseRow], notes: list[str]) -> bool:
    """Replace the verified-causes section of `report` (atomically). False when the report is missing or
    was written by an evswarm without the section's markers (it is then left as it is)."""
    if not report.is_file():
        return False
    text = report.read_text(encoding="utf-8")
    start, end = text.find(REPORT_VERIFIED_START), text.find(REPORT_VERIFIED_END)
    if start < 0 or end < start:
        return False
    body = render_section(causes, notes)
    text = text[: start + len(REPORT_VERIFIED_START)] + "\n" + body + "\n" + text[end:]
    atomic_write_bytes(report, text.encode("utf-8"))
    return True
