"""`policy_compliance_correctness`: the quoted price is right and nothing a region blocks is released.

Symptoms: `price_mismatch` (citing the last quote computation and the deciding span) and
`rule_violated` (citing the deciding span).
"""

from __future__ import annotations

from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Check, Verdict

NAME = "policy_compliance_correctness"
DESCRIPTION = (
    "Tariffs, incentive windows, promotions and regional rules in effect on the order date were applied "
    "correctly: the quoted price is within tolerance of the correct price, and an order that a regional "
    "rule blocks is never released."
)
NEEDS_ORACLE = True


def grade(view: BundleView) -> Verdict:
    oracle = view.oracle
    decision = view.final_decision
    quotes = view.tool_spans("compute_quote")
    last_quote = quotes[-1].span_id if quotes else None
    checks: list[Check] = []

    if oracle.expected_price is not None:
        correct = oracle.expected_price
        quoted = decision.quoted_price if decision else None
        if quoted is None and quotes:
            quoted = _quote_total(view, quotes[-1].span_id)
        if quoted is None:
            checks.append(
                Check.saw(
                    1.0,
                    Symptom.PRICE_MISMATCH,
                    f"no price was quoted; the correct price is {correct:,.2f}",
                    [view.decision_span, view.terminal_event],
                    "no quote",
                )
            )
        else:
            delta = quoted - correct
            within = abs(delta) <= oracle.price_tolerance + 1e-9
            side = "above" if delta > 0 else "below"
            checks.append(
                Check.ok(1.0, f"quoted {quoted:,.2f}, within {oracle.price_tolerance:,.2f} of {correct:,.2f}")
                if within
                else Check.saw(
                    1.0,
                    Symptom.PRICE_MISMATCH,
                    f"quoted {quoted:,.2f}, {abs(delta):,.2f} {side} the correct {correct:,.2f} "
                    f"(tolerance {oracle.price_tolerance:,.2f})",
                    [last_quote, view.decision_span],
                    f"quote {side}",
                )
            )

    if oracle.blocking_rules:
        rules = ", ".join(oracle.blocking_rules)
        checks.append(
            Check.saw(
                1.0, Symptom.RULE_VIOLATED, f"released although rule(s) {rules} block the order", [view.decision_span]
            )
            if view.released
            else Check.ok(1.0, f"held back as rule(s) {rules} require")
        )

    return Verdict.from_checks(
        NAME,
        checks,
        empty="no price or regional rule applies to this order",
        evidence=[last_quote, view.terminal_event],
    )


def _quote_total(view: BundleView, span_id: str) -> float | None:
    for span in view.tool_spans("compute_quote"):
        if span.span_id == span_id:
            output = view.tool_output(span)
            if isinstance(output, dict) and isinstance(output.get("total"), int | float):
                return float(output["total"])
    return None
