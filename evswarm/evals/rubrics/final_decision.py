"""`final_decision_quality`: the run's final decision and terminal state match the oracle's.

Symptoms: `no_decision`, `decision_mismatch`, `status_mismatch`, and on a correct release
`factory_mismatch` and `substitution_mismatch`. Each cites where it shows: the deciding span and the
run's terminal status event.
"""

from __future__ import annotations

from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Check, Verdict

NAME = "final_decision_quality"
DESCRIPTION = (
    "The final decision is the right one for the order: the decision the orchestrator reached and the "
    "run's terminal state match what the order called for (and the factory and supplier substitutions, "
    "when the order is released)."
)
NEEDS_ORACLE = True


def grade(view: BundleView) -> Verdict:
    oracle = view.oracle
    decision = view.final_decision
    where = [view.decision_span, view.terminal_event]
    want, want_state = oracle.decision.value, oracle.expected_status.value
    if decision is None:
        missing = Check.saw(
            1.0,
            Symptom.NO_DECISION,
            f"the run ended {view.terminal_state!r} without a final decision; the order called for {want!r}",
            [view.terminal_event],
        )
        return Verdict.from_checks(NAME, [missing], empty="", evidence=[])
    got = decision.decision.value
    checks = [
        Check.ok(0.6, f"decided {got!r} as the order called for")
        if got == want
        else Check.saw(
            0.6,
            Symptom.DECISION_MISMATCH,
            f"decided {got!r}; the order called for {want!r}",
            where,
            f"{got} not {want}",
        ),
        Check.ok(0.25, f"ended {view.terminal_state!r}")
        if view.terminal_state == want_state
        else Check.saw(
            0.25,
            Symptom.STATUS_MISMATCH,
            f"ended {view.terminal_state!r}; the order called for {want_state!r}",
            [view.terminal_event],
            f"{view.terminal_state} not {want_state}",
        ),
    ]
    if got == want and decision.decision.releases:
        if oracle.factory is not None:
            checks.append(
                Check.ok(0.1, f"built at {decision.factory}")
                if decision.factory == oracle.factory
                else Check.saw(
                    0.1,
                    Symptom.FACTORY_MISMATCH,
                    f"released to factory {decision.factory!r}; the correct factory is {oracle.factory!r}",
                    where,
                )
            )
        wanted = sorted((s.component, s.to_supplier) for s in oracle.supplier_substitutions)
        have = sorted((s.component, s.to_supplier) for s in decision.supplier_substitutions)
        if wanted or have:
            checks.append(
                Check.ok(0.05, f"{len(have)} supplier substitution(s) as needed")
                if have == wanted
                else Check.saw(
                    0.05,
                    Symptom.SUBSTITUTION_MISMATCH,
                    f"supplier substitutions {have}; the order needed {wanted}",
                    where,
                )
            )
    return Verdict.from_checks(NAME, checks, empty="", evidence=where)
