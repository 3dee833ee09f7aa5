"""The swarm on the real SDK Runner: baseline decisions, guardrails, and what a bundle records."""

from __future__ import annotations

import asyncio
import json

import pytest
from agents import RunContextWrapper

from evswarm.agents.guardrails import release_gate
from evswarm.agents.outputs import OrderDecision
from evswarm.agents.state import RunState, clock_for
from evswarm.agents.swarm import build_swarm
from evswarm.core.io import bundle_bytes, parse_bundle
from evswarm.simulator.cases import CASE_TYPES, generate
from tests.simulator.helpers import run, run_case

ACTION = {"apply": "applied", "exclude": "excluded", "notice": "noticed"}


def test_the_swarm_has_an_orchestrator_and_at_least_18_specialists() -> None:
    swarm = build_swarm()
    assert len(swarm.agents) >= 19
    for name, agent in swarm.agents.items():
        assert agent.tools, f"{name} has no tools"
        assert agent.handoffs, f"{name} has no handoffs"
        assert agent.output_type is not None
    assert swarm.orchestrator.input_guardrails and swarm.orchestrator.output_guardrails


@pytest.mark.slow
@pytest.mark.parametrize("case_type", CASE_TYPES)
def test_baseline_policy_reaches_the_oracle_decision(case_type: str) -> None:
    for index in range(2):
        bundle = run_case(21, index, case_type=case_type, faults=[])
        oracle, summary = bundle.oracle, bundle.run.summary
        assert not bundle.injected_faults, "the baseline policy fires no fault"
        decision = summary.final_decision
        assert decision is not None and decision.decision == oracle.decision, summary.error_message
        assert bundle.run.status == oracle.expected_status
        if oracle.expected_price is not None and oracle.decision != "block":
            assert decision.quoted_price == pytest.approx(oracle.expected_price, abs=oracle.price_tolerance)
        assert set(oracle.required_specialists) <= set(summary.specialist_activations)
        assert decision.review_required == oracle.review_required
        taken = {d.event_id: d.action for d in bundle.snapshots.environment_decisions}
        for expected in oracle.signals:
            assert taken.get(expected.event_id) == ACTION[expected.expected_action], expected.event_id


@pytest.mark.slow
def test_a_malformed_order_trips_the_input_guardrail_before_any_tool_runs() -> None:
    scenario = next(
        s
        for i in range(80)
        if (s := generate(5, i, case_type="validation_block_simple", version_sets=["v1.0"])).malformed
    )
    bundle = run(scenario)
    assert bundle.run.status == "blocked"
    assert bundle.run.summary.validation_outcome == "invalid_order"
    guardrails = [s for s in bundle.spans if s.span_type == "guardrail"]
    assert guardrails and guardrails[0].span_data["triggered"] is True
    assert not [s for s in bundle.spans if s.span_type == "function"]
    assert bundle.run.summary.final_decision is not None
    assert bundle.run.summary.final_decision.decided_by == "guardrail:order_validity"


def _decision(**overrides: object) -> OrderDecision:
    base = {
        "decision": "release",
        "quoted_price": 50000.0,
        "factory": "fremont_ca",
        "supplier_substitutions": [],
        "review_required": False,
        "applied_incentives": [],
        "applied_promotions": [],
        "rationale": "ok",
    }
    return OrderDecision.model_validate({**base, **overrides})


def test_release_gate_trips_unless_the_factory_authorized_the_release() -> None:
    scenario = generate(1, 0)
    state = RunState(scenario=scenario, clock=clock_for(scenario), run_key="k")
    ctx = RunContextWrapper(state)
    check = release_gate.guardrail_function

    async def verdict(decision: OrderDecision) -> bool:
        result = await check(ctx, build_swarm().orchestrator, decision)  # type: ignore[arg-type]
        return bool(result.tripwire_triggered)

    assert asyncio.run(verdict(_decision())) is True
    state.reports.append({"agent": "FactoryReleaseAgent", "factory": "fremont_ca", "authorized": True})
    assert asyncio.run(verdict(_decision())) is False
    assert asyncio.run(verdict(_decision(factory="austin_tx"))) is True
    assert asyncio.run(verdict(_decision(decision="block", factory=None))) is False


@pytest.mark.slow
def test_a_bundle_records_the_sdk_trace_and_what_replay_needs() -> None:
    bundle = run_case(9, 3, case_type="supplier_substitution_compound")
    kinds = {s.span_type for s in bundle.spans}
    assert {"agent", "generation", "function", "handoff", "guardrail", "custom"} <= kinds
    generations = [s for s in bundle.spans if s.span_type == "generation"]
    assert len(generations) == len(bundle.model_calls)
    for span, recorded in zip(generations, bundle.model_calls, strict=True):
        assert span.span_data["output"] == recorded.output
        assert recorded.output[0]["type"] == "reasoning" and recorded.output[0]["summary"][0]["text"]
    calls = {
        item["call_id"]: item["name"]
        for call in bundle.model_calls
        for item in call.output
        if item["type"] == "function_call"
    }
    functions = [s for s in bundle.spans if s.span_type == "function"]
    assert functions and all(calls[s.span_data["call_id"]] == s.span_data["name"] for s in functions)
    starts = [s.started_at for s in bundle.spans]
    assert starts == sorted(starts), "span start times follow the simulated clock"
    assert all(s.agent_name for s in bundle.spans if s.span_type in ("function", "generation", "handoff"))
    handoffs = [s for s in bundle.spans if s.span_type == "handoff"]
    assert len(handoffs) >= 12 and len(functions) >= 25
    assert parse_bundle(bundle_bytes(bundle), source="memory") == bundle
    packet_free = bundle.review_packet is None
    assert packet_free == (bundle.run.summary.review_status == "not_required")
    assert json.loads(bundle.trace.metadata_json)["scenario_family"] == "supplier_substitution_compound"


@pytest.mark.slow
def test_a_flaky_feed_is_retried_and_every_record_counts_the_retry() -> None:
    scenario = generate(21, 0, case_type="clean_simple", version_sets=["v1.0"])
    bundle = run(scenario.model_copy(update={"active_faults": [], "flaky_tools": ["get_factory_capacity"]}))
    assert bundle.run.status == bundle.oracle.expected_status
    failed = [s for s in bundle.spans if s.span_type == "function" and s.error]
    assert [s.span_data["name"] for s in failed] == ["get_factory_capacity"]
    assert bundle.run.summary.retry_count == 1
    terminal = [e for e in bundle.events if e.payload.get("terminal_state")][-1]
    assert terminal.payload["retry_count"] == 1
    health = next(s for s in bundle.spans if s.span_data.get("name") == "inspect_swarm_health")
    assert json.loads(health.span_data["output"])["retries"] == 1, "the swarm monitor sees the retry too"
