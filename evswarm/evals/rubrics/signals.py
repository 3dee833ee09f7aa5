"""Which dated signals a run mishandled, as symptoms: `signal_ignored` (a signal in effect that was not
applied or not noticed) and `signal_misapplied` (a signal that does not apply to the order was applied).

Evidence is where the symptom shows in the outcome: the quote computations whose inputs hold (or lack)
the signal, and the deciding span.
"""

from __future__ import annotations

from dataclasses import dataclass

from evswarm.core.bundle import EnvironmentDecision
from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.view import BundleView

PRICE_SIGNALS = frozenset({"tariff", "incentive", "promotion", "price_change"})


@dataclass(frozen=True)
class Mishandled:
    event_id: str
    event_type: str
    symptom: Symptom
    message: str
    evidence: list[str]


def _shows_in(view: BundleView, event_id: str, event_type: str) -> list[str]:
    """Where a signal's handling shows: quote computations (for price signals) and the decision."""
    quotes = [s.span_id for s in view.tool_spans("compute_quote")] if event_type in PRICE_SIGNALS else []
    return [*quotes[-1:], *([view.decision_span] if view.decision_span else [])]


def mishandled(view: BundleView) -> tuple[list[Mishandled], list[str]]:
    """Mishandled signals, and the evidence of signals handled right (one span each)."""
    decision = view.final_decision
    applied_programs = set(decision.applied_incentives + decision.applied_promotions) if decision else set()
    events = {e.event_id: e for e in view.bundle.environment_events}
    by_event: dict[str, list[EnvironmentDecision]] = {}
    for record in view.bundle.snapshots.environment_decisions:
        by_event.setdefault(record.event_id, []).append(record)
    wrong: list[Mishandled] = []
    fine: list[str] = []
    for signal in view.oracle.signals:
        records = by_event.get(signal.event_id, [])
        actions = {r.action for r in records}
        applied = "applied" in actions or signal.event_id in applied_programs
        event = events.get(signal.event_id)
        kind = event.event_type if event is not None else "signal"
        label = f"{kind.replace('_', ' ')} {signal.event_id}"
        if signal.expected_action == "apply":
            ok, symptom, message = applied, Symptom.SIGNAL_IGNORED, f"{label} is in effect but was not applied"
        elif signal.expected_action == "exclude":
            ok, symptom, message = not applied, Symptom.SIGNAL_MISAPPLIED, f"{label} does not apply but was applied"
        else:
            ok = bool(actions & {"noticed", "applied", "excluded"})
            symptom, message = Symptom.SIGNAL_IGNORED, f"{label} was not noticed"
        if ok:
            fine += [r.span_id for r in records if r.action != "ignored" and r.span_id][:1]
            continue
        wrong.append(Mishandled(signal.event_id, kind, symptom, message, _shows_in(view, signal.event_id, kind)))
    return wrong, fine
