"""`control_flow` (oracle-free): the run finished on its own, without loops, lost handoffs or guardrail trips.

Symptoms: `run_error` (an agent span records an error: a crash or the turn limit), `guardrail_tripped` (a
guardrail stopped the run), `handoff_unresolved` (a handoff to an agent that never took over), `loop`
(handoffs repeated past a limit, see `routing.loop_check`, or an agent saying the same thing three times).
"""

from __future__ import annotations

from collections import Counter

from evswarm.core.bundle import Bundle
from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.routing import loop_check
from evswarm.evals.rubrics.trace_view import TraceView
from evswarm.evals.rubrics.view import BundleView
from evswarm.evals.verdict import Check, Verdict

NAME = "control_flow"
DESCRIPTION = (
    "The run ended on its own: no crash or turn limit, no guardrail stopping it, every handoff taken up by "
    "the agent it named, and no loop between agents or of an agent repeating itself."
)
NEEDS_ORACLE = False
REPEATS = 3
"""An agent saying the same message this many times is going round in circles."""


def grade(bundle: Bundle) -> Verdict:
    view = TraceView(bundle)
    checks = [
        Check.saw(
            1.0,
            Symptom.RUN_ERROR,
            f"the run stopped with an error: {s.error.get('message') if s.error else ''}",
            [s.span_id],
            s.agent_name,
        )
        for s in view.run_errors[:1]
    ]
    for span in view.spans:
        if span.span_type == "guardrail" and span.span_data.get("triggered"):
            name = str(span.span_data.get("name") or "guardrail")
            checks.append(Check.saw(1.0, Symptom.GUARDRAIL_TRIPPED, f"guardrail {name} stopped the run",
                                    [span.span_id], name))  # fmt: skip
    for index, span in enumerate(view.spans):
        if span.span_type != "handoff" or not span.span_data.get("to_agent"):
            continue
        target = span.span_data["to_agent"]
        if not any(s.agent_name == target and s.span_type != "handoff" for s in view.spans[index + 1 :]):
            checks.append(Check.saw(1.0, Symptom.HANDOFF_UNRESOLVED, f"{target} never took over after the handoff",
                                    [span.span_id], str(target)))  # fmt: skip
    loop = loop_check(BundleView(bundle), 1.0)
    if loop.failed:
        checks.append(loop)
    else:
        said = Counter((s.agent_name, " ".join(text.split()).lower()) for s, text in view.messages if text.strip())
        (agent, text), times = said.most_common(1)[0] if said else ((None, ""), 0)
        if times >= REPEATS:
            where = [s.span_id for s, t in view.messages if " ".join(t.split()).lower() == text][:4]
            checks.append(Check.saw(1.0, Symptom.LOOP, f"{agent} said the same thing {times} times", where, agent))
    checks.append(Check.ok(1.0, "the run ended on its own"))
    return Verdict.from_checks(NAME, checks, empty="", evidence=[view.terminal_event])
