"""The verdict on hand-made arms: what regresses, what is tolerated, improved or tied, what stays out of the
family, which runs are shown, and the exit code."""

from __future__ import annotations

from pathlib import Path

from evswarm.ab.arms import Arm, RunRecord, behaviors_of
from evswarm.ab.compare import compare_arms
from evswarm.ab.render import junit, markdown
from evswarm.core.labels import GradeStatus, LabelRow, RubricFinding
from evswarm.core.symptoms import Severity, Symptom

RUBRICS = ("final_decision_quality", "review_appropriateness")


def label(run_id: str, failed: list[str]) -> LabelRow:
    return LabelRow(
        run_id=run_id,
        case_type="clean_simple",
        run_outcome="completed",
        agent_version_set="v",
        promptfoo_pass=not failed,
        promptfoo_failed_checks=failed,
        promptfoo_score_mean=1.0 - len(failed) / len(RUBRICS),
        promptfoo_check_scores={r: 0.0 if r in failed else 1.0 for r in RUBRICS},
        promptfoo_rationales={},
        promptfoo_primary_finding=failed[0] if failed else None,
        grade_status=GradeStatus.GRADED,
        findings=[
            RubricFinding(
                rubric=r,
                kind=Symptom.DECISION_MISMATCH if r == "final_decision_quality" else Symptom.REVIEW_UNNEEDED,
                severity=Severity.ERROR,
                subject="block not release" if r == "final_decision_quality" else None,
                message="m",
            )
            for r in failed
        ],
    )


def arm(role: str, n: int, failing: dict[int, list[str]], *, steps: dict[int, tuple[str, ...]] | None = None,
        scenario: str = "s") -> Arm:  # fmt: skip
    result = Arm(role=role, root=Path(role), manifest=None, versions=None, rubrics=list(RUBRICS))
    for i in range(n):
        run_id = f"run_{i:04d}"
        run_steps = (steps or {}).get(i, ("Orchestrator calls load_order",))
        result.runs[run_id] = RunRecord(
            run_id=run_id,
            scenario=f"{scenario}{i}",
            version_set=role,
            agent_versions={"A": role},
            steps=run_steps,
            behaviors=behaviors_of(run_steps, None, "completed"),
            label=label(run_id, failing.get(i, [])),
        )
    return result


def check(report, kind: str, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.checks if c.kind == kind and c.name == name)


def test_a_significant_regression_fails_the_gate_and_shows_the_runs() -> None:
    base = arm("base", 200, {i: ["final_decision_quality"] for i in (3, 50)})
    candidate = arm("candidate", 200, {i: ["final_decision_quality"] for i in (3, 50, *range(100, 120))})
    report = compare_arms(base, candidate)
    assert report.mode == "paired" and report.pairs == 200
    decision = check(report, "rubric", "final_decision_quality")
    assert (decision.base_rate, decision.candidate_rate) == (0.99, 0.89)
    assert decision.worse_pairs == 20 and decision.better_pairs == 0
    assert decision.status == "regressed" and decision.fails_gate and decision.p_adjusted is not None
    assert decision.ci_low < -0.1 < decision.ci_high < 0
    assert decision.examples == [f"run_{i:04d}" for i in range(100, 105)]
    pattern = check(report, "pattern", "decision_mismatch block not release")
    assert pattern.status == "regressed" and pattern.label == "decision mismatch: block not release"
    assert report.verdict.outcome == "regressed" and report.verdict.exit_code == 1
    assert set(report.verdict.regressions) == {
        "final_decision_quality",
        "overall",
        "decision_mismatch block not release",
    }
    assert report.verdict.headline.startswith("Regressed: candidate is significantly worse than base")
    untouched = check(report, "rubric", "review_appropriateness")
    assert untouched.status == "no clear change" and untouched.p_adjusted is None, "no discordant pair: no test"
    text = markdown(report)
    assert text.index("❌ regressed") < text.index("### Regressions (fail the gate)")
    assert "`run_0100`" in text and "http://127.0.0.1:8765/traces/run_0100" in text
    xml = junit(report).decode()
    assert 'failures="3"' in xml and 'name="final_decision_quality"' in xml and 'type="regression"' in xml


def test_a_regression_within_the_tolerance_passes_and_says_so() -> None:
    base = arm("base", 200, {})
    candidate = arm("candidate", 200, {i: ["final_decision_quality"] for i in range(20)})
    report = compare_arms(base, candidate, max_regression=15)
    assert report.verdict.outcome == "tolerated" and report.verdict.exit_code == 0
    assert "final_decision_quality" in report.verdict.tolerated and not report.verdict.regressions
    assert compare_arms(base, candidate, max_regression=5).verdict.exit_code == 1


def test_an_improvement_and_noise_that_goes_both_ways() -> None:
    base = arm("base", 200, {i: ["review_appropriateness"] for i in range(30)})
    better = arm("candidate", 200, {})
    report = compare_arms(base, better)
    assert report.verdict.outcome == "improved" and report.verdict.exit_code == 0
    assert check(report, "pattern", "review_unneeded").presence == "vanishes"
    noisy = arm("candidate", 200, {i: ["review_appropriateness"] for i in range(15, 45)})
    tied = compare_arms(base, noisy)
    review = check(tied, "rubric", "review_appropriateness")
    assert (review.worse_pairs, review.better_pairs) == (15, 15) and review.p_value == 1.0
    assert tied.verdict.outcome == "tied" and tied.verdict.exit_code == 0
    assert tied.verdict.headline.startswith("Statistically tied: no rubric or symptom pattern differs")
    assert "could not show at all" in tied.verdict.headline and "80% of the time" in tied.verdict.headline
    assert tied.verdict.smallest_significant_difference <= tied.verdict.detectable_difference


def test_a_behavior_change_is_listed_but_never_fails_the_gate() -> None:
    base = arm("base", 100, {})
    twice = ("Orchestrator calls load_order", "CustomerCommsAgent calls send", "CustomerCommsAgent calls send")
    candidate = arm("candidate", 100, {}, steps=dict.fromkeys(range(60), twice))
    report = compare_arms(base, candidate)
    assert report.verdict.outcome == "tied" and report.verdict.exit_code == 0
    assert report.verdict.changed_behavior_runs == 60
    repeated = check(report, "behavior", "CustomerCommsAgent calls send ×2")
    assert repeated.status == "changed" and repeated.presence == "appears" and not repeated.gates
    assert "Behavior changed in 60 of 100 runs without any grade changing" in report.verdict.headline
    assert "### Behavior that changed (not gated" in markdown(report)


def test_arms_that_ran_different_scenarios_are_compared_unpaired() -> None:
    base = arm("base", 150, {})
    candidate = arm("candidate", 150, {i: ["final_decision_quality"] for i in range(30)}, scenario="other")
    report = compare_arms(base, candidate)
    assert (
        report.mode == "unpaired"
        and report.pairs == 0
        and "share 150 run id(s) but not their scenarios" in report.pairing
    )
    decision = check(report, "rubric", "final_decision_quality")
    assert decision.worse_pairs is None and decision.status == "regressed"
    assert decision.examples_in == "candidate" and decision.examples == [f"run_{i:04d}" for i in range(5)]
    assert report.verdict.exit_code == 1
