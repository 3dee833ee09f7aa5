"""The world and the oracle: each case type's generator creates its situation and the right answer."""

from __future__ import annotations

import pytest

from evswarm.core.bundle import Decision, RunStatus
from evswarm.simulator.cases import CASE_TYPES, generate
from evswarm.world import catalog, regions
from evswarm.world.oracle import oracle_for, truth_price

EXPECTED: dict[str, set[Decision]] = {
    "clean_simple": {Decision.RELEASE},
    "validation_block_simple": {Decision.BLOCK},
    "release_block_simple": {Decision.HOLD_FOR_REVIEW},
    "capacity_hold_simple": {Decision.REROUTE},
    "pricing_exception_compound": {Decision.ADJUST_PRICE},
    "escalation_resume_compound": {Decision.RELEASE},
    "supplier_substitution_compound": {Decision.SUBSTITUTE_SUPPLIER},
    "regional_compliance_compound": {Decision.BLOCK},
    "clarification_needed_compound": {Decision.REQUEST_CLARIFICATION},
    "schedule_incentive_compound": {Decision.ADJUST_PRICE},
    "tradeoff_recommended_compound": {Decision.REROUTE, Decision.RELEASE},
    "dual_failure_recovery_compound": {Decision.REROUTE},
    "ambiguous_customer_intent_compound": {Decision.REQUEST_CLARIFICATION},
    "conflicting_multi_agent_compound": {Decision.ADJUST_PRICE},
}
STATUS = {
    Decision.BLOCK: RunStatus.BLOCKED,
    Decision.HOLD_FOR_REVIEW: RunStatus.AWAITING_REVIEW,
    Decision.REQUEST_CLARIFICATION: RunStatus.AWAITING_REVIEW,
}


def test_every_case_type_has_an_expectation() -> None:
    assert set(EXPECTED) == set(CASE_TYPES)
    assert len(CASE_TYPES) == 14


@pytest.mark.parametrize("case_type", CASE_TYPES)
def test_case_type_oracle_decides_what_its_situation_calls_for(case_type: str) -> None:
    for index in range(6):
        scenario = generate(101, index, case_type=case_type)
        oracle = oracle_for(scenario)
        assert scenario.case_type == case_type
        assert oracle.decision in EXPECTED[case_type], (index, oracle.rationale)
        assert oracle.expected_status == STATUS.get(oracle.decision, RunStatus.COMPLETED)
        assert "BuildabilityValidationAgent" in oracle.required_specialists or scenario.malformed


def test_case_specific_situations_are_really_there() -> None:
    for index in range(5):
        s = generate(7, index, case_type="capacity_hold_simple")
        assert oracle_for(s).factory != s.default_factory
        s = generate(7, index, case_type="supplier_substitution_compound")
        assert oracle_for(s).supplier_substitutions, "a stockout needs a substitution"
        s = generate(7, index, case_type="regional_compliance_compound")
        v = s.order.vehicle
        assert regions.blocking_rules(s.order.customer.region, v.model, v.wheels, v.battery, v.options, s.order_date)
        s = generate(7, index, case_type="schedule_incentive_compound")
        excluded = [x.event_id for x in oracle_for(s).signals if x.expected_action == "exclude"]
        assert any(e.startswith("incentive-") for e in excluded)
        s = generate(7, index, case_type="conflicting_multi_agent_compound")
        assert any(
            x.event_id.startswith("promotion-") and x.expected_action == "exclude" for x in oracle_for(s).signals
        )
        s = generate(7, index, case_type="escalation_resume_compound")
        assert oracle_for(s).review_required and s.order.quantity >= 10
        s = generate(7, index, case_type="dual_failure_recovery_compound")
        assert oracle_for(s).supplier_substitutions and oracle_for(s).factory != s.default_factory


def test_quoted_price_matches_truth_unless_the_case_moves_it() -> None:
    for index in range(8):
        clean = generate(3, index, case_type="clean_simple")
        assert clean.order.quoted_price == truth_price(clean)
        moved = generate(3, index, case_type="pricing_exception_compound")
        assert moved.order.quoted_price is not None
        assert abs(truth_price(moved) - moved.order.quoted_price) > oracle_for(moved).price_tolerance


def test_invalid_builds_are_caught_by_the_catalog_rules() -> None:
    assert catalog.buildability_violations("Lumen", "performance", "19in_aero", "NMC-82", []) == ["WHEEL_TRIM_CONFLICT"]
    assert catalog.buildability_violations("Atlas", "standard", "19in_aero", "LFP-60", ["tow_package"]) == [
        "TOW_REQUIRES_NMC"
    ]
    assert catalog.buildability_violations("Lumen", "standard", "19in_aero", "LFP-60", []) == []


def test_a_run_depends_only_on_seed_and_index() -> None:
    assert generate(42, 17) == generate(42, 17)
    assert generate(42, 17) != generate(43, 17)
    assert generate(42, 17).run_id != generate(42, 18).run_id
