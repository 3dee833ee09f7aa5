"""`evswarm verify` with a pattern whose only suspect had nothing to do with its runs: the per-run search
re-runs each failing run with halves of its own components changed and finds each run's true cause
(each run has one planted fault, read from the causal record by the fixture)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evswarm.core.analysis import PatternRow, SuspectRow, TracePatternRow, read_table, write_table
from evswarm.core.causes import CauseRow, RunCauseRow
from evswarm.core.layout import BatchLayout
from evswarm.counterfactual import verify
from tests.counterfactual.conftest import UNINVOLVED, VerifyCase, _member, _pattern, _suspect


@pytest.fixture(scope="module")
def searched(verify_case: VerifyCase) -> tuple[Path, dict[str, RunCauseRow]]:
    analysis = verify_case.batch / "analysis-search"
    analysis.mkdir()
    label = "wrongly blamed"
    runs = [verify_case.incentive_runs[0], verify_case.stockout_runs[0]]
    write_table(analysis, PatternRow, [_pattern(1, label, runs)])
    write_table(analysis, TracePatternRow, [_member(r, 1, label) for r in runs])
    write_table(analysis, SuspectRow, [_suspect(1, label, 1, UNINVOLVED, "agent")])
    report = verify(verify_case.batch, analysis, patterns=1, suspects=1, workers=2, progress=False)
    assert {c.intervention: c.flipped for c in report.causes if c.scope == "pattern"} == {
        "control": 0, f"agent-{UNINVOLVED}": 0, f"resample-{UNINVOLVED}": 0
    }  # fmt: skip
    return analysis, {row.run_id: row for row in read_table(analysis, RunCauseRow)}


def test_the_search_finds_each_runs_own_cause(
    verify_case: VerifyCase, searched: tuple[Path, dict[str, RunCauseRow]]
) -> None:
    analysis, rows = searched
    incentive, stockout = rows[verify_case.incentive_runs[0]], rows[verify_case.stockout_runs[0]]
    assert incentive.found_by == stockout.found_by == "search"
    assert incentive.components == ["agent:IncentivePolicyAgent"]
    assert stockout.components == ["agent:SupplyAllocationAgent"]
    for row in (incentive, stockout):
        assert 1 < row.reruns <= 12
        assert BatchLayout(analysis / row.counterfactual_dir).bundle_path(row.run_id).is_file()


def test_each_found_cause_is_a_split_tried_on_the_other_run(
    verify_case: VerifyCase, searched: tuple[Path, dict[str, RunCauseRow]], tmp_path: Path
) -> None:
    """Each run's search found its own owner: two splits of one run each (`partial`: one run confirms
    nothing). By default their changes are tried on the other run only where the search already did; with
    `split_check="all"` the rest is re-run into split-<k>/, and neither change removes the other run's
    symptoms."""
    analysis, _ = searched
    splits = {c.intervention: c for c in read_table(analysis, CauseRow) if c.scope == "split"}
    assert sorted(splits) == ["agent-IncentivePolicyAgent", "agent-SupplyAllocationAgent"]
    assert splits["agent-IncentivePolicyAgent"].explains == [verify_case.incentive_runs[0]]
    for split in splits.values():
        assert (split.flipped, split.runs, split.verdict, split.check_reruns) == (1, 1, "partial", 0)
        assert split.others + split.others_untested == 1 and not split.also_flips
        assert split.counterfactual_dir.startswith("counterfactual/search-")
    assert not list((analysis / "counterfactual").glob("split-*"))
    full = tmp_path / "analysis"
    shutil.copytree(analysis, full)
    report = verify(verify_case.batch, full, patterns=1, suspects=1, workers=2, progress=False, split_check="all")
    checked = [c for c in report.causes if c.scope == "split"]
    assert [(c.others, c.others_untested, c.also_flips) for c in checked] == [(1, 0, [])] * 2
    made = sorted((full / "counterfactual").glob("split-*/bundles/*.json"))
    assert len(made) == report.split_reruns == sum(s.others_untested for s in splits.values())


def test_a_second_search_reruns_nothing(verify_case: VerifyCase, searched: tuple[Path, dict[str, RunCauseRow]]) -> None:
    analysis, rows = searched
    splits = [c for c in read_table(analysis, CauseRow) if c.scope == "split"]
    twins = sorted((analysis / "counterfactual").glob("search-*/bundles/*.json"))
    assert twins
    before = {p: p.stat().st_mtime_ns for p in twins}
    verify(verify_case.batch, analysis, patterns=1, suspects=1, workers=2, progress=False)
    assert {p: p.stat().st_mtime_ns for p in twins} == before
    assert {row.run_id: row for row in read_table(analysis, RunCauseRow)} == rows
    assert [c for c in read_table(analysis, CauseRow) if c.scope == "split"] == splits


def test_the_summary_and_the_report_say_what_the_search_found(searched: tuple[Path, dict[str, RunCauseRow]]) -> None:
    from evswarm.macro.report.verified import render_verified, verified_lines

    analysis, rows = searched
    split, line = verified_lines(read_table(analysis, CauseRow), list(rows.values()))
    assert split.startswith("Split: P1 wrongly blamed splits into 2 causes: when ")
    # a partial split's change is tried on the other run only where a twin has it: the search tried neither
    assert "it is gone in 1 of its 1 runs (100%, 95% CI 21%-100%; partial), not tried on the pattern's" in split
    assert line.startswith("Searched: 2 failing run(s) no suspect explained; a change of their own components ")
    assert "agent:IncentivePolicyAgent (1)" in line and "agent:SupplyAllocationAgent (1)" in line
    section = render_verified([], [], list(rows.values()))
    assert (
        "What explains each failing run" in section and "<td>agent:SupplyAllocationAgent</td><td>search</td>" in section
    )
