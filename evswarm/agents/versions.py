"""Version sets, named faults and rogue windows: which policy variant each agent runs in a batch.

A fault is a documented deviation of one agent's policy with a trigger. It changes behavior only through
that policy, and only in runs where the trigger holds, so its traces look like real mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    fault_id: str
    agent_name: str
    trigger: str
    description: str


@dataclass(frozen=True)
class VersionSet:
    name: str
    description: str
    faults: tuple[str, ...]
    orchestrator_mode: str = "canonical"


@dataclass(frozen=True)
class RogueWindow:
    """A fault switched on for every run of some version sets whose order date falls in the window."""

    window_id: str
    fault_id: str
    start: str
    end: str
    version_sets: tuple[str, ...]

    def covers(self, version_set: str, order_date: str) -> bool:
        return version_set in self.version_sets and self.start <= order_date <= self.end


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

VERSION_SETS: dict[str, VersionSet] = {
    vs.name: vs
    for vs in (
        VersionSet("v1.0", "baseline: every agent follows policy", ()),
        VersionSet("v1.1", "a new incentive policy", ("stale_incentive",)),
        VersionSet(
            "v1.2",
            "faster routing and a stricter release review",
            ("skip_regional_compliance", "review_escalates_clean"),
        ),
        VersionSet("v1.3", "supplier-risk loop-back and sticky factory routing", ("routing_loop", "capacity_ignored")),
        VersionSet("v1.4", "a faster stock allocation", ("missed_stockout",)),
        VersionSet("v1.5", "the compliance desk reviews tariff exemptions", ("compliance_tariff_exemption",)),
        VersionSet("v1.6", "customer comms double-checks confirmations", ("redundant_confirmation",)),
        VersionSet("v1.0-tariffs", "v1.0 with a tariff-feed migration rolled out in August and September", ()),
        VersionSet(
            "v1.0-shadow",
            "v1.0 with a shadow orchestrator double-checking every release",
            (),
            orchestrator_mode="shadow",
        ),
    )
}

ROGUE_WINDOWS: tuple[RogueWindow, ...] = (
    RogueWindow("rogue-shadow-window-2025q3", "rogue_shadow_veto", "2025-07-01", "2025-10-15", ("v1.0-shadow",)),
    RogueWindow("rogue-tariff-window-2025q3", "tariff_omitted", "2025-08-01", "2025-09-30", ("v1.0-tariffs",)),
)

DEFAULT_SCHEDULE: tuple[tuple[str, float], ...] = (
    ("v1.0", 0.22),
    ("v1.0-tariffs", 0.06),
    ("v1.1", 0.09),
    ("v1.2", 0.17),
    ("v1.3", 0.12),
    ("v1.4", 0.12),
    ("v1.5", 0.08),
    ("v1.6", 0.06),
    ("v1.0-shadow", 0.08),
)
"""Share of a default batch's runs per version set, like a staged rollout seen over one period."""


def active_faults(version_set: str, order_date: str) -> tuple[list[str], str | None]:
    """Faults switched on for a run, and the rogue window that added one (if any)."""
    faults = list(VERSION_SETS[version_set].faults)
    window_id = None
    for window in ROGUE_WINDOWS:
        if window.covers(version_set, order_date):
            window_id = window.window_id
            if window.fault_id not in faults:
                faults.append(window.fault_id)
    return sorted(faults), window_id


def describe() -> str:
    """A plain-text listing of every version set, fault and rogue window (for --help and `evswarm faults`)."""
    lines = ["Version sets:"]
    lines += [
        f"  {vs.name:<12} {vs.description} [faults: {', '.join(vs.faults) or 'none'}; "
        f"{vs.orchestrator_mode} orchestrator]"
        for vs in VERSION_SETS.values()
    ]
    lines.append("Faults (responsible agent: what goes wrong, when):")
    lines += [f"  {f.fault_id:<25} {f.agent_name}: {f.description}; trigger: {f.trigger}" for f in FAULTS.values()]
    lines.append("Rogue windows:")
    lines += [
        f"  {w.window_id:<28} {w.fault_id} from {w.start} to {w.end} in {', '.join(w.version_sets)}"
        for w in ROGUE_WINDOWS
    ]
    return "\n".join(lines)
