"""Each rubric on hand-made bundles that should pass and should fail."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evswarm.evals.rubrics import EV_RUBRICS, BundleView, grade_bundle
from evswarm.evals.rubrics import routing as routing_rubric
from tests.evals.builders import T0, as_bundle, clean_bundle

ID = re.compile(r"\b(span|evt)_[0-9a-z]+_\d{4}\b")


def verdicts(data: dict[str, Any]) -> dict[str, Any]:
    return grade_bundle(as_bundle(data))


def only_failure(data: dict[str, Any], rubric: str) -> Any:
    """Grade and check `rubric` is the one failing rubric; return its verdict."""
    result = verdicts(data)
    failing = [name for name, v in result.items() if not v.passed]
    assert failing == [rubric], {n: v.reason for n, v in result.items()}
    return result[rubric]


def kinds(verdict: Any) -> list[str]:
    return [f.kind.value for f in verdict.findings]


def test_clean_bundle_passes_every_rubric_with_cited_evidence() -> None:
    result = verdicts(clean_bundle())
    assert list(result) == list(EV_RUBRICS)
    for verdict in result.values():
        assert verdict.passed and verdict.score == 1.0 and verdict.error is None and verdict.findings == []
        assert verdict.evidence and ID.search(verdict.reason), verdict.reason
    assert "decided 'release' as the order called for" in result["final_decision_quality"].reason


# --- final_decision_quality -------------------------------------------------------------------------


def test_wrong_decision_fails_final_decision_quality() -> None:
    data = clean_bundle()
    data["oracle"]["decision"] = "reroute"
    data["oracle"]["factory"] = "austin"
    verdict = only_failure(data, "final_decision_quality")
    assert kinds(verdict) == ["decision_mismatch"] and verdict.findings[0].subject == "release not reroute"
    assert "decided 'release'; the order called for 'reroute'" in verdict.reason
    assert 0 < verdict.score < 1 and data["_final_generation_span"] in verdict.findings[0].evidence


def test_wrong_terminal_state_fails_final_decision_quality() -> None:
    data = clean_bundle()
    data["run"]["summary"]["terminal_state"] = "failed"
    result = verdicts(data)
    assert not result["final_decision_quality"].passed
    assert kinds(result["final_decision_quality"]) == ["status_mismatch"]
    assert "ended 'failed'" in result["final_decision_quality"].reason


def test_missing_final_decision_scores_zero() -> None:
    data = clean_bundle()
    data["run"]["summary"]["final_decision"] = None
    verdict = verdicts(data)["final_decision_quality"]
    assert not verdict.passed and verdict.score == 0.0 and kinds(verdict) == ["no_decision"]
    assert "evt_00000000_0003" in verdict.reason


def test_wrong_factory_on_a_release_fails() -> None:
    data = clean_bundle()
    data["run"]["summary"]["final_decision"]["factory"] = "austin"
    verdict = only_failure(data, "final_decision_quality")
    assert kinds(verdict) == ["factory_mismatch"]
    assert "released to factory 'austin'; the correct factory is 'fremont'" in verdict.reason


# --- policy_compliance_correctness -------------------------------------------------------------------


def test_price_within_tolerance_passes_and_outside_fails() -> None:
    near = clean_bundle()
    near["run"]["summary"]["final_decision"]["quoted_price"] = 41099.0
    assert verdicts(near)["policy_compliance_correctness"].passed

    far = clean_bundle()
    far["run"]["summary"]["final_decision"]["quoted_price"] = 43500.0
    verdict = only_failure(far, "policy_compliance_correctness")
    assert kinds(verdict) == ["price_mismatch"] and verdict.findings[0].subject == "quote above"
    assert "2,500.00 above the correct" in verdict.reason
    assert "span_00000000_0006" in verdict.evidence  # the compute_quote span, where the price shows


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
    assert not verdict.passed and "ca_on_wheel_rule" in verdict.reason and kinds(verdict) == ["rule_violated"]

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
    assert not verdict.passed and "SupplyAllocationAgent never ran" in verdict.reason
    assert kinds(verdict) == ["specialist_skipped"] and verdict.findings[0].subject == "SupplyAllocationAgent"
    assert verdict.score == pytest.approx(0.7 * 3 / 4 + 0.3, abs=1e-3)
    assert verdict.evidence == [data["_final_generation_span"], "evt_00000000_0003"]  # where the run concluded


def test_one_specialist_visited_too_often_is_a_loop() -> None:
    data = clean_bundle()
    agent_span = next(s for s in data["spans"] if s["agent_name"] == "SupplyAllocationAgent")
    for n in range(routing_rubric.MAX_VISITS):
        data["spans"].append({**agent_span, "span_id": f"span_00000000_09{n:02d}"})
    verdict = verdicts(data)["routing_specialist_activation"]
    assert not verdict.passed and "SupplyAllocationAgent ran more than" in verdict.reason
    assert kinds(verdict) == ["loop"]


# --- market_drift_awareness --------------------------------------------------------------------------


def _set_action(data: dict[str, Any], event_id: str, action: str | None) -> None:
    decisions = data["snapshots"]["environment_decisions"]
    data["snapshots"]["environment_decisions"] = [d for d in decisions if d["event_id"] != event_id]
    if action:
        original = next(d for d in decisions if d["event_id"] == event_id)
        data["snapshots"]["environment_decisions"].append({**original, "action": action})


@pytest.mark.parametrize(
    ("event_id", "action", "kind", "expected_text"),
    [
        ("inc_old", "applied", "signal_misapplied", "incentive inc_old does not apply but was applied"),
        ("inc_fed", "ignored", "signal_ignored", "incentive inc_fed is in effect but was not applied"),
        ("stock_cells", None, "signal_ignored", "stockout stock_cells was not noticed"),  # never read
        ("stock_cells", "ignored", "signal_ignored", "stockout stock_cells was not noticed"),
    ],
)
def test_mishandled_signal_fails_market_drift(event_id: str, action: str | None, kind: str, expected_text: str) -> None:
    data = clean_bundle()
    _set_action(data, event_id, action)
    if action != "applied":
        data["run"]["summary"]["final_decision"]["applied_incentives"] = []
    verdict = only_failure(data, "market_drift_awareness")
    assert expected_text in verdict.reason and kinds(verdict) == [kind]
    assert verdict.findings[0].subject == ("incentive" if event_id.startswith("inc") else "stockout")
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
    assert kinds(verdict) == ["review_unneeded"] and "rp_00000000" in verdict.evidence


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
    assert verdict.score == 0.0 and "none was requested" in verdict.reason and kinds(verdict) == ["review_missing"]
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
                "cause_id": "stale_incentive",
                "origin": "planted",
                "side": "agent",
                "component": "IncentivePolicyAgent",
                "description": "d",
                "trigger": "t",
                "step_ids": ["span_00000000_0005"],
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


# --- symptoms show where they are visible, never who caused them ---------------------------------------


def _add_span(data: dict[str, Any], span_type: str, agent: str, span_data: dict[str, Any]) -> str:
    run = data["run"]["run_id"][4:12]
    span_id = f"span_{run}_{len(data['spans']) + 1:04d}"
    data["spans"].append(
        {
            "span_id": span_id, "parent_span_id": None, "trace_id": f"trace_{run}", "started_at": T0,
            "ended_at": T0, "span_type": span_type, "agent_name": agent, "error": None, "span_data": span_data,
        }
    )  # fmt: skip
    return span_id


def _report(data: dict[str, Any], agent: str, target: str, **args: Any) -> str:
    """An agent's report: a generation span whose function call hands control to `target`."""
    call = {"type": "function_call", "name": f"transfer_to_{target.lower()}", "arguments": json.dumps(args)}
    return _add_span(data, "generation", agent, {"model": "policy", "input": {}, "output": [call]})


def _handoff(data: dict[str, Any], source: str, target: str) -> str:
    return _add_span(data, "handoff", source, {"type": "handoff", "from_agent": source, "to_agent": target})


def test_a_routing_loop_names_the_agents_and_cites_the_repeated_handoffs() -> None:
    data = clean_bundle()
    repeated = []
    for _ in range(routing_rubric.MAX_LOOPS + 2):
        _handoff(data, "SupplyAllocationAgent", "SupplierRiskAgent")
        repeated.append(_handoff(data, "SupplierRiskAgent", "SupplyAllocationAgent"))
    verdict = only_failure(data, "routing_specialist_activation")
    assert kinds(verdict) == ["loop"]
    assert "control went back and forth between SupplyAllocationAgent and SupplierRiskAgent" in verdict.reason
    assert verdict.score == pytest.approx(0.7)


def test_a_stop_on_some_agents_report_is_an_early_stop_cited_at_the_decision_not_the_agent() -> None:
    data = clean_bundle()
    veto = _report(data, "ShadowOrchestrator", "Orchestrator", status="blocked", findings=[])
    data["run"]["summary"]["final_decision"]["decision"] = "block"
    data["run"]["summary"]["terminal_state"] = "blocked"
    _drop_agent(data, "SupplyAllocationAgent")
    result = verdicts(data)
    assert kinds(result["final_decision_quality"]) == ["decision_mismatch", "status_mismatch"]
    assert kinds(result["routing_specialist_activation"]) == ["early_stop"]
    cited = {e for v in result.values() for e in v.evidence}
    assert veto not in cited  # the report that stopped the order is for the analysis to find, not the grader
    assert "ShadowOrchestrator" not in " ".join(v.reason for v in result.values())


def test_an_over_escalation_cites_the_request_not_the_report_that_asked_for_it() -> None:
    data = clean_bundle()
    _request_review(data)
    asked = _report(data, "ReleaseReviewAgent", "EscalationTriageAgent", review_required=True, status="issue")
    verdict = only_failure(data, "review_appropriateness")
    assert verdict.evidence[0] == "rp_00000000" and asked not in verdict.evidence


def test_no_finding_message_names_a_planted_fault() -> None:
    from tests.simulator.helpers import planted_fault_vocabulary

    data = clean_bundle()
    data["oracle"]["decision"] = "reroute"
    data["oracle"]["factory"] = "austin"
    _set_action(data, "inc_old", "applied")
    data["oracle"]["review_required"] = True
    messages = " ".join(f.message for v in verdicts(data).values() for f in v.findings).lower()
    assert messages and not [w for w in planted_fault_vocabulary() if w in messages]
