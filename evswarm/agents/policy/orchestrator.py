"""The orchestrator's policy: a hub that consults specialists in business order and decides."""

from __future__ import annotations

from typing import Any

from evswarm.agents.policy.actions import Action, CallTools, Finish, HandOff, PolicyContext, call
from evswarm.agents.policy.fulfillment import chosen_factory
from evswarm.agents.policy.intake import region_of
from evswarm.agents.policy.review import final_quote
from evswarm.agents.policy.view import ConversationView
from evswarm.world.rules import PRICE_TOLERANCE

INTAKE = ("load_order", "screen_customer_notes", "scan_market_signals")
MARKET_TYPES = ("competitor", "launch", "rate_change")
SKIPPED_COMPLIANCE_REGION = "CA-ON"

TASKS: dict[str, str] = {
    "BuildabilityValidationAgent": "Validate the configuration against the catalog.",
    "ClarificationAgent": "Resolve what the customer actually wants.",
    "PricingAgent": "Price the order with the programs and tariffs in force.",
    "ComplianceValidationAgent": "Check regional rules and the quote's promotions.",
    "MarketIntelligenceAgent": "Read competitor, launch and rate signals for this order.",
    "SupplyAllocationAgent": "Allocate components and surface shortages.",
    "CapacityPlanningAgent": "Find factory capacity and schedule the build.",
    "ShadowOrchestrator": "Give an independent second opinion on the proposed decision.",
    "ReleaseReviewAgent": "Decide whether the release needs a human reviewer.",
    "SwarmMonitorAgent": "Check this run for loops and retries.",
    "CustomerCommsAgent": "Tell the customer what happens next.",
}


def consult(agent: str, thought: str, *focus: str) -> HandOff:
    return HandOff(agent, {"agent": agent, "task": TASKS[agent], "focus": list(focus)}, thought)


def _pricing_done(view: ConversationView) -> bool:
    latest = view.report("PricingAgent")
    if latest is None or latest.get("quote_total") is None:
        return False
    drifted = (
        abs(float(latest["quote_total"]) - float(latest.get("quoted_price") or latest["quote_total"])) > PRICE_TOLERANCE
    )
    return not drifted or (
        view.report("PricingExceptionAgent") is not None and _after(view, "PricingExceptionAgent", "PricingAgent")
    )


def _after(view: ConversationView, later: str, earlier: str) -> bool:
    """True when `later`'s latest report was filed after `earlier`'s latest report."""
    order = [r.get("agent") for r in view.reports]
    last = {agent: i for i, agent in enumerate(order)}
    return last.get(later, -1) > last.get(earlier, -1)


def _supply_done(view: ConversationView) -> bool:
    risk, supply = view.report("SupplierRiskAgent"), view.report("SupplyAllocationAgent")
    if risk is None or supply is None:
        return False
    return not supply.get("short_components") or view.report("ProcurementPlanningAgent") is not None


def proposed_decision(view: ConversationView) -> dict[str, Any]:
    """The decision the reports support, before review and monitoring."""
    order = view.order
    release = view.report("FactoryReleaseAgent") or {}
    procurement = view.report("ProcurementPlanningAgent") or {}
    pricing = view.report("PricingAgent") or {}
    price = final_quote(view)
    factory = chosen_factory(view)
    subs = [
        {k: s[k] for k in ("component", "from_supplier", "to_supplier")} for s in procurement.get("substitutions", [])
    ]
    quoted = order.get("quoted_price")
    if release and not release.get("authorized"):
        decision = "hold_for_review"
    elif factory != order.get("default_factory"):
        decision = "reroute"
    elif subs:
        decision = "substitute_supplier"
    elif price is not None and quoted is not None and abs(price - quoted) > PRICE_TOLERANCE:
        decision = "adjust_price"
    else:
        decision = "release"
    return {
        "decision": decision,
        "quoted_price": price,
        "factory": factory,
        "supplier_substitutions": subs,
        "applied_incentives": pricing.get("applied_incentives", []),
        "applied_promotions": pricing.get("applied_promotions", []),
    }


def _finish(base: dict[str, Any], decision: str, review_required: bool, rationale: str) -> Finish:
    output = {
        "decision": decision,
        "quoted_price": base.get("quoted_price"),
        "factory": base.get("factory"),
        "supplier_substitutions": base.get("supplier_substitutions", []),
        "review_required": review_required,
        "applied_incentives": base.get("applied_incentives", []),
        "applied_promotions": base.get("applied_promotions", []),
        "rationale": rationale,
    }
    return Finish(output, f"Deciding: {decision}. {rationale}")


def _notify_then_finish(
    view: ConversationView, kind: str, base: dict[str, Any], decision: str, rationale: str, *, review: bool = False
) -> Action:
    comms = view.report("CustomerCommsAgent")
    if comms is None or comms.get("message_kind") != kind:
        return consult("CustomerCommsAgent", f"Telling the customer: {kind.replace('_', ' ')}.", kind)
    return _finish(base, decision, review, rationale)


def orchestrator(view: ConversationView, ctx: PolicyContext) -> Action:
    if missing := [t for t in INTAKE if view.latest(t) is None]:
        return CallTools([call(t) for t in missing], "Reading the order, screening the notes and scanning the market.")
    order = view.order
    empty = {"quoted_price": None, "factory": None}

    building = view.report("BuildabilityValidationAgent")
    if building is None:
        return consult("BuildabilityValidationAgent", "First, is this configuration buildable?")
    if building["status"] == "blocked":
        return _notify_then_finish(
            view, "block_notice", empty, "block", f"Not buildable: {', '.join(building.get('violations', []))}."
        )

    flags = view.latest("screen_customer_notes").get("flags", [])
    if flags:
        if view.report("ClarificationAgent") is None:
            return consult("ClarificationAgent", f"The notes raise {', '.join(flags)}; we need the customer's intent.")
        return _finish(empty, "request_clarification", False, f"Waiting on the customer: {', '.join(flags)}.")

    if not _pricing_done(view):
        return consult("PricingAgent", "Pricing next.")

    region = region_of(view)
    skip_compliance = region == SKIPPED_COMPLIANCE_REGION and ctx.deviates("skip_regional_compliance")
    if not skip_compliance:
        compliance = view.report("ComplianceValidationAgent")
        if compliance is None:
            return consult("ComplianceValidationAgent", f"Checking {region} compliance for the quote.")
        regional = view.report("RegionalComplianceAgent") or {}
        if compliance["status"] == "blocked" or regional.get("status") == "blocked":
            rules = compliance.get("violations", []) or ["HOMOLOGATION_MISSING"]
            return _notify_then_finish(
                view,
                "block_notice",
                {**empty, "quoted_price": final_quote(view)},
                "block",
                f"Regional rules forbid the build: {', '.join(rules)}.",
            )
        pricing = view.report("PricingAgent") or {}
        struck = set(compliance.get("restricted_promotions", [])) & set(pricing.get("applied_promotions", []))
        struck |= set(compliance.get("exempt_tariffs", [])) & set(pricing.get("applied_tariffs", []))
        if struck and _after(view, "ComplianceValidationAgent", "PricingAgent"):
            return consult(
                "PricingAgent",
                f"Compliance struck {', '.join(sorted(struck))}; arbitrating: re-quote.",
                "arbitration",
                *sorted(struck),
            )

    signals = view.latest("scan_market_signals")["signals"]
    market = any(s["event_type"] in MARKET_TYPES for s in signals)
    if market and view.report("MarketIntelligenceAgent") is None and not ctx.slips("skipped_market_check"):
        return consult("MarketIntelligenceAgent", "Market signals are active; reading them.")
    for desk in ("SupplyAllocationAgent", "CapacityPlanningAgent"):
        stuck = view.report(desk)
        if stuck is not None and stuck.get("status") == "blocked":
            return _notify_then_finish(
                view,
                "review_notice",
                proposed_decision(view),
                "hold_for_review",
                f"{desk} could not finish: {stuck.get('summary', '')} A reviewer must check before release.",
                review=True,
            )
    if not _supply_done(view):
        return consult("SupplyAllocationAgent", "Checking supply.")
    if view.report("FactoryReleaseAgent") is None:
        return consult("CapacityPlanningAgent", "Finding capacity and a release slot.")

    base = proposed_decision(view)
    decision = base["decision"]
    if order.get("orchestrator_mode") == "shadow":
        shadow = view.report("ShadowOrchestrator")
        if shadow is None:
            return consult("ShadowOrchestrator", f"Shadow mode: asking for a second opinion on '{decision}'.", decision)
        if not shadow["agrees"]:
            return _notify_then_finish(
                view, "block_notice", base, "block", f"Arbitration: the shadow orchestrator vetoed '{decision}'."
            )

    review = view.report("ReleaseReviewAgent")
    if review is None:
        return consult("ReleaseReviewAgent", f"Proposed '{decision}'; checking review policy.")
    if review["review_required"]:
        human = view.report("HumanEscalationAgent") or {}
        if human.get("decision") != "approved":
            base = {**base}
            decision = "hold_for_review"
    if view.report("SwarmMonitorAgent") is None:
        return consult("SwarmMonitorAgent", "Recording swarm health before deciding.")
    kind = "review_notice" if decision == "hold_for_review" else "confirmation"
    rationale = {
        "hold_for_review": "A human reviewer must sign off before release.",
        "reroute": f"Rerouted to {base['factory']} for capacity.",
        "substitute_supplier": "Released with second-source components.",
        "adjust_price": f"Released at the corrected price {base['quoted_price']}.",
        "release": "Valid, correctly priced and buildable on schedule.",
    }[decision]
    return _notify_then_finish(view, kind, base, decision, rationale, review=bool(review["review_required"]))
