"""`routing_specialist_activation`: every required specialist was consulted and no loop ran away."""

from __future__ import annotations

from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Verdict

NAME = "routing_specialist_activation"
DESCRIPTION = (
    "The specialists the order needs were consulted (for example compliance for a regional rule, supply "
    "for a stockout, pricing for a quote), and the run did not loop between agents without progress."
)

MAX_LOOPS = 3
"""More orchestration loops than this (the summary's `loop_count`) is a runaway loop."""
MAX_VISITS = 4
"""More agent segments than this for one specialist is a runaway loop."""


def grade(view: BundleView) -> Verdict:
    oracle = view.bundle.oracle
    loop_count = view.bundle.run.summary.loop_count
    required = list(dict.fromkeys(oracle.required_specialists))
    missing = [name for name in required if name not in view.consulted]
    present = [name for name in required if name in view.consulted]
    looping = sorted(
        name for name, visits in view.agent_visits.items() if visits > MAX_VISITS and name != "Orchestrator"
    )
    runaway = loop_count > MAX_LOOPS or bool(looping)

    evidence: list[str | None] = []
    messages: list[str] = []
    if missing:
        messages.append(f"required specialist(s) never consulted: {', '.join(missing)}")
        evidence += [e.event_id for e in view.events("handoff")[-3:]]
    if runaway:
        where = f"; repeated agent(s): {', '.join(looping)}" if looping else ""
        messages.append(f"runaway loop: loop_count {loop_count} (limit {MAX_LOOPS}){where}")
        evidence += [s.span_id for s in view.agent_spans if s.span_data.get("name") in looping][-3:]
        evidence.append(view.terminal_event)
    if not messages:
        messages.append(
            f"all {len(required)} required specialist(s) consulted; no runaway loop (loop_count {loop_count})"
        )
    evidence += [view.first_agent_span(name) for name in present]
    if not evidence:
        evidence.append(view.terminal_event)

    share = len(present) / len(required) if required else 1.0
    return Verdict.make(
        NAME,
        passed=not missing and not runaway,
        score=0.7 * share + (0.0 if runaway else 0.3),
        reason="; ".join(messages),
        evidence=evidence,
    )
