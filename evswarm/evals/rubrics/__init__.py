"""The five deterministic rubric graders. Each reads a validated bundle (and its oracle) and returns a
Verdict; none of them reads the bundle's planted-fault records."""

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


def grade_bundle(bundle: Bundle) -> dict[str, Verdict]:
    """All five verdicts for one bundle; a grader that crashes yields an error verdict, not a failure."""
    view = BundleView(bundle)
    verdicts: dict[str, Verdict] = {}
    for name, grader in GRADERS.items():
        try:
            verdicts[name] = grader(view)
        except Exception as exc:  # one broken grader must not lose the other four verdicts
            verdicts[name] = Verdict.crashed(name, exc)
    return verdicts


__all__ = ["DESCRIPTIONS", "GRADERS", "RUBRICS", "BundleView", "Verdict", "grade_bundle"]
