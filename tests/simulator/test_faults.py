"""Each planted fault changes behavior only through its agent's policy, and only when its trigger holds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evswarm.agents.faults import FAULTS
from evswarm.agents.versions import builtin_catalog
from evswarm.core.bundle import Decision
from evswarm.simulator.cases import generate
from evswarm.world.market import days_between
from evswarm.world.oracle import best_alternate_factory, oracle_for, overloaded, short_components, truth_price
from evswarm.world.scenario import Scenario
from tests.simulator.helpers import run

RELEASING = (Decision.RELEASE, Decision.ADJUST_PRICE, Decision.REROUTE, Decision.SUBSTITUTE_SUPPLIER)


def _stale_incentive(s: Scenario) -> bool:
    return any(
        i.effective_to is not None
        and i.effective_to < s.delivery_date
        and s.list_price() <= float(i.details["price_cap"])
        for i in s.listed_incentives()
    )


def _recent_tariff(s: Scenario) -> bool:
    return any(days_between(t.effective_from, s.order_date) <= 60 for t in s.listed_tariffs())


def _capacity(s: Scenario) -> bool:
    alternate = best_alternate_factory(s)
    return overloaded(s, s.default_factory) and alternate is not None


TRIGGERS: dict[str, tuple[Callable[[Scenario], bool], tuple[str, ...]]] = {
    "stale_incentive": (_stale_incentive, ("schedule_incentive_compound", "clean_simple")),
    "tariff_omitted": (_recent_tariff, ("clean_simple", "supplier_substitution_compound")),
    "missed_stockout": (lambda s: bool(short_components(s)), ("supplier_substitution_compound", "clean_simple")),
    "skip_regional_compliance": (
        lambda s: s.order.customer.region == "CA-ON",
        ("conflicting_multi_agent_compound", "clean_simple"),
    ),
    "review_escalates_clean": (lambda s: truth_price(s) > 50000, ("clean_simple",)),
    "routing_loop": (lambda s: bool(s.signals_of("supply_risk")), ("clean_simple", "capacity_hold_simple")),
    "capacity_ignored": (_capacity, ("capacity_hold_simple", "clean_simple")),
    "rogue_shadow_veto": (lambda s: oracle_for(s).decision in RELEASING, ("clean_simple", "release_block_simple")),
    "compliance_tariff_exemption": (_recent_tariff, ("clean_simple", "supplier_substitution_compound")),
    "redundant_confirmation": (
        lambda s: oracle_for(s).decision in RELEASING,
        ("clean_simple", "validation_block_simple"),
    ),
}


def _version_set_with(fault_id: str) -> str:
    """A built-in version set that switches the fault on, directly or through a rogue window."""
    sets = builtin_catalog().sets.values()
    direct = [vs.name for vs in sets if fault_id in vs.faults]
    windowed = [vs.name for vs in sets if any(w.fault == fault_id for w in vs.rogue_windows)]
    return (direct or windowed)[0]


def test_every_fault_has_a_trigger_check_and_a_version_set() -> None:
    assert set(TRIGGERS) == set(FAULTS) and len(FAULTS) >= 6
    for fault_id in FAULTS:
        assert _version_set_with(fault_id)


@pytest.mark.slow
@pytest.mark.parametrize("fault_id", sorted(FAULTS))
def test_fault_changes_behavior_only_when_its_trigger_holds(fault_id: str) -> None:
    trigger, case_types = TRIGGERS[fault_id]
    version_set = _version_set_with(fault_id)
    fired_runs = quiet_runs = 0
    for index in range(7):
        for case_type in case_types:
            scenario = generate(17, index, version_sets=[version_set], case_type=case_type).calm()
            faulty = run(scenario.model_copy(update={"active_faults": [fault_id]}))
            baseline = run(scenario.model_copy(update={"active_faults": []}))
            fired = [f.cause_id for f in faulty.injected_faults]
            changed = [c.output for c in faulty.model_calls] != [c.output for c in baseline.model_calls]
            assert not baseline.injected_faults
            assert changed == bool(fired), f"{fault_id} {case_type}#{index}: fired={fired} changed={changed}"
            if fired:
                assert fired == [fault_id] and faulty.injected_faults[0].component == FAULTS[fault_id].agent_name
                assert faulty.injected_faults[0].step_ids  # where it acted is recorded
                assert trigger(scenario), f"{fault_id} fired without its trigger ({case_type}#{index})"
                fired_runs += 1
            else:
                quiet_runs += 1
    assert fired_runs >= 1, f"{fault_id} never fired"
    assert quiet_runs >= 1, f"{fault_id} fired on every run"


# --- organic causes ----------------------------------------------------------------------------------


def _organic_runs(seed: int, count: int) -> list:  # type: ignore[type-arg]
    from tests.simulator.helpers import run as run_one

    return [run_one(generate(seed, i, version_sets=["v1.0"])) for i in range(count)]


@pytest.mark.slow
def test_the_baseline_fails_on_its_own_and_records_every_organic_cause_where_it_acted() -> None:
    from evswarm.core.bundle import CauseOrigin
    from evswarm.world.scenario import Scenario as _Scenario

    seen: dict[str, int] = {}
    index = 0
    while len({c.split(":")[0] for c in seen}) < 3 and index < 400:
        scenario: _Scenario = generate(31, index, version_sets=["v1.0"])
        index += 1
        if not (scenario.tool_troubles or scenario.late_shock or scenario.hidden_intent_issues):
            continue
        bundle = run(scenario)
        for cause in bundle.injected_faults:
            assert cause.origin == CauseOrigin.ORGANIC, "v1.0 plants no fault"
            assert cause.step_ids, cause.cause_id
            seen[cause.cause_id] = seen.get(cause.cause_id, 0) + 1
        calm = run(scenario.calm())
        assert calm.injected_faults == []
    assert {c.split(":")[0] for c in seen} >= {"tool", "input"} or {c.split(":")[0] for c in seen} >= {"environment"}


def test_organic_draws_of_one_agent_do_not_depend_on_another_agents_version() -> None:
    from evswarm.world.streams import chance

    scenario = generate(3, 5, version_sets=["v1.0"])
    other = generate(3, 5, version_sets=["v1.1"])
    assert scenario.run_id == other.run_id
    keys = [(scenario.run_id, "PricingAgent", ""), (other.run_id, "PricingAgent", "")]
    assert chance(0.5, *keys[0], "rounded_quote") == chance(0.5, *keys[1], "rounded_quote")
    assert scenario.tool_troubles == other.tool_troubles and scenario.late_shock == other.late_shock


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["get_factory_capacity", "check_inventory"])
def test_a_tool_outage_makes_its_agent_give_up_and_the_order_wait_for_review(tool: str) -> None:
    from evswarm.world.trouble import ToolTrouble

    scenario = generate(5, 0, version_sets=["v1.0"], case_type="clean_simple").calm()
    down = scenario.model_copy(update={"tool_troubles": [ToolTrouble(tool=tool, kind="outage")]})
    bundle = run(down)
    summary = bundle.run.summary
    assert summary.error_code is None, summary.error_message  # the agent gives up; the run does not crash
    assert summary.final_decision is not None and summary.final_decision.decision == "hold_for_review"
    (cause,) = bundle.injected_faults
    assert (cause.side, cause.component, cause.origin) == ("tool", tool, "organic")
    failed = [s for s in bundle.spans if s.span_type == "function" and s.span_data.get("name") == tool]
    assert len(failed) == 3 and set(cause.step_ids) == {s.span_id for s in failed}
