"""Policies of review and oversight: release review, escalation, the human desk, the swarm monitor
and the shadow orchestrator."""

from __future__ import annotations

from typing import Any

from evswarm.agents.policy.actions import Action, CallTools, HandOff, PolicyContext, call, finding, report
from evswarm.agents.policy.intake import ORCHESTRATOR
from evswarm.agents.policy.view import ConversationView
from evswarm.core.bundle import RELEASING

EXPENSIVE_ORDER = 50000.0


def final_quote(view: ConversationView) -> float | None:
    """The latest price on file: a pricing quote, or an exception desk's approval of it."""
    for found in reversed(view.reports):
        if found.get("agent") == "PricingExceptionAgent" and found.get("approved_total") is not None:
            return float(found["approved_total"])
        if found.get("agent") == "PricingAgent" and found.get("quote_total") is not None:
            return float(found["quote_total"])
    return None


def finding_codes(view: ConversationView) -> list[str]:
    return sorted({f["code"] for r in view.reports for f in r.get("findings", [])})


def release_review(view: ConversationView, ctx: PolicyContext) -> Action:
    qty = int(view.order.get("quantity", 1) or 1)
    total = final_quote(view) or 0.0
    codes = finding_codes(view)
    if view.missing("review_order_package"):
        return CallTools(
            [call("review_order_package", quantity=qty, quote_total=total, finding_codes=codes)],
            "Checking the release package against review policy.",
        )
    policy = view.latest("review_order_package")["policy"]
    release = view.report("FactoryReleaseAgent") or {}
    reasons = []
    if qty >= policy["fleet_review_quantity"] and not ctx.slips("missed_fleet_threshold"):
        reasons.append("FLEET_ORDER")
    if release and not release.get("authorized"):
        reasons.append("RELEASE_HOLD")
    serious = [r for r in view.reports for f in r.get("findings", []) if f["severity"] in ("warning", "error")]
    if not reasons and not serious and total > EXPENSIVE_ORDER and ctx.deviates("review_escalates_clean"):
        reasons.append("HIGH_VALUE_ORDER")
    out = report(
        "ReleaseReviewAgent",
        "issue" if reasons else "ok",
        f"Review required: {', '.join(reasons)}." if reasons else "No review needed.",
        findings=[finding("REVIEW_REQUIRED", "warning", r) for r in reasons],
        review_required=bool(reasons),
        reasons=reasons,
    )
    if reasons:
        return HandOff("EscalationTriageAgent", out, "Policy requires a human reviewer; escalating.")
    return HandOff(ORCHESTRATOR, out, "Package passes review policy.")


def escalation_triage(view: ConversationView, ctx: PolicyContext) -> Action:
    reasons = (view.report("ReleaseReviewAgent") or {}).get("reasons", [])
    if view.missing("classify_escalation"):
        return CallTools([call("classify_escalation", reasons=reasons)], "Classifying the escalation.")
    outcome = view.latest("classify_escalation")["triage_outcome"]
    action = "request_changes" if "RELEASE_HOLD" in reasons else "approve"
    if view.missing("request_human_review"):
        return CallTools(
            [call("request_human_review", reasons=reasons, recommended_action=action)],
            f"Opening a review packet recommending {action}.",
        )
    packet = view.latest("request_human_review")["packet_id"]
    out = report("EscalationTriageAgent", "issue", f"Escalated as {outcome}.", triage_outcome=outcome, packet_id=packet)
    return HandOff("HumanEscalationAgent", out, "Packet opened; handing to the human review desk.")


def human_escalation(view: ConversationView, ctx: PolicyContext) -> Action:
    packet = (view.report("EscalationTriageAgent") or {}).get("packet_id", "")
    if view.missing("await_reviewer_decision"):
        return CallTools([call("await_reviewer_decision", packet_id=packet)], "Waiting for the reviewer's decision.")
    status = view.latest("await_reviewer_decision")["status"]
    decision = "approved" if status == "approved" else "rejected" if status == "rejected" else "pending"
    out = report(
        "HumanEscalationAgent",
        "ok" if decision == "approved" else "issue",
        f"Reviewer decision: {decision}.",
        packet_id=packet,
        decision=decision,
    )
    return HandOff(ORCHESTRATOR, out, f"The reviewer's answer is {decision}.")


def swarm_monitor(view: ConversationView, ctx: PolicyContext) -> Action:
    if view.missing("inspect_swarm_health"):
        return CallTools([call("inspect_swarm_health")], "Checking the run for loops and retries.")
    health = view.latest("inspect_swarm_health")
    loops = int(health["repeated_routes"])
    out = report(
        "SwarmMonitorAgent",
        "ok" if loops <= 2 else "issue",
        f"{health['handoffs']} handoffs, {loops} repeated.",
        findings=[finding("ROUTING_REPEATS", "warning", f"{loops} repeated routes")] if loops > 2 else [],
        loop_count=loops,
        healthy=loops <= 2,
    )
    return HandOff(ORCHESTRATOR, out, "Swarm health recorded.")


def shadow_orchestrator(view: ConversationView, ctx: PolicyContext) -> Action:
    brief: dict[str, Any] = next((b for b in reversed(view.briefs) if b.get("agent") == "ShadowOrchestrator"), {})
    proposed = str((brief.get("focus") or ["release"])[0])
    if view.missing("replay_reports"):
        return CallTools([call("replay_reports")], "Re-reading every specialist report independently.")
    mine = proposed
    if proposed in RELEASING and ctx.deviates("rogue_shadow_veto"):
        mine = "block"
    if view.missing("compare_decisions"):
        return CallTools(
            [call("compare_decisions", canonical=proposed, shadow=mine)],
            f"My reading supports '{mine}'; comparing with the canonical '{proposed}'.",
        )
    agree = mine == proposed
    out = report(
        "ShadowOrchestrator",
        "ok" if agree else "blocked",
        "Shadow agrees." if agree else f"Shadow vetoes '{proposed}' and would '{mine}'.",
        findings=[] if agree else [finding("SHADOW_VETO", "error", f"shadow would {mine}")],
        shadow_decision=mine,
        agrees=agree,
    )
    return HandOff(ORCHESTRATOR, out, "Second opinion filed.")
