"""`final_decision_quality`: the run's final decision and terminal state match the oracle's."""

from __future__ import annotations

from evswarm.evals.rubrics.view import RELEASING, BundleView
from evswarm.evals.verdict import Verdict

NAME = "final_decision_quality"
DESCRIPTION = (
    "The final decision is the right one for the order: the decision the orchestrator reached and the "
    "run's terminal state match what the order called for (and the factory and supplier substitutions, "
    "when the order is released)."
)


def grade(view: BundleView) -> Verdict:
    oracle = view.bundle.oracle
    decision = view.final_decision
    evidence = [view.decision_span, view.terminal_event]
    if decision is None:
        return Verdict(
            rubric=NAME,
            passed=False,
            score=0.0,
            reason=f"no final decision was recorded (terminal state {view.terminal_state!r}, "
            f"expected {oracle.decision.value!r}) [evidence: {view.terminal_event or 'none recorded'}]",
            evidence=[e for e in evidence if e],
        )
    got = decision.decision.value
    checks = [
        (got == oracle.decision.value, 0.6, f"decision {got!r}, expected {oracle.decision.value!r}"),
        (
            view.terminal_state == oracle.expected_status.value,
            0.25,
            f"terminal state {view.terminal_state!r}, expected {oracle.expected_status.value!r}",
        ),
    ]
    if got == oracle.decision.value and got in RELEASING:
        if oracle.factory is not None:
            checks.append(
                (
                    decision.factory == oracle.factory,
                    0.1,
                    f"factory {decision.factory!r}, expected {oracle.factory!r}",
                )
            )
        want = {(s.component, s.to_supplier) for s in oracle.supplier_substitutions}
        have = {(s.component, s.to_supplier) for s in decision.supplier_substitutions}
        if want or have:
            checks.append(
                (have == want, 0.05, f"supplier substitutions {sorted(have)}, expected {sorted(want)}")
            )
    return Verdict.build(NAME, checks=checks, evidence=evidence, empty="")
