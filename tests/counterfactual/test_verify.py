"""`evswarm verify` on a batch whose causes are known: owners confirmed, bystanders rejected, the control
reproduced, a pattern with two causes split between them, and the re-runs kept for a second call."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.core.analysis import read_table
from evswarm.core.causes import CauseRow, CounterfactualRunRow
from evswarm.core.errors import EvswarmError
from evswarm.core.layout import BatchLayout
from evswarm.counterfactual import verify
from tests.counterfactual.conftest import UNINVOLVED, VerifyCase


def _by_scope(analysis: Path, scope: str) -> dict[tuple[int, str], CauseRow]:
    return {(row.pattern_id, row.intervention): row for row in read_table(analysis, CauseRow) if row.scope == scope}


@pytest.fixture(scope="module")
def verified(verify_case: VerifyCase) -> dict[tuple[int, str], CauseRow]:
    report = verify(verify_case.batch, verify_case.analysis, patterns=2, suspects=3, workers=2, progress=False)
    assert report.table_paths and report.split_reruns == 0  # every split's check was answered by twins made
    return _by_scope(verify_case.analysis, "pattern")


def test_control_reproduces_every_member_run(verified: dict[tuple[int, str], CauseRow]) -> None:
    for pattern_id in (1, 2):
        control = verified[(pattern_id, "control")]
        assert control.verdict == "reproduced" and control.flipped == 0


def test_reverting_the_owner_flips_its_runs_and_splits_a_two_cause_pattern(
    verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]
) -> None:
    incentive = verified[(1, "agent-IncentivePolicyAgent")]
    stockout = verified[(1, "agent-SupplyAllocationAgent")]
    assert (incentive.flipped, incentive.runs) == (2, 4)
    assert incentive.explains == verify_case.incentive_runs
    assert stockout.explains == verify_case.stockout_runs
    assert incentive.verdict == stockout.verdict == "partial"  # each explains half the pattern
    assert 0 < incentive.ci_low < 0.5 < incentive.ci_high


def test_each_cause_of_the_two_cause_pattern_gets_its_own_verdict(
    verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]
) -> None:
    """The two splits of P1, judged on their own runs (each reverted owner removes the symptoms and the
    control keeps them) and tried on the other's runs (where they change nothing). Two runs each: the
    Wilson interval of 2 of 2 starts at 34%, so neither is confirmed, which is what two runs can show."""
    splits = _by_scope(verify_case.analysis, "split")
    assert sorted(splits) == [(1, "agent-IncentivePolicyAgent"), (1, "agent-SupplyAllocationAgent"), (2, "input-input")]
    incentive, stockout = splits[(1, "agent-IncentivePolicyAgent")], splits[(1, "agent-SupplyAllocationAgent")]
    assert (incentive.explains, stockout.explains) == (verify_case.incentive_runs, verify_case.stockout_runs)
    for split in (incentive, stockout):
        assert (split.flipped, split.runs, split.others, split.also_flips, split.check_reruns) == (2, 2, 2, [], 0)
        assert split.verdict == "partial" and 0.3 < split.ci_low < 0.5
    assert incentive.components == ["agent:IncentivePolicyAgent"]
    assert incentive.counterfactual_dir == "counterfactual/agent-IncentivePolicyAgent"
    assert (splits[(2, "input-input")].runs, splits[(2, "input-input")].others) == (1, 0)


def test_an_uninvolved_agent_is_rejected(verified: dict[tuple[int, str], CauseRow]) -> None:
    for kind in ("agent", "resample"):
        row = verified[(1, f"{kind}-{UNINVOLVED}")]
        assert row.flipped == 0 and row.verdict == "rejected" and not row.explains


def test_clarifying_the_input_flips_an_ambiguous_order(
    verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]
) -> None:
    row = verified[(2, "input-input")]
    assert (row.flipped, row.runs, row.explains) == (1, 1, [verify_case.input_run])


def test_each_twin_is_recorded_with_its_symptoms(
    verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]
) -> None:
    runs = read_table(verify_case.analysis, CounterfactualRunRow)
    twin = next(
        r for r in runs if r.intervention == "agent-IncentivePolicyAgent" and r.run_id in verify_case.incentive_runs
    )
    assert twin.flipped and twin.symptoms_before and not twin.identical
    assert "price_mismatch" not in twin.symptoms_after
    path = BatchLayout(verify_case.analysis / twin.counterfactual_dir).bundle_path(twin.run_id)
    assert path.is_file()
    controls = [r for r in runs if r.intervention == "control"]
    assert controls and all(r.identical for r in controls)


def test_a_second_verify_reruns_nothing(verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]) -> None:
    twins = sorted((verify_case.analysis / "counterfactual").glob("*/bundles/*.json"))
    before = {p: p.stat().st_mtime_ns for p in twins}
    splits = _by_scope(verify_case.analysis, "split")
    verify(verify_case.batch, verify_case.analysis, patterns=2, suspects=3, workers=2, progress=False)
    assert {p: p.stat().st_mtime_ns for p in twins} == before
    assert _by_scope(verify_case.analysis, "pattern") == verified
    assert _by_scope(verify_case.analysis, "split") == splits


def test_diff_shows_where_a_twin_departs(verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]) -> None:
    from evswarm.cli import app

    run_id = verify_case.incentive_runs[0]
    original = BatchLayout(verify_case.batch).bundle_path(run_id)
    twin = BatchLayout(verify_case.analysis / "counterfactual" / "agent-IncentivePolicyAgent").bundle_path(run_id)
    res = CliRunner().invoke(app, ["diff", str(original), str(twin)])
    assert res.exit_code == 1, res.output
    assert "first difference at step" in res.output and "IncentivePolicyAgent" in res.output
    control = BatchLayout(verify_case.analysis / "counterfactual" / "control").bundle_path(run_id)
    res = CliRunner().invoke(app, ["diff", str(original), str(control)])
    assert res.exit_code == 0 and "the traces are the same" in res.output


def test_an_analysis_of_another_batch_is_refused(verify_case: VerifyCase, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "bundles").mkdir(parents=True)
    (other / "batch.json").write_bytes((verify_case.batch / "batch.json").read_bytes())
    (other / "eval_labels.jsonl").write_bytes((verify_case.batch / "eval_labels.jsonl").read_bytes())
    with pytest.raises(EvswarmError, match="analysis of another batch"):
        verify(other, verify_case.analysis, progress=False)


def test_verify_cli_explains_missing_inputs(tmp_path: Path) -> None:
    from evswarm.cli import app

    res = CliRunner().invoke(app, ["verify", str(tmp_path), "--quiet"])
    assert res.exit_code == 2 and "batch.json" in " ".join(res.output.split())


def test_an_unknown_split_check_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from evswarm.cli import app

    res = CliRunner().invoke(app, ["verify", str(tmp_path), "--split-check", "some", "--quiet"])
    assert res.exit_code == 2 and "--split-check must be one of confirmed, all, reuse" in " ".join(res.output.split())


def test_the_report_gets_a_verified_causes_section(
    verify_case: VerifyCase, verified: dict[tuple[int, str], CauseRow]
) -> None:
    text = (verify_case.analysis / "report.html").read_text(encoding="utf-8")
    assert "Not verified yet" not in text and text.count("Verified causes") == 1
    assert "IncentivePolicyAgent runs the reference version" in text and "<h1>report</h1>" in text
    assert "P1 mixed pricing and stock splits into 2 causes: when IncentivePolicyAgent runs the reference" in text
    assert "it is gone in 2 of its 2 runs (100%, 95% CI 34%-100%; partial), and in none of the 2 other" in text


def test_a_report_without_the_markers_is_left_alone(tmp_path: Path) -> None:
    from evswarm.counterfactual.report import write_section

    old = tmp_path / "report.html"
    old.write_text("<html>an old report</html>", encoding="utf-8")
    assert write_section(old, [], []) is False
    assert old.read_text(encoding="utf-8") == "<html>an old report</html>"
    assert write_section(tmp_path / "missing.html", [], []) is False
