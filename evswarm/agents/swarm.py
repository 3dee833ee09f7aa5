"""The swarm: an orchestrator and 23 specialists as SDK `Agent`s, with tools, typed handoffs and guardrails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents import Agent, AgentOutputSchema, FunctionTool, Handoff, RunContextWrapper, handoff
from agents.tracing import get_current_span
from pydantic import BaseModel

from evswarm.agents import outputs as out
from evswarm.agents.guardrails import order_validity, release_gate
from evswarm.agents.state import RunState
from evswarm.agents.tools import compliance, factory, intake, pricing, review, supply

ORCHESTRATOR = "Orchestrator"

_REPORTING = (
    "When your work is done, hand off with your structured report as the handoff arguments: status "
    "(ok, issue or blocked), a one-line summary, findings with codes and severities, and every environment "
    "signal you applied, excluded or noticed. Never invent data a tool did not return."
)


@dataclass(frozen=True)
class Specialist:
    name: str
    description: str
    job: str
    report: type[out.Report]
    tools: tuple[FunctionTool, ...]
    forwards_to: tuple[str, ...] = ()


SPECIALISTS: tuple[Specialist, ...] = (
    Specialist(
        "BuildabilityValidationAgent",
        "Validates a configuration against catalog rules.",
        "Check the configuration with check_buildability and lookup_trim_rules. Any violation blocks the order.",
        out.BuildabilityReport,
        (intake.check_buildability, intake.lookup_trim_rules),
    ),
    Specialist(
        "ComplianceValidationAgent",
        "Checks regional law and promotion restrictions.",
        "Run check_regional_rules for the customer's region and check_promotion_restrictions for the quote's "
        "promotions. Violations block the order; restricted promotions must be struck. Regions with their "
        "own regime go on to the regional compliance desk.",
        out.ComplianceReport,
        (compliance.check_regional_rules, compliance.check_promotion_restrictions),
        ("RegionalComplianceAgent",),
    ),
    Specialist(
        "RegionalComplianceAgent",
        "Handles type approval and registration in special regions.",
        "Confirm homologation and registration requirements for the region.",
        out.RegionalComplianceReport,
        (compliance.check_homologation, compliance.check_registration_requirements),
    ),
    Specialist(
        "PricingAgent",
        "Prices orders: list price, tariffs, promotions and incentives.",
        "Gather get_base_price, get_tariffs, list_promotions and list_incentives. Send listed promotions "
        "to the promotion desk and listed incentives to the incentive desk, then quote with compute_quote "
        "using only what they found eligible, every tariff in force, and none of the promotions compliance "
        "struck. A quote that differs from the customer's price goes to the pricing-exception desk.",
        out.PricingReport,
        (
            pricing.get_base_price,
            pricing.get_tariffs,
            pricing.list_promotions,
            pricing.list_incentives,
            pricing.compute_quote,
        ),
        ("PromotionStrategyAgent", "IncentivePolicyAgent", "PricingExceptionAgent"),
    ),
    Specialist(
        "PromotionStrategyAgent",
        "Vets promotions for an order.",
        "Check promotion windows and model scope with check_promotion_eligibility.",
        out.PromotionReport,
        (pricing.check_promotion_eligibility,),
        ("IncentivePolicyAgent", "PricingAgent"),
    ),
    Specialist(
        "IncentivePolicyAgent",
        "Vets government incentives for an order.",
        "Incentives are paid at delivery: one applies only if its window covers the requested delivery "
        "date and the list price is under its cap. Use check_incentive_windows.",
        out.IncentiveReport,
        (pricing.check_incentive_windows,),
        ("PricingAgent",),
    ),
    Specialist(
        "PricingExceptionAgent",
        "Approves price corrections.",
        "Review the drift with review_price_drift and approve it with approve_price_adjustment when it is "
        "within authority.",
        out.PricingExceptionReport,
        (pricing.review_price_drift, pricing.approve_price_adjustment),
    ),
    Specialist(
        "MarketIntelligenceAgent",
        "Reads competitor, launch and rate signals.",
        "Read read_competitor_moves and assess_demand_signal and note every active signal.",
        out.MarketReport,
        (pricing.read_competitor_moves, pricing.assess_demand_signal),
    ),
    Specialist(
        "SupplyAllocationAgent",
        "Allocates components from stock.",
        "Get the bill of materials, check inventory, and treat a component as short when on-hand minus "
        "allocated stock is below the order quantity. Reserve the rest, then pass to supplier risk.",
        out.SupplyReport,
        (supply.get_bill_of_materials, supply.check_inventory, supply.reserve_components),
        ("SupplierRiskAgent",),
    ),
    Specialist(
        "SupplierRiskAgent",
        "Rates suppliers in the order's mix.",
        "Rate suppliers with assess_supplier_risk and report watch-listed ones. Short components go to procurement.",
        out.SupplierRiskReport,
        (supply.assess_supplier_risk,),
        ("ProcurementPlanningAgent", "SupplyAllocationAgent"),
    ),
    Specialist(
        "ProcurementPlanningAgent",
        "Finds and reserves second sources.",
        "For every short component, find_alternate_supplier and reserve_alternate.",
        out.ProcurementReport,
        (supply.find_alternate_supplier, supply.reserve_alternate),
    ),
    Specialist(
        "CapacityPlanningAgent",
        "Checks factory load.",
        "Check the default factory with get_factory_capacity and forecast_line_load. Over 100% utilization "
        "goes to factory routing; otherwise to scheduling.",
        out.CapacityReport,
        (factory.get_factory_capacity, factory.forecast_line_load),
        ("FactoryRoutingAgent", "ProductionSchedulingAgent"),
    ),
    Specialist(
        "FactoryRoutingAgent",
        "Routes orders between factories.",
        "Rank factories; reroute to the open factory with room and the shortest transit. When that costs more "
        "than 7 extra transit days, ask the trade-off planner.",
        out.RoutingReport,
        (factory.rank_factories, factory.assign_factory),
        ("ProductionSchedulingAgent", "TradeoffPlannerAgent"),
    ),
    Specialist(
        "TradeoffPlannerAgent",
        "Weighs waiting against rerouting.",
        "Compare the options with compare_fulfillment_options and pick the one with fewer days of delay.",
        out.TradeoffReport,
        (factory.compare_fulfillment_options,),
        ("ProductionSchedulingAgent",),
    ),
    Specialist(
        "ProductionSchedulingAgent",
        "Books build slots.",
        "Book a slot with build_schedule at the chosen factory.",
        out.ScheduleReport,
        (factory.build_schedule,),
        ("FactoryReleaseAgent",),
    ),
    Specialist(
        "FactoryReleaseAgent",
        "Releases build orders to factories.",
        "Check check_release_state; authorize_release only when the factory is open.",
        out.ReleaseReport,
        (factory.check_release_state, factory.authorize_release),
    ),
    Specialist(
        "ReleaseReviewAgent",
        "Decides whether a release needs a human reviewer.",
        "Use review_order_package. Fleet orders and factory holds need review; clean orders do not.",
        out.ReviewReport,
        (review.review_order_package,),
        ("EscalationTriageAgent",),
    ),
    Specialist(
        "EscalationTriageAgent",
        "Routes escalations to the right desk.",
        "Classify the escalation and open a review packet with request_human_review.",
        out.EscalationReport,
        (review.classify_escalation, review.request_human_review),
        ("HumanEscalationAgent",),
    ),
    Specialist(
        "HumanEscalationAgent",
        "The human review desk.",
        "Wait for the reviewer with await_reviewer_decision and report the decision.",
        out.HumanReviewReport,
        (review.await_reviewer_decision,),
    ),
    Specialist(
        "ClarificationAgent",
        "Works out what the customer wants.",
        "Analyze the notes against the configuration and draft clarifying questions.",
        out.ClarificationReport,
        (intake.analyze_customer_intent, intake.draft_clarifying_questions),
        ("CustomerCommsAgent",),
    ),
    Specialist(
        "CustomerCommsAgent",
        "Writes to the customer.",
        "Draft and send the message the orchestrator asked for.",
        out.CommsReport,
        (review.draft_customer_message, review.send_customer_message),
    ),
    Specialist(
        "SwarmMonitorAgent",
        "Watches the swarm for loops and retries.",
        "Inspect the run with inspect_swarm_health and flag repeated routes.",
        out.MonitorReport,
        (review.inspect_swarm_health,),
    ),
    Specialist(
        "ShadowOrchestrator",
        "An independent second orchestrator used in shadow mode.",
        "Re-read the reports with replay_reports, reach your own decision, and compare_decisions with the "
        "canonical proposal.",
        out.ShadowReport,
        (review.replay_reports, review.compare_decisions),
    ),
)

ORCHESTRATOR_INSTRUCTIONS = (
    "You orchestrate the review of one customer EV order. Start with load_order, screen_customer_notes and "
    "scan_market_signals. Then consult specialists in business order, handing off with a task brief: "
    "buildability; clarification if the notes raise questions; pricing; compliance (arbitrate by re-quoting "
    "when compliance strikes a promotion); market intelligence when market signals are active; supply; "
    "capacity and release; the shadow orchestrator in shadow mode; release review; the swarm monitor; customer "
    "comms. Then answer with an OrderDecision: release, adjust_price, reroute, substitute_supplier, "
    "hold_for_review, request_clarification or block, with the final price, factory, substitutions and whether "
    "review was required."
)


def _recorder(target: str) -> Any:
    async def record(ctx: RunContextWrapper[RunState], payload: BaseModel) -> None:
        span = get_current_span()
        ctx.context.reports.append(
            {**payload.model_dump(mode="json"), "to": target, "sdk_span_id": span.span_id if span else None}
        )

    return record


def _typed_handoff(target: Agent[RunState], payload: type[BaseModel]) -> Handoff[RunState, Agent[RunState]]:
    return handoff(target, input_type=payload, on_handoff=_recorder(target.name))


@dataclass(frozen=True)
class Swarm:
    orchestrator: Agent[RunState]
    agents: dict[str, Agent[RunState]]


def default_instructions() -> dict[str, str]:
    """Every agent's built-in instructions, the orchestrator first (the swarm's roster, in order)."""
    return {ORCHESTRATOR: ORCHESTRATOR_INSTRUCTIONS, **{s.name: f"{s.job} {_REPORTING}" for s in SPECIALISTS}}


def build_swarm(instructions: Mapping[str, str] | None = None) -> Swarm:
    """Build every agent and wire the handoffs (agents are stateless; build once per process and version).

    `instructions` replaces the built-in instructions of the agents it names (a version set's). An agent
    resolves its model by the name `policy/<AgentName>` through the run's model provider."""
    text = {**default_instructions(), **(instructions or {})}
    specialists = {
        s.name: Agent[RunState](
            name=s.name,
            handoff_description=s.description,
            instructions=text[s.name],
            model=f"policy/{s.name}",
            tools=list(s.tools),
            output_type=AgentOutputSchema(s.report),
        )
        for s in SPECIALISTS
    }
    orchestrator = Agent[RunState](
        name=ORCHESTRATOR,
        instructions=text[ORCHESTRATOR],
        model=f"policy/{ORCHESTRATOR}",
        tools=[intake.load_order, intake.screen_customer_notes, intake.scan_market_signals],
        output_type=AgentOutputSchema(out.OrderDecision),
        input_guardrails=[order_validity],
        output_guardrails=[release_gate],
    )
    everyone: dict[str, Agent[RunState]] = {ORCHESTRATOR: orchestrator, **specialists}
    orchestrator.handoffs = [_typed_handoff(specialists[s.name], out.TaskBrief) for s in SPECIALISTS]
    for spec in SPECIALISTS:
        targets = [orchestrator, *(everyone[name] for name in spec.forwards_to)]
        specialists[spec.name].handoffs = [_typed_handoff(t, spec.report) for t in targets]
    return Swarm(orchestrator=orchestrator, agents=everyone)
