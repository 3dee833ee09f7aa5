"""Each rubric on hand-made bundles that should pass and should fail."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evswarm.evals.rubrics import RUBRICS, BundleView, grade_bundle
from evswarm.evals.rubrics import routing as routing_rubric
from tests.evals.builders import as_bundle, clean_bundle

ID = re.compile(r"\b(span|evt)_[0-9a-z]+_\d{4}\b")


def verdicts(data: dict[str, Any]) -> dict[str, Any]:
    return grade_bundle(as_bundle(data))


def only_failure(data: dict[str, Any], rubric: str) -> Any:
    """Grade and check `rubric` is the one failing rubric; return its verdict."""
    result = verdicts(data)
    failing = [name for name, v in result.items() if not v.passed]
    assert failing == [rubric], {n: v.reason for n, v in result.items()}
    return result[rubric]


def test_clean_bundle_passes_every_rubric_with_cited_evidence() -> None:
    result = verdicts(clean_bundle())
    assert list(result) == list(RUBRICS)
    for verdict in result.values():
        assert verdict.passed and verdict.score == 1.0 and verdict.error is None
        assert verdict.evidence and ID.search(verdict.reason), verdict.reason


# --- final_decision_quality -------------------------------------------------------------------------


def test_wrong_decision_fails_final_decision_quality() -> None:
    data = clean_bundle()
    data["oracle"]["decision"] = "reroute"
    data["oracle"]["factory"] = "austin"
    verdict = only_failure(data, "final_decision_quality")
    assert "decision 'release', expected 'reroute'" in verdict.reason
    assert 0 < verdict.score < 1 and data["_final_generation_span"] in verdict.evidence


def test_wrong_terminal_state_fails_final_decision_quality() -> None:
    data = clean_bundle()
    data["run"]["summary"]["terminal_state"] = "failed"
    result = verdicts(data)
    assert not result["final_decision_quality"].passed
    assert "terminal state 'failed'" in result["final_decision_quality"].reason


def test_missing_final_decision_scores_zero() -> None:
    data = clean_bundle()
    data["run"]["summary"]["final_decision"] = None
    verdict = verdicts(data)["final_decision_quality"]
    assert not verdict.passed and verdict.score == 0.0
    assert "evt_00000000_0003" in verdict.reason


def test_wrong_factory_on_a_release_fails() -> None:
    data = clean_bundle()
    data["run"]["summary"]["final_decision"]["factory"] = "austin"
    verdict = only_failure(data, "final_decision_quality")
    assert "factory 'austin', expected 'fremont'" in verdict.reason


# --- policy_compliance_correctness -------------------------------------------------------------------


def test_price_within_tolerance_passes_and_outside_fails() -> None:
    near = clean_bundle()
    near["run"]["summary"]["final_decision"]["quoted_price"] = 41099.0
    assert verdicts(near)["policy_compliance_correctness"].passed

    far = clean_bundle()
    far["run"]["summary"]["final_decision"]["quoted_price"] = 43500.0
    verdict = only_failure(far, "policy_compliance_correctness")
    assert "off by 2500.00" in verdict.reason
    assert "span_00000000_0006" in verdict.evidence  # the compute_quote span


def test_quote_falls_back_to_compute_quote_output() -> None:
    data = clean_bundle()
    data["run"]["summary"]["final_decision"]["quoted_price"] = None
    assert verdicts(data)["policy_compliance_correctness"].passed
    data["oracle"]["expected_price"] = 30000.0
    assert not verdicts(data)["policy_compliance_correctness"].passed


def test_releasing_a_regionally_blocked_order_fails() -> None:
    data = clean_bundle()
    data["oracle"]["blocking_rules"] = ["ca_on_wheel_rule"]
    verdict = verdicts(data)["policy_compliance_correctness"]
    assert not verdict.passed and "ca_on_wheel_rule" in verdict.reason

    held = clean_bundle()
    held["oracle"]["blocking_rules"] = ["ca_on_wheel_rule"]
    held["run"]["summary"]["final_decision"]["decision"] = "block"
    held["run"]["summary"]["terminal_state"] = "blocked"
    assert verdicts(held)["policy_compliance_correctness"].passed


def test_no_price_and_no_rule_is_a_pass() -> None:
    data = clean_bundle()
    data["oracle"]["expected_price"] = None
    verdict = verdicts(data)["policy_compliance_correctness"]
    assert verdict.passed and "no price or regional rule" in verdict.reason


# --- routing_specialist_activation -------------------------------------------------------------------


def _drop_agent(data: dict[str, Any], agent: str) -> None:
    data["spans"] = [s for s in data["spans"] if s["agent_name"] != agent]
    data["run"]["summary"]["specialist_activations"].remove(agent)


def test_missing_required_specialist_fails_routing() -> None:
    data = clean_bundle()
    _drop_agent(data, "SupplyAllocationAgent")
    verdict = verdicts(data)["routing_specialist_activation"]
    assert not verdict.passed and "SupplyAllocationAgent" in verdict.reason
    assert verdict.score == pytest.approx(0.7 * 3 / 4 + 0.3, abs=1e-3)
    assert "evt_00000000_0002" in verdict.evidence  # the handoff events


def test_runaway_loop_fails_routing() -> None:
    data = clean_bundle()
    data["run"]["summary"]["loop_count"] = routing_rubric.MAX_LOOPS + 5
    verdict = only_failure(data, "routing_specialist_activation")
    assert "runaway loop" in verdict.reason and verdict.score == pytest.approx(0.7)


def test_one_specialist_visited_too_often_is_a_loop() -> None:
    data = clean_bundle()
    agent_span = next(s for s in data["spans"] if s["agent_name"] == "SupplyAllocationAgent")
    for n in range(routing_rubric.MAX_VISITS):
        data["spans"].append({**agent_span, "span_id": f"span_00000000_09{n:02d}"})
    verdict = verdicts(data)["routing_specialist_activation"]
    assert not verdict.passed and "SupplyAllocationAgent" in verdict.reason


# --- market_drift_awareness --------------------------------------------------------------------------


def _set_action(data: dict[str, Any], event_id: str, action: str | None) -> None:
    decisions = data["snapshots"]["environment_decisions"]
    data["snapshots"]["environment_decisions"] = [d for d in decisions if d["event_id"] != event_id]
    if action:
        original = next(d for d in decisions if d["event_id"] == event_id)
        data["snapshots"]["environment_decisions"].append({**original, "action": action})


@pytest.mark.parametrize(
    ("event_id", "action", "expected_text"),
    [
        ("inc_old", "applied", "inc_old not in effect"),  # expired incentive applied
        ("inc_fed", "ignored", "inc_fed in effect but not applied"),  # current incentive dropped
        ("stock_cells", None, "stock_cells not noticed"),  # stockout never read
        ("stock_cells", "ignored", "stock_cells ignored"),
    ],
)
def test_mishandled_signal_fails_market_drift(event_id: str, action: str | None, expected_text: str) -> None:
    data = clean_bundle()
    _set_action(data, event_id, action)
    if action != "applied":
        data["run"]["summary"]["final_decision"]["applied_incentives"] = []
    verdict = only_failure(data, "market_drift_awareness")
    assert expected_text in verdict.reason
    assert verdict.score == pytest.approx(2 / 3, abs=1e-3)


def test_expired_incentive_in_final_decision_fails_even_without_a_decision_record() -> None:
    data = clean_bundle()
    _set_action(data, "inc_old", None)
    data["run"]["summary"]["final_decision"]["applied_incentives"].append("inc_old")
    assert not verdicts(data)["market_drift_awareness"].passed


def test_no_signals_passes_market_drift() -> None:
    data = clean_bundle()
    data["oracle"]["signals"] = []
    assert verdicts(data)["market_drift_awareness"].passed


# --- review_appropriateness --------------------------------------------------------------------------


def _request_review(data: dict[str, Any]) -> None:
    data["review_packet"] = {
        "packet_id": "rp_00000000", "status": "pending", "findings": [], "recommended_action": "approve",
        "allowed_actions": ["approve", "reject"], "summary": "check", "requested_by": "EscalationTriageAgent",
        "requested_at": "2026-03-02T09:00:00Z",
    }  # fmt: skip


def test_escalating_a_clean_order_fails_review() -> None:
    data = clean_bundle()
    _request_review(data)
    verdict = only_failure(data, "review_appropriateness")
    assert "over-escalation" in verdict.reason and "rp_00000000" in verdict.evidence


def test_review_flag_alone_counts_as_a_request() -> None:
    data = clean_bundle()
    data["run"]["summary"]["final_decision"]["review_required"] = True
    assert not verdicts(data)["review_appropriateness"].passed
    data["oracle"]["review_required"] = True
    assert verdicts(data)["review_appropriateness"].passed


def test_missing_required_review_fails() -> None:
    data = clean_bundle()
    data["oracle"]["review_required"] = True
    verdict = only_failure(data, "review_appropriateness")
    assert verdict.score == 0.0 and "none was requested" in verdict.reason
    _request_review(data)
    assert verdicts(data)["review_appropriateness"].passed


# --- graders as a whole -------------------------------------------------------------------------------


def test_a_crashing_grader_is_an_error_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from evswarm.evals import rubrics

    def boom(view: BundleView) -> Any:
        raise KeyError("oops")

    monkeypatch.setitem(rubrics.GRADERS, "market_drift_awareness", boom)
    result = verdicts(clean_bundle())
    assert result["market_drift_awareness"].error == "KeyError: 'oops'"
    assert all(v.passed for n, v in result.items() if n != "market_drift_awareness")


def _mutations() -> list[Callable[[dict[str, Any]], None]]:
    def plant(data: dict[str, Any]) -> None:
        data["injected_faults"] = [
            {
                "fault_id": "stale_incentive",
                "agent_name": "IncentivePolicyAgent",
                "description": "d",
                "trigger": "t",
            }
        ]

    return [plant]


@pytest.mark.parametrize("mutate", _mutations())
def test_verdicts_ignore_planted_fault_records(mutate: Callable[[dict[str, Any]], None]) -> None:
    base = clean_bundle()
    base["oracle"]["review_required"] = True
    planted = clean_bundle()
    planted["oracle"]["review_required"] = True
    mutate(planted)
    assert verdicts(base) == verdicts(planted)


def test_evals_source_never_mentions_planted_faults() -> None:
    package = Path(__file__).resolve().parents[2] / "evswarm" / "evals"
    offenders = [p.name for p in package.rglob("*.py") if "injected_faults" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_evals_imports_only_the_core() -> None:
    package = Path(__file__).resolve().parents[2] / "evswarm" / "evals"
    pattern = re.compile(r"^\s*(from|import)\s+evswarm\.(simulator|agents|macro|review)\b", re.M)
    offenders = [p.name for p in package.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
