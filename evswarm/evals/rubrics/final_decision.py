"""`final_decision_quality`: the run's final decision and terminal state match the oracle's.

A wrong decision is reported as a stable failure kind ('blocked a releasable order on X's report',
'kept an overloaded factory', 'held a clean order for review', ...) followed by the decision pair, and
cites the report the decision rested on (when one can be told) before the decision span itself.
"""

from __future__ import annotations

from evswarm.evals.rubrics.view import RELEASING, BundleView, blocking_report, report_after
from evswarm.evals.verdict import Verdict

NAME = "final_decision_quality"
DESCRIPTION = (
    "The final decision is the right one for the order: the decision the orchestrator reached and the "
    "run's terminal state match what the order called for (and the factory and supplier substitutions, "
    "when the order is released)."
)

_STOPPING = frozenset({"block", "hold_for_review", "request_clarification"})


def _factory_report(view: BundleView, factory: str | None) -> str | None:
    """The report of the agent that assigned the factory the order kept."""
    for span in reversed(view.tool_spans("assign_factory")):
        if factory is None or factory in str(span.span_data.get("input") or ""):
            return report_after(view, span) or span.span_id
    return None


def _kind(view: BundleView, got: str, want: str) -> tuple[str, str | None]:
    """A stable name for what went wrong with the decision, and the span it rests on."""
    decision = view.final_decision
    if want in RELEASING and got in _STOPPING:
        span, agent = blocking_report(view)
        if got == "hold_for_review":
            return "held a releasable order for review", None
        if got == "block" and agent and agent != (decision.decided_by if decision else None):
            return f"blocked a releasable order on {agent}'s report", span
        return f"stopped a releasable order ({got})", span
    if want == "reroute" and got != "reroute":
        return "kept an overloaded factory", _factory_report(view, decision.factory if decision else None)
    if want == "substitute_supplier" and got != "substitute_supplier":
        return "no supplier substitution for a short component", None
    if want == "block" and got in RELEASING:
        return "released an order that must be blocked", None
    if {got, want} == {"release", "adjust_price"}:
        return "wrong price decision", None
    return "wrong decision", None


def grade(view: BundleView) -> Verdict:
    oracle = view.bundle.oracle
    decision = view.final_decision
    evidence = [view.decision_span, view.terminal_event]
    if decision is None:
        return Verdict(
            rubric=NAME,
            passed=False,
            score=0.0,
            reason=f"no final decision (no final decision was recorded: terminal state {view.terminal_state!r}, "
            f"expected {oracle.decision.value!r}) [evidence: {view.terminal_event or 'none recorded'}]",
            evidence=[e for e in evidence if e],
        )
    got = decision.decision.value
    kind, basis = _kind(view, got, oracle.decision.value) if got != oracle.decision.value else ("", None)
    if basis:
        evidence.insert(0, basis)
    checks = [
        (got == oracle.decision.value, 0.6, f"{kind} (decision {got!r}, expected {oracle.decision.value!r})"),
        (
            view.terminal_state == oracle.expected_status.value,
            0.25,
            f"wrong terminal state (terminal state {view.terminal_state!r}, expected {oracle.expected_status.value!r})",
        ),
    ]
    if got == oracle.decision.value and got in RELEASING:
        if oracle.factory is not None:
            checks.append(
                (
                    decision.factory == oracle.factory,
                    0.1,
                    f"wrong factory (factory {decision.factory!r}, expected {oracle.factory!r})",
                )
            )
        want = {(s.component, s.to_supplier) for s in oracle.supplier_substitutions}
        have = {(s.component, s.to_supplier) for s in decision.supplier_substitutions}
        if want or have:
            checks.append(
                (
                    have == want,
                    0.05,
                    f"wrong supplier substitutions (supplier substitutions {sorted(have)}, expected {sorted(want)})",
                )
            )
    return Verdict.build(NAME, checks=checks, evidence=evidence, empty="")
