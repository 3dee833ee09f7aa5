"""`routing_specialist_activation`: every required specialist was consulted and no loop ran away.

Failure kinds: 'specialist never consulted: X' (citing the report of each agent that ran and could have
handed over to X, else the hub's routing decisions), 'run stopped early on X's report' (an order that should
have gone through was stopped by an agent's report, so the specialists after it were never reached; citing
that report) and 'turn limit hit in a routing loop between X and Y' (citing the first report that sent
control back along a path it had already taken).
"""

from __future__ import annotations

from collections import Counter

from evswarm.evals.rubrics.view import BundleView, Report, blocking_report, reports
from evswarm.evals.verdict import Verdict

NAME = "routing_specialist_activation"
DESCRIPTION = (
    "The specialists the order needs were consulted (for example compliance for a regional rule, supply "
    "for a stockout, pricing for a quote), and the run did not loop between agents without progress."
)

_STOPPED = frozenset({"blocked", "failed", "awaiting_review"})
_STOPS = frozenset({"block", "hold_for_review", "request_clarification"})
MAX_LOOPS = 3
"""More orchestration loops than this (the summary's `loop_count`) is a runaway loop."""
MAX_VISITS = 4
"""More agent segments than this for one specialist is a runaway loop."""


def _could_consult(view: BundleView, missing: str, filed: list[Report]) -> list[str]:
    """Where the missing specialist should have been called:
    1. the last report of each non-hub agent that ran and lists it among its handoffs;
    2. in a run that stopped (blocked, held, failed) on an agent's report, that report: the specialists
       after it were never reached;
    3. the hub's routing report that passed it over: the first one whose target comes after the missing
       specialist in the hub's declared handoff order;
    4. failing all that, every routing report of the hub."""
    hub_span = view.agent_spans[0] if view.agent_spans else None
    hub = hub_span.span_data.get("name") if hub_span else None
    able = {
        str(s.span_data.get("name"))
        for s in view.agent_spans
        if missing in (s.span_data.get("handoffs") or []) and s.span_data.get("name") != hub
    }
    last: dict[str, str] = {}
    for report in filed:
        if report.agent in able:
            last[report.agent] = report.span_id
    if last:
        return list(last.values())
    decision = view.final_decision
    stopped = view.terminal_state in _STOPPED or bool(decision and decision.decision.value in _STOPS)
    stop_span, _ = blocking_report(view)
    if stopped and stop_span:
        return [stop_span]
    order = [str(h).lower() for h in (hub_span.span_data.get("handoffs") or [])] if hub_span else []
    hub_reports = [r for r in filed if r.agent == hub]
    if missing.lower() in order:
        at = order.index(missing.lower())
        for report in hub_reports:
            if report.target.lower() in order and order.index(report.target.lower()) > at:
                return [report.span_id]
    return [r.span_id for r in hub_reports]


def _unexpected_stop(view: BundleView) -> tuple[str, str] | None:
    """(span, agent) of the report a run stopped on, when the oracle expected the order to go through."""
    if view.bundle.oracle.expected_status.value != "completed":
        return None
    decision = view.final_decision
    stopped = view.terminal_state in _STOPPED or bool(decision and decision.decision.value in _STOPS)
    stop_span, stop_agent = blocking_report(view)
    return (stop_span, stop_agent) if stopped and stop_span and stop_agent else None


def _loop_back(filed: list[Report]) -> Report | None:
    """The report that closes the loop: of the non-hub handoffs taken more than once, the one first taken
    last (the edge that sends control back around the cycle), at its first occurrence."""
    hub = filed[0].agent.lower() if filed else None
    first: dict[tuple[str, str], Report] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for report in filed:
        edge = (report.agent.lower(), report.target.lower())
        if hub in edge:
            continue
        counts[edge] += 1
        first.setdefault(edge, report)
    repeated = [first[e] for e, n in counts.items() if n > 1]
    return max(repeated, key=lambda r: r.index) if repeated else None


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
    filed = reports(view)

    evidence: list[str | None] = []
    messages: list[str] = []
    if runaway:
        back = _loop_back(filed)
        pair = [back.agent, back.target] if back else looping[:2]
        between = f" between {' and '.join(pair)}" if pair else ""
        where = f"; repeated agent(s): {', '.join(looping)}" if looping else ""
        messages.append(
            f"turn limit hit in a routing loop{between} (runaway loop: loop_count {loop_count} "
            f"(limit {MAX_LOOPS}){where})"
        )
        evidence += [back.span_id] if back else []
        evidence.append(view.terminal_event)
    elif missing and (stop := _unexpected_stop(view)):
        # an agent stopped an order that should have gone through: the specialists after it were never reached,
        # so the routing failure is the stop itself
        stop_span, stop_agent = stop
        messages.append(
            f"run stopped early on {stop_agent}'s report (required specialist(s) never reached: {', '.join(missing)})"
        )
        evidence.append(stop_span)
    elif missing:
        # a runaway loop leaves later specialists unconsulted: that is its consequence, not a routing miss
        for name in missing:
            messages.append(f"specialist never consulted: {name}")
            evidence += _could_consult(view, name, filed) or [e.event_id for e in view.events("handoff")[-3:]]
        messages[: len(missing)] = [
            "; ".join(messages[: len(missing)]) + f" (required specialist(s) never consulted: {', '.join(missing)})"
        ]
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
