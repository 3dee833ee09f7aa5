"""Verdicts of `evswarm verify` belong to one set of patterns: re-analyzing an unchanged batch keeps them (and
the report and the demo's summary show them); an analysis whose patterns differ drops them."""

from __future__ import annotations

from pathlib import Path

from evswarm.core.analysis import TracePatternRow, read_table, write_table
from evswarm.core.causes import CauseRow, CounterfactualRunRow
from evswarm.macro import analyze
from evswarm.macro.report.verified import verified_lines
from tests.macro.conftest import fast_config


def _cause(pattern_id: int, label: str, run_ids: list[str]) -> CauseRow:
    return CauseRow(
        pattern_id=pattern_id, pattern=label, intervention="agent-PricingAgent", kind="agent",
        target="PricingAgent", description="PricingAgent runs the reference version (v1.0), without slips",
        runs=len(run_ids), flipped=len(run_ids), flip_rate=1.0, ci_low=0.6, ci_high=1.0, verdict="confirmed",
        explains=run_ids, counterfactual_dir="counterfactual/agent-PricingAgent",
    )  # fmt: skip


def test_an_unchanged_analysis_keeps_the_verdicts_and_a_changed_one_drops_them(batch_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    first = analyze(batch_dir, out, config=fast_config(tmp_path))
    top = first.patterns[first.patterns.pattern_id > 0].iloc[0]
    members = sorted(first.assignments[first.assignments.pattern_id == top.pattern_id].run_id)[:3]
    cause = _cause(int(top.pattern_id), str(top.label), members)
    write_table(out, CauseRow, [cause])
    write_table(out, CounterfactualRunRow, [])

    again = analyze(batch_dir, out, config=fast_config(tmp_path))
    assert again.extra["verified_kept"] is True
    assert read_table(out, CauseRow) == [cause]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Not verified yet" not in report and "PricingAgent runs the reference version (v1.0)" in report
    assert verified_lines([cause]) == [
        f"Verified: P{cause.pattern_id} {cause.pattern}: when PricingAgent runs the reference version (v1.0), "
        "without slips, it is gone in 3 of 3 runs (100%, 95% CI 60%-100%; confirmed)."
    ]

    moved = read_table(out, TracePatternRow)
    write_table(out, TracePatternRow, moved[1:])  # the saved analysis no longer matches what analyze finds
    third = analyze(batch_dir, out, config=fast_config(tmp_path))
    assert third.extra["verified_kept"] is False
    assert not (out / "causes.json").exists() and not (out / "counterfactual_runs.json").exists()
    assert "Not verified yet" in (out / "report.html").read_text(encoding="utf-8")
