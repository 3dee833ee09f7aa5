"""A short plain-text account of a run, the `Output` a model grader (`llm-rubric`) judges.

It shows what happened (order, signals, agents, tool calls, decisions, review) and never the oracle."""

from __future__ import annotations

from evswarm.core.bundle import Bundle
from evswarm.evals.rubrics.trace_view import TraceView

_MAX_FIELD = 160


def _clip(text: object) -> str:
    value = " ".join(str(text).split())
    return value if len(value) <= _MAX_FIELD else value[: _MAX_FIELD - 1] + "…"


def render(bundle: Bundle) -> str:
    run, summary = bundle.run, bundle.run.summary
    order, vehicle = run.config, run.config.vehicle
    lines = [
        f"Run {run.run_id} ({summary.scenario_family}), order date {order.order_date or summary.simulation_date}",
        f"Customer {order.customer.name} in {order.customer.region}; {order.quantity} x {vehicle.model} {vehicle.trim}",
        "Signals in effect:",
    ]
    lines += [
        f"  - {e.event_id} [{e.event_type}] {_clip(e.title)} ({e.effective_from} .. {e.effective_to or 'open'})"
        for e in bundle.environment_events
    ] or ["  (none)"]
    lines.append("Steps:")
    for span in bundle.spans:
        data = span.span_data
        if span.span_type == "handoff":
            lines.append(f"  [{span.span_id}] handoff {data.get('from_agent')} -> {data.get('to_agent')}")
        elif span.span_type == "function":
            call = f"{data.get('name')}({_clip(data.get('input', ''))})"
            lines.append(f"  [{span.span_id}] {span.agent_name} called {call} -> {_clip(data.get('output', ''))}")
        elif span.span_type == "guardrail" and data.get("triggered"):
            lines.append(f"  [{span.span_id}] guardrail {data.get('name')} triggered")
    lines.append("Signal handling:")
    lines += [f"  - {d.event_id}: {d.action} by {d.agent_name}" for d in bundle.snapshots.environment_decisions] or [
        "  (none recorded)"
    ]
    packet = bundle.review_packet
    lines.append(
        f"Review: {packet.status}, recommended {packet.recommended_action}" if packet else "Review: not requested"
    )
    decision = summary.final_decision
    if decision is None:
        lines.append("Final decision: none")
    else:
        price = "n/a" if decision.quoted_price is None else f"{decision.quoted_price:.2f}"
        lines.append(
            f"Final decision: {decision.decision.value} by {decision.decided_by}, price {price}, "
            f"factory {decision.factory}, review_required={decision.review_required}; "
            f"rationale: {_clip(decision.rationale)}"
        )
    lines.append(f"Terminal state: {summary.terminal_state or run.status}; loops {summary.loop_count}")
    return "\n".join(lines)


def final_text(bundle: Bundle) -> str:
    """The run's last agent message (what the user saw last), or ""."""
    final = TraceView(bundle).final_answer
    return final[1] if final else ""


def transcript(bundle: Bundle, limit: int = 400) -> str:
    """One line per step (`[span id] agent: what it did`), for the user's own assertions and model graders."""
    lines = []
    for span in bundle.spans[:limit]:
        data = span.span_data
        who = span.agent_name or "?"
        if span.span_type == "function":
            lines.append(f"[{span.span_id}] {who} called {data.get('name')}({_clip(data.get('input', ''))}) -> "
                         f"{_clip(data.get('output', ''))}")  # fmt: skip
        elif span.span_type == "handoff":
            lines.append(f"[{span.span_id}] handoff {data.get('from_agent')} -> {data.get('to_agent')}")
        elif span.span_type in ("generation", "response"):
            for item in data.get("output") or []:
                if isinstance(item, dict) and item.get("type") == "message":
                    text = " ".join(str(p.get("text", "")) for p in item.get("content") or [] if isinstance(p, dict))
                    lines.append(f"[{span.span_id}] {who}: {_clip(text)}")
        elif span.span_type == "custom" and isinstance(data.get("data"), dict) and data["data"].get("text"):
            lines.append(f"[{span.span_id}] {who}: {_clip(data['data']['text'])}")
    return "\n".join(lines)
