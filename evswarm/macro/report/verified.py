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
    each pattern's split into its causes, each with its verdict; then what explains each failing member
    run, counted per pattern."""
    splits = [c for c in causes if c.scope == "split"]
    causes = [c for c in causes if c.scope == "pattern"]
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
        "Confirmed on a whole pattern: "
        + "; ".join(f"P{c.pattern_id}: {html.escape(c.description)}" for c in confirmed)
        + "."
        if confirmed
        else "No suspect was confirmed on a whole pattern: none of the tested changes made most of a pattern's "
        "failures go away."
    )
    split_confirmed = [c for c in splits if c.verdict == "confirmed"]
    if split_confirmed:
        lead += " Confirmed on their own runs (one cause of a pattern each): " + "; ".join(
            f"P{c.pattern_id}: {html.escape(c.description)} ({c.flipped} of {c.runs})" for c in split_confirmed
        )
        lead += "."
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
            _splits(splits),
            _run_causes(run_causes),
            f"<details><summary>Notes ({len(notes)})</summary><ul>{notes_html}</ul></details>" if notes else "",
        ]
    )


def split_sentences(causes: Sequence[CauseRow]) -> list[str]:
    """One sentence per pattern that has splits (plain text): how many causes it splits into and how
    each split's change does on its own runs and on the pattern's other failing runs."""
    by_pattern: dict[int, list[CauseRow]] = {}
    for cause in causes:
        if cause.scope == "split":
            by_pattern.setdefault(cause.pattern_id, []).append(cause)
    sentences = []
    for pattern_id, splits in sorted(by_pattern.items()):
        splits.sort(key=lambda c: (-c.runs, c.intervention))
        head = (
            f"P{pattern_id} {splits[0].pattern} has one cause among its explained runs"
            if len(splits) == 1
            else f"P{pattern_id} {splits[0].pattern} splits into {len(splits)} causes"
        )
        parts = []
        for split in splits:
            others = (
                "not tried on the pattern's other failing runs"
                if not split.others
                else f"and in none of the {split.others} other failing runs it was tried on"
                if not split.also_flips
                else f"but also in {len(split.also_flips)} of the {split.others} other failing runs it was tried on "
                "(not specific to its own)"
            )
            if split.others and split.others_untested:
                others += f" ({split.others_untested} not tried)"
            parts.append(
                f"when {split.description}, it is gone in {split.flipped} of its {split.runs} runs "
                f"({split.flip_rate:.0%}, 95% CI {split.ci_low:.0%}-{split.ci_high:.0%}; {split.verdict}), {others}"
            )
        sentences.append(f"{head}: " + "; ".join(parts) + ".")
    return sentences


def _splits(splits: Sequence[CauseRow]) -> str:
    if not splits:
        return ""
    body = "".join(
        "<tr>"
        f"<td>P{c.pattern_id}</td><td>{html.escape(c.description)}</td><td>{c.flipped}/{c.runs}</td>"
        f"<td>{c.flip_rate:.0%} [{c.ci_low:.0%}, {c.ci_high:.0%}]</td>"
        f"<td class='{_VERDICT_CLASS.get(c.verdict, '')}'><b>{html.escape(c.verdict)}</b></td>"
        f"<td class='{'warn' if c.also_flips else ''}'>{len(c.also_flips)}/{c.others}</td><td>{c.others_untested}</td>"
        f"<td>{c.check_reruns}</td>"
        "</tr>"
        for c in sorted(splits, key=lambda c: (c.pattern_id, -c.runs, c.intervention))
    )
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in split_sentences(splits))
    return (
        "<h3>Each pattern's causes</h3><p>A pattern splits into one cause per change that explains some of its "
        "failing runs (below), and each split is judged on its own runs: a run counts when its twin under the "
        "change shows none of its symptoms <i>and</i> its control re-run still shows them all; same interval "
        "and verdict rule as above, so a split of a few runs is not confirmed. The same change is then tried on "
        "the pattern's other failing runs: a change that removes their symptoms too is not a cause of its own "
        "runs alone. It is read from the twins already made, and re-run where none has it for the splits "
        "<code>--split-check</code> names (default: those confirmed on their own runs); <i>not tried</i>: other "
        f"runs it was not tried on; <i>check re-runs</i>: twins that test needed.</p><ul>{sentences}</ul>"
        "<table><tr><th>pattern</th><th>change</th><th>its runs flipped</th><th>rate [95% CI]</th>"
        "<th>verdict</th><th>other runs flipped</th><th>not tried</th><th>check re-runs</th></tr>" + body + "</table>"
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
    """Plain-text lines for a terminal summary: each confirmed or partial cause, best first; then each
    pattern's split into its causes; then what the per-run search found for the runs no suspect explained."""
    found = [c for c in causes if c.verdict in ("confirmed", "partial") and c.scope == "pattern"]
    found.sort(key=lambda c: (c.verdict != "confirmed", -c.flip_rate, c.pattern_id))
    lines = [
        f"Verified: P{c.pattern_id} {c.pattern}: when {c.description}, it is gone in {c.flipped} of {c.runs} runs "
        f"({c.flip_rate:.0%}, 95% CI {c.ci_low:.0%}-{c.ci_high:.0%}; {c.verdict})."
        for c in found
    ]
    lines += [f"Split: {sentence}" for sentence in split_sentences(causes)]
    searched = [r for r in run_causes if r.found_by in ("search", "none")]
    if searched:
        hits = Counter(" + ".join(sorted(r.components)) for r in searched if r.components)
        common = ", ".join(f"{what} ({n})" for what, n in hits.most_common(3))
        lines.append(
            f"Searched: {len(searched)} failing run(s) no suspect explained; a change of their own components "
            f"removed the symptoms in {sum(hits.values())}" + (f", most often {common}." if common else ".")
        )
    return lines
