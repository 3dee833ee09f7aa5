"""The plain-language summary at the top of the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evswarm.macro.result import AnalysisResult


def _pct(x: float) -> str:
    return f"{x:.1%}" if x < 0.1 else f"{x:.0%}"


def summary_lines(r: AnalysisResult) -> list[str]:
    """Short sentences, most important first."""
    n = len(r.traces)
    pats = r.patterns[r.patterns.pattern_id > 0]
    noise = int((r.assignments.pattern_id < 0).sum())
    lines = [
        f"{n} traces read; {len(r.assignments)} analyzed "
        f"({'failing traces' if r.population.scope == 'failing' else 'all traces: none is failing'}). "
        f"{len(pats)} recurring behavior pattern{'s' if len(pats) != 1 else ''} found"
        + (f"; {noise} trace{'s' if noise != 1 else ''} fit no pattern." if noise else ".")
    ]
    for p in pats.head(3).itertuples():
        suspect = ""
        if isinstance(getattr(p, "top_suspect", None), str):
            suspect = (
                f" Its traces most often blame {p.top_suspect} ({p.top_suspect_side}; "
                f"{p.top_suspect_share:.0%} of them)."
            )
        lines.append(
            f"Pattern P{p.pattern_id}, “{p.label}”, affects {_pct(p.prevalence)} of all runs "
            f"({p.trace_count} traces, mostly {p.dominant_outcome.replace('_', ' ')}, most often in "
            f"{p.dominant_case_type.replace('_', ' ')}).{suspect}"
        )
    lines.extend(_lineage_line(r))
    vc = r.version_compare
    if not vc.empty:
        changed = vc[vc.change != "no clear change"]
        if changed.empty:
            lines.append(
                f"No pattern changes significantly between agent version sets (baseline {vc.baseline.iloc[0]})."
            )
        for c in changed.head(3).itertuples():
            verb = {"appears": "appears", "vanishes": "vanishes", "up": "rises", "down": "falls"}[c.change]
            lines.append(
                f"Between versions {c.baseline} → {c.version_set}, P{c.pattern_id} “{c.pattern}” {verb}: "
                f"{_pct(c.baseline_prevalence)} → {_pct(c.prevalence)} of runs "
                f"(difference {c.difference:+.1%}, 95% CI {c.diff_ci_low:+.1%} to {c.diff_ci_high:+.1%}, "
                f"q = {c.q_value:.2g})."
            )
    if not r.lift.empty:
        lead = r.lift[r.lift.leads & (r.lift.slice != "run_outcome")]
        for row in lead.head(2).itertuples():
            lines.append(
                f"P{row.pattern_id} is {row.lift:.1f}× as common when {row.slice.replace('_', ' ')} = "
                f"{row.value} ({row.traces} of {row.slice_traces} traces, q = {row.q_value:.2g})."
            )
    return lines


def _lineage_line(r: AnalysisResult) -> list[str]:
    """Against the previous analysis of the chain: how many patterns continue, are new, left."""
    chain = r.lineage
    if chain is None or chain.step < 2:
        return []
    now = [p.latest.status for p in chain.patterns if p.latest.step == chain.step and p.latest.trace_count > 0]
    left = [p.latest.status for p in chain.patterns if p.latest.step == chain.step and p.latest.trace_count == 0]
    parts = [f"{now.count(s)} {s}" for s in ("continuing", "returned", "new", "split", "merged") if now.count(s)]
    gone = left.count("gone")
    away = len(left) - gone
    step = chain.steps[-1]
    return [
        f"Against the previous analysis ({step.previous}): "
        + ", ".join(parts or ["no pattern"])
        + (f"; {gone} earlier pattern{'s' if gone != 1 else ''} gone" if gone else "")
        + (f"; {away} split or merged away" if away else "")
        + f". Continuing patterns are carried over by assignment ({step.assigned} traces assigned to them), not "
        f"found again by the clustering; {step.clustered} traces are in patterns the clustering found."
    ]
