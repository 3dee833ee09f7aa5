"""`review_appropriateness`: human review was requested exactly when the order required it.

Symptoms: `review_unneeded` (citing the review request) and `review_missing` (citing the deciding span
and terminal event).
"""

from __future__ import annotations

from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Check, Verdict

NAME = "review_appropriateness"
DESCRIPTION = (
    "Human review was requested exactly when the order needed it: a risky or blocked order goes to a "
    "reviewer, and a clean order is not escalated."
)
NEEDS_ORACLE = True


def grade(view: BundleView) -> Verdict:
    bundle = view.bundle
    required = view.oracle.review_required
    decision = view.final_decision
    packet = bundle.review_packet
    calls = view.tool_spans("request_human_review")
    request = [packet.packet_id if packet else None, *(s.span_id for s in calls[:1])]
    requested = packet is not None or bool(decision and decision.review_required) or bool(calls)
    if requested == required:
        why = "review requested, as the order requires" if required else "no review requested, and none was needed"
        check = Check.ok(1.0, why)
    elif requested:
        check = Check.saw(
            1.0,
            Symptom.REVIEW_UNNEEDED,
            "human review was requested for an order that needed none",
            [*request, view.decision_span],
        )
    else:
        check = Check.saw(
            1.0,
            Symptom.REVIEW_MISSING,
            "the order needed human review and none was requested",
            [view.decision_span, view.terminal_event],
        )
    return Verdict.from_checks(NAME, [check], empty="", evidence=[*request, view.terminal_event])
