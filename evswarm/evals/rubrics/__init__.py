"""The deterministic rubric graders. Each reads a validated bundle (and, for the EV rubrics, its oracle)
and returns a Verdict whose findings name symptoms; none of them reads the bundle's causal record.

Two families: the five EV rubrics judge a run against its correct handling (they need an oracle), and
three oracle-free rubrics (`tool_use`, `control_flow`, `final_answer`) judge any agent trace from what it
shows. A bundle with an oracle is graded by the EV rubrics, which already know the right outcome; a bundle
without one (recorded or imported) by the oracle-free ones."""

from __future__ import annotations

from collections.abc import Callable

from evswarm.core.bundle import Bundle
from evswarm.evals.rubrics import (
    answer,
    control_flow,
    final_decision,
    market_drift,
    policy_compliance,
    review,
    routing,
    tool_use,
)
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Verdict

_MODULES = (final_decision, policy_compliance, routing, market_drift, review)
_ORACLE_FREE = (tool_use, control_flow, answer)

RUBRICS: tuple[str, ...] = tuple(m.NAME for m in (*_MODULES, *_ORACLE_FREE))
"""Rubric names in assertion order (the order of `promptfoo_failed_checks`)."""
EV_RUBRICS: tuple[str, ...] = tuple(m.NAME for m in _MODULES)
ORACLE_FREE: tuple[str, ...] = tuple(m.NAME for m in _ORACLE_FREE)

DESCRIPTIONS: dict[str, str] = {m.NAME: m.DESCRIPTION for m in (*_MODULES, *_ORACLE_FREE)}
GRADERS: dict[str, Callable[[BundleView], Verdict]] = {m.NAME: m.grade for m in _MODULES}
TRACE_GRADERS: dict[str, Callable[[Bundle], Verdict]] = {m.NAME: m.grade for m in _ORACLE_FREE}
NEEDS_ORACLE: frozenset[str] = frozenset(m.NAME for m in _MODULES if m.NEEDS_ORACLE)


def applicable(has_oracle: bool) -> frozenset[str]:
    """The rubrics that grade a bundle with (the EV rubrics) or without (the oracle-free ones) an oracle."""
    return frozenset(EV_RUBRICS) if has_oracle else frozenset(ORACLE_FREE)


def grade_bundle(bundle: Bundle) -> dict[str, Verdict]:
    """The verdicts of every rubric that applies to the bundle (rubrics that compare with the correct
    handling need an oracle); a grader that crashes yields an error verdict, not a failure."""
    view = BundleView(bundle)
    verdicts: dict[str, Verdict] = {}
    if bundle.oracle is not None:
        graders = {name: (lambda g=grader: g(view)) for name, grader in GRADERS.items()}
    else:
        graders = {name: (lambda g=grader: g(view)) for name, grader in GRADERS.items() if name not in NEEDS_ORACLE}
        graders |= {name: (lambda g=grader: g(bundle)) for name, grader in TRACE_GRADERS.items()}
    for name, run in graders.items():
        try:
            verdicts[name] = run()
        except Exception as exc:  # one broken grader must not lose the other verdicts
            verdicts[name] = Verdict.crashed(name, exc)
    return verdicts


__all__ = [
    "DESCRIPTIONS",
    "EV_RUBRICS",
    "GRADERS",
    "NEEDS_ORACLE",
    "ORACLE_FREE",
    "RUBRICS",
    "TRACE_GRADERS",
    "BundleView",
    "Verdict",
    "applicable",
    "grade_bundle",
]
