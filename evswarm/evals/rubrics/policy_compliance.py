"""`policy_compliance_correctness`: the quoted price is right and nothing a region blocks is released."""

from __future__ import annotations

from evswarm.evals.rubrics.signals import PRICE_SIGNALS, mishandled
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Verdict

NAME = "policy_compliance_correctness"
DESCRIPTION = (
    "Tariffs, incentive windows, promotions and regional rules in effect on the order date were applied "
    "correctly: the quoted price is within tolerance of the correct price, and an order that a regional "
    "rule blocks is never released."
)


def grade(view: BundleView) -> Verdict:
    oracle = view.bundle.oracle
    decision = view.final_decision
    quotes = view.tool_spans("compute_quote")
    rules = view.tool_spans("check_regional_rules")
    evidence: list[str | None] = [s.span_id for s in [*quotes[-1:], *rules[-1:]]]
    checks: list[tuple[bool, float, str]] = []

    if oracle.expected_price is not None:
        quoted = decision.quoted_price if decision else None
        if quoted is None and quotes:
            quoted = _quote_total(view, quotes[-1].span_id)
        if quoted is None:
            checks.append((False, 1.0, f"no price was quoted; expected {oracle.expected_price:.2f}"))
        else:
            delta = abs(quoted - oracle.expected_price)
            ok = delta <= oracle.price_tolerance + 1e-9
            # a wrong price is explained by the price signals mishandled (cited where they were decided)
            causes = [] if ok else [m for m in mishandled(view)[0] if m.event_type in PRICE_SIGNALS]
            kind = "quote off: " + ", ".join(dict.fromkeys(m.kind for m in causes)) if causes else "quote off"
            evidence = [*(e for m in causes for e in m.evidence), *evidence]
            checks.append(
                (
                    ok,
                    1.0,
                    f"{kind} (quoted {quoted:.2f} vs correct {oracle.expected_price:.2f}, "
                    f"off by {delta:.2f}, tolerance {oracle.price_tolerance:.2f})"
                    if not ok
                    else f"quoted {quoted:.2f} vs correct {oracle.expected_price:.2f} "
                    f"(off by {delta:.2f}, tolerance {oracle.price_tolerance:.2f})",
                )
            )

    if oracle.blocking_rules:
        blocked = ", ".join(oracle.blocking_rules)
        if view.released:
            evidence.insert(0, view.decision_span)
            checks.append(
                (
                    False,
                    1.0,
                    "released an order a regional rule blocks "
                    f"(order released although regional rule(s) {blocked} block it)",
                )
            )
        else:
            checks.append((True, 1.0, f"order held back as regional rule(s) {blocked} require"))

    return Verdict.build(
        NAME, checks=checks, evidence=evidence, empty="no price or regional rule applies to this order"
    )


def _quote_total(view: BundleView, span_id: str) -> float | None:
    for span in view.tool_spans("compute_quote"):
        if span.span_id == span_id:
            output = view.tool_output(span)
            if isinstance(output, dict) and isinstance(output.get("total"), int | float):
                return float(output["total"])
    return None
