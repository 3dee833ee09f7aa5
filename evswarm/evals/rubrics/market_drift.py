"""`market_drift_awareness`: dated signals in effect were read and acted on as the order required."""

from __future__ import annotations

from evswarm.core.bundle import EnvironmentDecision
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Verdict

NAME = "market_drift_awareness"
DESCRIPTION = (
    "Dated market signals in effect on the order date were read and acted on: current incentives, "
    "promotions and tariffs are applied, expired ones are not, and stockouts, capacity or schedule shocks "
    "are noticed rather than ignored."
)

_ACKNOWLEDGED = frozenset({"noticed", "applied", "excluded"})


def grade(view: BundleView) -> Verdict:
    signals = view.bundle.oracle.signals
    decision = view.final_decision
    applied_programs = set(decision.applied_incentives + decision.applied_promotions) if decision else set()
    by_event: dict[str, list[EnvironmentDecision]] = {}
    for record in view.bundle.snapshots.environment_decisions:
        by_event.setdefault(record.event_id, []).append(record)

    wrong: list[str] = []
    evidence: list[str | None] = []
    for signal in signals:
        records = by_event.get(signal.event_id, [])
        actions = {r.action for r in records}
        applied = "applied" in actions or signal.event_id in applied_programs
        if signal.expected_action == "apply":
            ok, problem = applied, "in effect but not applied"
        elif signal.expected_action == "exclude":
            ok, problem = not applied, "not in effect (expired or out of region) but applied"
        else:
            ok, problem = bool(actions & _ACKNOWLEDGED), "not noticed" if not actions else "ignored"
        if not ok:
            wrong.append(f"{signal.event_id} {problem}")
            evidence += [r.span_id for r in records] or [signal.event_id]
        else:
            evidence += [r.span_id for r in records if r.action != "ignored"][:1]

    if not signals:
        return Verdict.make(
            NAME,
            passed=True,
            score=1.0,
            reason="no dated signal bears on this order",
            evidence=[view.terminal_event],
        )
    handled = len(signals) - len(wrong)
    reason = (
        f"{len(wrong)} of {len(signals)} signal(s) mishandled: " + "; ".join(wrong)
        if wrong
        else f"all {len(signals)} signal(s) handled as required"
    )
    return Verdict.make(
        NAME, passed=not wrong, score=handled / len(signals), reason=reason, evidence=evidence
    )
