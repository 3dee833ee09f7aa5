"""Named planted faults: documented deviations of one agent's policy, each with a trigger.

A fault changes behavior only through its agent's policy (`ctx.deviates(fault_id)` in
`evswarm/agents/policy/*.py`), and only in runs where its trigger holds, so its traces look like real
mistakes. Version sets switch faults on (see `evswarm.agents.versions`); every fault is also a named
policy variant of its agent, so a version file can say `policy: stale_incentive` for that agent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    fault_id: str
    agent_name: str
    trigger: str
    description: str


FAULTS: dict[str, Fault] = {
    fault.fault_id: fault
    for fault in (
        Fault(
            "stale_incentive",
            "IncentivePolicyAgent",
            "a listed incentive ends before the requested delivery date",
            "applies incentives without checking that their window still covers delivery",
        ),
        Fault(
            "tariff_omitted",
            "PricingAgent",
            "a tariff took effect within 60 days before the order date",
            "quotes with the tariff schedule from before the latest change",
        ),
        Fault(
            "missed_stockout",
            "SupplyAllocationAgent",
            "a required component's stock is fully allocated",
            "counts on-hand stock without subtracting allocations, so stockouts pass unnoticed",
        ),
        Fault(
            "skip_regional_compliance",
            "Orchestrator",
            "the order is for Ontario (CA-ON)",
            "skips compliance validation for Ontario orders",
        ),
        Fault(
            "review_escalates_clean",
            "ReleaseReviewAgent",
            "a clean retail order whose quote is above $50,000",
            "escalates expensive clean orders to human review",
        ),
        Fault(
            "routing_loop",
            "SupplierRiskAgent",
            "a supplier in the order's mix is on the risk watch list",
            "sends watch-listed suppliers back to allocation instead of reporting, looping until the turn limit",
        ),
        Fault(
            "capacity_ignored",
            "FactoryRoutingAgent",
            "the default factory is over capacity",
            "keeps the default factory even when it is over capacity",
        ),
        Fault(
            "compliance_tariff_exemption",
            "ComplianceValidationAgent",
            "a tariff took effect within 60 days before the order date",
            "grants a regional exemption from the newest tariff, so pricing re-quotes without it",
        ),
        Fault(
            "redundant_confirmation",
            "CustomerCommsAgent",
            "an order is confirmed to the customer",
            "drafts and sends every confirmation a second time",
        ),
        Fault(
            "rogue_shadow_veto",
            "ShadowOrchestrator",
            "a releasable order seen by the shadow orchestrator",
            "vetoes every release it shadows, so valid orders are blocked",
        ),
    )
}

STANDARD_POLICY = "standard"
"""The policy variant every agent follows unless a version set names another."""


def policy_variants(agent_name: str) -> list[str]:
    """The built-in policy variants of one agent: `standard`, and each planted fault it is responsible for."""
    return [STANDARD_POLICY, *sorted(f.fault_id for f in FAULTS.values() if f.agent_name == agent_name)]
