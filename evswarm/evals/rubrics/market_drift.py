"""`market_drift_awareness`: dated signals in effect were read and acted on as the order required."""

from __future__ import annotations

from evswarm.evals.rubrics.signals import mishandled
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Verdict

NAME = "market_drift_awareness"
DESCRIPTION = (
    "Dated market signals in effect on the order date were read and acted on: current incentives, "
    "promotions and tariffs are applied, expired ones are not, and stockouts, capacity or schedule shocks "
    "are noticed rather than ignored."
)


def grade(view: BundleView) -> Verdict:
    """Each mishandled signal is reported as `<failure kind> (<event id>)`, citing where it was decided."""
    signals = view.bundle.oracle.signals
    if not signals:
        return Verdict.make(
            NAME,
            passed=True,
            score=1.0,
            reason="no dated signal bears on this order",
            evidence=[view.terminal_event],
        )
    wrong, fine = mishandled(view)
    handled = len(signals) - len(wrong)
    if wrong:
        reason = f"{len(wrong)} of {len(signals)} signal(s) mishandled: " + "; ".join(
            f"{m.kind} ({m.event_id})" for m in wrong
        )
        evidence: list[str | None] = [e for m in wrong for e in m.evidence]
    else:
        reason, evidence = f"all {len(signals)} signal(s) handled as required", list(fine)
    return Verdict.make(NAME, passed=not wrong, score=handled / len(signals), reason=reason, evidence=evidence)
