"""Which policy drives which agent."""

from __future__ import annotations

from collections.abc import Callable

from evswarm.agents.policy import fulfillment, intake, orchestrator, pricing, review
from evswarm.agents.policy.actions import Action, PolicyContext
from evswarm.agents.policy.view import ConversationView

Policy = Callable[[ConversationView, PolicyContext], Action]

POLICIES: dict[str, Policy] = {
    "Orchestrator": orchestrator.orchestrator,
    "BuildabilityValidationAgent": intake.buildability,
    "ComplianceValidationAgent": intake.compliance,
    "RegionalComplianceAgent": intake.regional_compliance,
    "ClarificationAgent": intake.clarification,
    "CustomerCommsAgent": intake.customer_comms,
    "PricingAgent": pricing.pricing,
    "PromotionStrategyAgent": pricing.promotion_strategy,
    "IncentivePolicyAgent": pricing.incentive_policy,
    "PricingExceptionAgent": pricing.pricing_exception,
    "MarketIntelligenceAgent": pricing.market_intelligence,
    "SupplyAllocationAgent": fulfillment.supply_allocation,
    "SupplierRiskAgent": fulfillment.supplier_risk,
    "ProcurementPlanningAgent": fulfillment.procurement,
    "CapacityPlanningAgent": fulfillment.capacity_planning,
    "FactoryRoutingAgent": fulfillment.factory_routing,
    "TradeoffPlannerAgent": fulfillment.tradeoff_planner,
    "ProductionSchedulingAgent": fulfillment.production_scheduling,
    "FactoryReleaseAgent": fulfillment.factory_release,
    "ReleaseReviewAgent": review.release_review,
    "EscalationTriageAgent": review.escalation_triage,
    "HumanEscalationAgent": review.human_escalation,
    "SwarmMonitorAgent": review.swarm_monitor,
    "ShadowOrchestrator": review.shadow_orchestrator,
}


def decide(agent_name: str, view: ConversationView, context: PolicyContext) -> Action:
    return POLICIES[agent_name](view, context)
