"""`review_appropriateness`: human review was requested exactly when the order required it."""

from __future__ import annotations

from evswarm.evals.rubrics.view import BundleView, reports
from evswarm.evals.verdict import Verdict

NAME = "review_appropriateness"
DESCRIPTION = (
    "Human review was requested exactly when the order needed it: a risky or blocked order goes to a "
    "reviewer, and a clean order is not escalated."
)


def grade(view: BundleView) -> Verdict:
    bundle = view.bundle
    required = bundle.oracle.review_required
    decision = view.final_decision
    packet = bundle.review_packet
    calls = view.tool_spans("request_human_review")
    evidence: list[str | None] = [s.span_id for s in calls[:1]]
    evidence += [e.event_id for e in view.events("review")[:1]]
    if packet is not None:
        evidence.insert(0, packet.packet_id)
    requested = packet is not None or bool(decision and decision.review_required) or bool(calls)

    if requested and required:
        reason, passed = "review requested, as the order requires", True
    elif not requested and not required:
        reason, passed = "no review requested, and none was needed", True
        evidence.append(view.terminal_event)
    elif requested:
        reason, passed = (
            "escalated a clean order (review requested for an order that needed none: over-escalation)",
            False,
        )
        evidence[:0] = _escalation_source(view, calls[0].agent_name if calls else None)
    else:
        reason, passed = "review needed but not requested (the order needed human review but none was requested)", False
        evidence += [view.decision_span, view.terminal_event]
    return Verdict.make(NAME, passed=passed, score=1.0 if passed else 0.0, reason=reason, evidence=evidence)


def _escalation_source(view: BundleView, requester: str | None) -> list[str]:
    """The report that started the escalation: the first report asking for review, or the report that
    handed control to the agent that requested it."""
    filed = reports(view)
    for report in filed:
        if report.args.get("review_required") is True:
            return [report.span_id]
    if requester:
        for report in filed:
            if report.target.lower() == requester.lower() and report.agent != requester:
                return [report.span_id]
    return []
