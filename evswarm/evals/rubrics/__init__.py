"""The deterministic rubric graders. Each reads a validated bundle (and, for the EV rubrics, its oracle)
and returns a Verdict whose findings name symptoms; none of them reads the bundle's causal record."""

from __future__ import annotations

from collections.abc import Callable

from evswarm.core.bundle import Bundle
from evswarm.evals.rubrics import final_decision, market_drift, policy_compliance, review, routing
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Verdict

_MODULES = (final_decision, policy_compliance, routing, market_drift, review)

RUBRICS: tuple[str, ...] = tuple(m.NAME for m in _MODULES)
"""Rubric names in assertion order (the order of `promptfoo_failed_checks`)."""

DESCRIPTIONS: dict[str, str] = {m.NAME: m.DESCRIPTION for m in _MODULES}
GRADERS: dict[str, Callable[[BundleView], Verdict]] = {m.NAME: m.grade for m in _MODULES}
NEEDS_ORACLE: frozenset[str] = frozenset(m.NAME for m in _MODULES if m.NEEDS_ORACLE)


def grade_bundle(bundle: Bundle) -> dict[str, Verdict]:
    """The verdicts of every rubric that applies to the bundle (rubrics that compare with the correct
    handling need an oracle); a grader that crashes yields an error verdict, not a failure."""
    view = BundleView(bundle)
    verdicts: dict[str, Verdict] = {}
    for name, grader in GRADERS.items():
        if name in NEEDS_ORACLE and bundle.oracle is None:
            continue
        try:
            verdicts[name] = grader(view)
        except Exception as exc:  # one broken grader must not lose the other verdicts
            verdicts[name] = Verdict.crashed(name, exc)
    return verdicts


__all__ = ["DESCRIPTIONS", "GRADERS", "NEEDS_ORACLE", "RUBRICS", "BundleView", "Verdict", "grade_bundle"]
