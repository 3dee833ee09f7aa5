"""`market_drift_awareness`: dated signals in effect were read and acted on as the order required.

One `signal_ignored` or `signal_misapplied` finding per mishandled signal (see `signals`)."""

from __future__ import annotations

from evswarm.evals.rubrics.signals import mishandled
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Check, Verdict

NAME = "market_drift_awareness"
DESCRIPTION = (
    "Dated market signals in effect on the order date were read and acted on: current incentives, "
    "promotions and tariffs are applied, expired ones are not, and stockouts, capacity or schedule shocks "
    "are noticed rather than ignored."
)
NEEDS_ORACLE = True


def grade(view: BundleView) -> Verdict:
    signals = view.oracle.signals
    wrong, fine = mishandled(view)
    weight = 1.0 / max(len(signals), 1)
    checks = [Check.saw(weight, m.symptom, m.message, list(m.evidence), m.event_type) for m in wrong]
    handled = len(signals) - len(wrong)
    if handled:
        checks.append(Check.ok(weight * handled, f"{handled} of {len(signals)} signal(s) handled as required"))
    return Verdict.from_checks(
        NAME, checks, empty="no dated signal bears on this order", evidence=[*fine, view.terminal_event]
    )
