"""`routing_specialist_activation`: every required specialist ran and no loop ran away.

Symptoms: `loop` (handoffs between the same agents repeated past a limit; citing the repeated handoffs),
`early_stop` (an order that should have gone through stopped before specialists it needed ran; citing
the deciding span and terminal event) and `specialist_skipped` (one finding per specialist that never
ran; citing where the run concluded without it).
"""

from __future__ import annotations

from collections import Counter

from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Check, Verdict

NAME = "routing_specialist_activation"
DESCRIPTION = (
    "The specialists the order needs were consulted (for example compliance for a regional rule, supply "
    "for a stockout, pricing for a quote), and the run did not loop between agents without progress."
)
NEEDS_ORACLE = True

MAX_LOOPS = 3
"""More repeated handoffs (a handoff between two agents taken again) than this is a runaway loop."""
MAX_VISITS = 4
"""More agent segments than this for one specialist is a runaway loop."""

_STOPPED = frozenset({"blocked", "failed", "awaiting_review"})


def loop_check(view: BundleView, weight: float) -> Check:
    """A `loop` finding when handoffs repeat past the limits, else a passing check (oracle-free)."""
    pairs = [(s.span_data.get("from_agent"), s.span_data.get("to_agent")) for s in view.handoff_spans]
    counts = Counter(p for p in pairs if p[0] and p[1])
    repeats = sum(n - 1 for n in counts.values())
    hub = view.agent_spans[0].span_data.get("name") if view.agent_spans else None
    busy = sorted(a for a, n in view.agent_visits.items() if n > MAX_VISITS and a != hub)
    if repeats <= MAX_LOOPS and not busy:
        return Check.ok(weight, f"no runaway loop ({repeats} repeated handoff(s))")
    ring = [p for p, n in counts.most_common() if n > 1 and hub not in p][:1] or [p for p, n in counts.most_common(1)]
    agents = " and ".join(str(a) for a in ring[0]) if ring else ", ".join(busy)
    where = [s.span_id for s in view.handoff_spans if ring and (s.span_data.get("from_agent"),
             s.span_data.get("to_agent")) == ring[0]][:4]  # fmt: skip
    return Check.saw(
        weight,
        Symptom.LOOP,
        f"control went back and forth between {agents}: {repeats} repeated handoff(s)"
        + (f"; {', '.join(busy)} ran more than {MAX_VISITS} times" if busy else ""),
        [*where, view.terminal_event],
        "repeated handoffs",
    )


def grade(view: BundleView) -> Verdict:
    oracle = view.oracle
    required = list(dict.fromkeys(oracle.required_specialists))
    missing = [name for name in required if name not in view.consulted]
    present = len(required) - len(missing)
    loop = loop_check(view, 0.3)
    decision = view.final_decision
    stopped = view.terminal_state in _STOPPED or bool(decision and not decision.decision.releases)
    concluded = [view.decision_span, view.terminal_event]
    checks = [loop]
    share = present / len(required) if required else 1.0
    if loop.failed:
        pass  # the specialists a runaway loop never reached are its consequence, not a routing miss
    elif missing and stopped and oracle.expected_status.value == "completed":
        checks.append(
            Check.saw(
                0.7 * (1 - share),
                Symptom.EARLY_STOP,
                f"the run ended {view.terminal_state!r} before {', '.join(missing)} ran",
                concluded,
                f"ended {view.terminal_state}",
            )
        )
    else:
        checks += [
            Check.saw(0.7 / len(required), Symptom.SPECIALIST_SKIPPED, f"{name} never ran", concluded, name)
            for name in missing
        ]
    checks.append(Check.ok(0.7 * share, f"{present} of {len(required)} required specialist(s) ran"))
    return Verdict.from_checks(
        NAME, checks, empty="", evidence=[view.first_agent_span(name) for name in required if name not in missing]
    )
