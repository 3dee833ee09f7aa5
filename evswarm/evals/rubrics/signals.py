"""Which dated signals a run mishandled, with a stable failure kind and the spans where it was decided.

Shared by `market_drift_awareness` (every signal) and `policy_compliance_correctness` (to explain a
wrong price by the price signals behind it). A failure kind names the signal type and what went wrong
('incentive applied although not in effect', 'stockout not noticed'); the cited spans are where the
responsible agent decided: the report that applied the signal, or the tool output that showed the
signal and the report its agent filed after reading it.
"""

from __future__ import annotations

from dataclasses import dataclass

from evswarm.core.bundle import EnvironmentDecision, EnvironmentEvent
from evswarm.evals.rubrics.view import BundleView, report_after, spans_mentioning

PRICE_SIGNALS = frozenset({"tariff", "incentive", "promotion"})


@dataclass(frozen=True)
class Mishandled:
    event_id: str
    event_type: str
    kind: str  # stable failure kind, e.g. "stockout not noticed"
    evidence: list[str]


def _type_of(event_id: str, events: dict[str, EnvironmentEvent]) -> str:
    event = events.get(event_id)
    if event is not None:
        return event.event_type.replace("_", " ")
    return event_id.split("-", 1)[0] or "signal"


def _where_seen(view: BundleView, event: EnvironmentEvent | None, event_id: str) -> list[str]:
    """The specialist tool output that showed the signal (the run's hub scan aside), and the report
    its agent filed next: where the signal should have been acted on."""
    hub = view.agent_spans[0].span_data.get("name") if view.agent_spans else None
    needles = [event_id]
    if event is not None:
        needles += [str(v) for v in event.details.values() if isinstance(v, str)] + list(event.affects)
    spans = [s for s in spans_mentioning(view, needles) if s.agent_name != hub]
    if not spans:
        return []
    best = max(spans, key=lambda s: (event_id in str(s.span_data.get("output")), _hits(s, needles)))
    return [best.span_id, *[r for r in [report_after(view, best)] if r]]


def _hits(span: object, needles: list[str]) -> int:
    text = str(getattr(span, "span_data", {}).get("output") or "")
    return sum(1 for n in needles if n and n in text)


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
    for signal in view.bundle.oracle.signals:
        records = by_event.get(signal.event_id, [])
        actions = {r.action for r in records}
        applied = "applied" in actions or signal.event_id in applied_programs
        kind_of = _type_of(signal.event_id, events)
        if signal.expected_action == "apply":
            ok, problem = applied, "in effect but not applied"
        elif signal.expected_action == "exclude":
            ok, problem = not applied, "applied although not in effect (expired or out of region)"
        else:
            ok, problem = (
                bool(actions & {"noticed", "applied", "excluded"}),
                "not noticed" if not actions else "ignored",
            )
        if ok:
            fine += [r.span_id for r in records if r.action != "ignored" and r.span_id][:1]
            continue
        cited: list[str]
        if signal.expected_action == "exclude":
            cited = [r.span_id for r in records if r.action == "applied" and r.span_id]
            cited = cited or [view.decision_span or ""]
        else:
            cited = [r.span_id for r in records if r.span_id]
            cited = cited or _where_seen(view, events.get(signal.event_id), signal.event_id)
        wrong.append(
            Mishandled(signal.event_id, kind_of, f"{kind_of} {problem}", [c for c in cited if c] or [signal.event_id])
        )
    return wrong, fine
