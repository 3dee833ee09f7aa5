"""Agent slips: plausible mistakes each specialist makes now and then on its own, in every version set.

A slip is not a planted fault: no version set switches it on, no rogue window schedules it. Where its
trigger holds, the agent makes it with a small probability drawn from the agent's own stream (see
`evswarm.world.streams`), so one agent's slips never depend on what other agents, or their versions, do.
When a slip fires, the run records it as an organic cause of side `agent` (ground truth for benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slip:
    slip_id: str
    agent_name: str
    rate: float
    """Probability that the agent slips, each time the trigger holds."""
    trigger: str
    description: str

    @property
    def cause_id(self) -> str:
        return f"slip:{self.agent_name}:{self.slip_id}"


SLIPS: dict[str, Slip] = {
    slip.cause_id: slip
    for slip in (
        Slip(
            "misread_window",
            "IncentivePolicyAgent",
            0.2,
            "an incentive ends between the order date and the requested delivery",
            "checks the incentive's end against the order date instead of the delivery date",
        ),
        Slip(
            "rounded_quote",
            "PricingAgent",
            0.02,
            "a quote is computed",
            "rounds the quoted total to the nearest 500 dollars",
        ),
        Slip(
            "dropped_promotion",
            "PromotionStrategyAgent",
            0.04,
            "an eligible promotion is listed",
            "drops one eligible promotion from the list it returns",
        ),
        Slip(
            "forgot_signal",
            "MarketIntelligenceAgent",
            0.06,
            "more than one market signal is active",
            "leaves one active market signal out of its report",
        ),
        Slip(
            "miscounted_stock",
            "SupplyAllocationAgent",
            0.15,
            "a required component is short",
            "reads the allocated column as on-hand stock and reports the short component as available",
        ),
        Slip(
            "missed_fleet_threshold",
            "ReleaseReviewAgent",
            0.1,
            "a fleet order reaches release review",
            "overlooks the fleet-order review rule",
        ),
        Slip(
            "skipped_market_check",
            "Orchestrator",
            0.03,
            "market signals are active",
            "moves on to supply without consulting market intelligence",
        ),
    )
}


def slip_for(agent_name: str, slip_id: str) -> Slip:
    return SLIPS[f"slip:{agent_name}:{slip_id}"]
