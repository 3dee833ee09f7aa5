"""evswarm bundles -> canonical trace, built from the span tree.

Generation spans give reasoning items (Reasoning pane), function_call items (Function Calls pane) and
messages; function spans give the results, paired with their calls by `call_id`; handoff calls are
paired with the handoff span that follows. The last message of the run (or `run.summary.final_decision`)
is the final answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from evswarm.core.bundle import SpanRecord, TraceBundle
from evswarm.core.errors import BundleError
from evswarm.core.formats.common import ImportFormatError, as_text, opt_str
from evswarm.core.io import parse_trace_bundle
from evswarm.core.limits import MAX_STEPS
from evswarm.core.steps import Finding, Step, StepKind, Trace


def from_bundle(payload: dict[str, Any]) -> Trace:
    try:
        bundle = parse_trace_bundle(payload, source="evswarm bundle")
    except BundleError as exc:
        raise ImportFormatError(exc.message) from exc
    if len(bundle.spans) > MAX_STEPS:
        raise ImportFormatError(f"`spans`: {len(bundle.spans):,} spans, more than the {MAX_STEPS:,} allowed")
    return bundle_to_trace(bundle)


def _duration_ms(span: SpanRecord) -> float | None:
    """How long a span took, in milliseconds; None when its times are missing or unreadable."""
    try:
        start = datetime.fromisoformat(str(span.started_at).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(span.ended_at).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    millis = (end - start).total_seconds() * 1000
    return round(millis, 1) if millis >= 0 else None


def _ordered(spans: list[SpanRecord]) -> list[SpanRecord]:
    indexed = list(enumerate(spans))
    indexed.sort(key=lambda pair: (pair[1].started_at, pair[0]))
    return [span for _, span in indexed]


def _part_texts(value: Any) -> list[str]:
    """The `text` of each part of a content list (a lone string is its own text; other shapes: none)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    return [as_text(p.get("text")) for p in value if isinstance(p, dict) and p.get("text") is not None]


def _reasoning_text(item: dict[str, Any]) -> str:
    parts = _part_texts(item.get("summary")) + _part_texts(item.get("content"))
    return "\n\n".join(p for p in parts if p)


def _message_text(item: dict[str, Any]) -> str:
    return "".join(_part_texts(item.get("content")))


class _Builder:
    def __init__(self, bundle: TraceBundle) -> None:
        self.bundle = bundle
        self.steps: list[Step] = []
        self.function_call_ids = {
            opt_str(s.span_data.get("call_id")) for s in bundle.spans if s.span_type == "function"
        }
        self.open_calls: list[Step] = []  # calls with no result yet, in order
        self.open_handoffs: list[Step] = []

    def generation(self, span: SpanRecord) -> None:
        output = span.span_data.get("output")
        if not isinstance(output, list):
            return
        agent = span.agent_name
        for index, item in enumerate(output):
            if not isinstance(item, dict):
                continue
            step_id = f"{span.span_id}.{index}"
            common = {
                "step_id": step_id,
                "agent": agent,
                "group": span.span_id,
                "span_id": span.span_id,
                "timestamp": span.started_at,
                "duration_ms": _duration_ms(span),
            }
            kind = item.get("type")
            if kind == "reasoning":
                self.steps.append(Step(kind=StepKind.REASONING, text=_reasoning_text(item), **common))
            elif kind == "function_call":
                name = opt_str(item.get("name")) or ""
                call_id = opt_str(item.get("call_id")) or step_id
                is_handoff = call_id not in self.function_call_ids and name.startswith("transfer_to_")
                step = Step(
                    kind=StepKind.HANDOFF if is_handoff else StepKind.TOOL_CALL,
                    tool=name,
                    arguments=as_text(item.get("arguments")),
                    call_id=call_id,
                    **common,
                )
                self.steps.append(step)
                (self.open_handoffs if is_handoff else self.open_calls).append(step)
            elif kind == "message":
                self.steps.append(Step(kind=StepKind.MESSAGE, label="assistant", text=_message_text(item), **common))

    def function(self, span: SpanRecord) -> None:
        data = span.span_data
        call_id = opt_str(data.get("call_id"))
        if call_id is None:  # fall back to the oldest open call of the same tool
            match = next((c for c in self.open_calls if c.tool == data.get("name")), None)
            call_id = match.call_id if match else None
        self.open_calls = [c for c in self.open_calls if c.call_id != call_id]
        error = span.error.get("message") if span.error else None
        self.steps.append(
            Step(
                step_id=span.span_id,
                kind=StepKind.TOOL_RESULT,
                agent=span.agent_name,
                tool=opt_str(data.get("name")) or "",
                text=as_text(data.get("output")),
                call_id=call_id,
                span_id=span.span_id,
                timestamp=span.ended_at,
                duration_ms=_duration_ms(span),
                error=None if error is None else as_text(error),
            )
        )

    def handoff(self, span: SpanRecord) -> None:
        source, target = opt_str(span.span_data.get("from_agent")), opt_str(span.span_data.get("to_agent"))
        call = next((c for c in self.open_handoffs if c.agent == source), None)
        text = f"handed off from {source} to {target}"
        if call is None:
            self.steps.append(
                Step(
                    step_id=span.span_id,
                    kind=StepKind.HANDOFF,
                    agent=source or span.agent_name,
                    tool=f"handoff → {target}",
                    text=text,
                    span_id=span.span_id,
                    timestamp=span.started_at,
                    call_id=span.span_id,
                )
            )
            return
        self.open_handoffs.remove(call)
        self.steps.append(
            Step(
                step_id=span.span_id,
                kind=StepKind.TOOL_RESULT,
                agent=source or call.agent,
                text=text,
                call_id=call.call_id,
                span_id=span.span_id,
                timestamp=span.started_at,
                data={"to_agent": target},
            )
        )

    def other(self, span: SpanRecord) -> None:
        if span.span_type == "guardrail" and span.span_data.get("triggered"):
            self.steps.append(
                Step(
                    step_id=span.span_id,
                    kind=StepKind.SYSTEM,
                    agent=span.agent_name,
                    label="guardrail",
                    text=f"guardrail {opt_str(span.span_data.get('name'))} tripped",
                    span_id=span.span_id,
                    timestamp=span.started_at,
                )
            )
        if span.error and span.span_type not in ("function",):
            self.steps.append(
                Step(
                    step_id=f"{span.span_id}.error",
                    kind=StepKind.ERROR,
                    agent=span.agent_name,
                    label=f"{span.span_type} error",
                    text=as_text(span.error.get("message")),
                    span_id=span.span_id,
                    timestamp=span.ended_at,
                )
            )

    def build(self) -> list[Step]:
        for span in _ordered(self.bundle.spans):
            if span.span_type == "generation":
                self.generation(span)
            elif span.span_type == "function":
                self.function(span)
            elif span.span_type == "handoff":
                self.handoff(span)
            else:
                self.other(span)
        return self.steps


def _final_answer(steps: list[Step], bundle: TraceBundle) -> str:
    decision = bundle.run.summary.final_decision
    decision_data = decision.model_dump(mode="json") if decision else None
    last_message = next((s for s in reversed(steps) if s.kind is StepKind.MESSAGE), None)
    if last_message is not None and not any(
        s.kind in (StepKind.TOOL_CALL, StepKind.HANDOFF) for s in steps[steps.index(last_message) + 1 :]
    ):
        last_message.kind = StepKind.ANSWER
        last_message.text = as_text(last_message.text)
        last_message.data = decision_data
        return f"final message of {last_message.agent or 'the run'}"
    if decision_data is not None:
        steps.append(
            Step(
                step_id="final_decision",
                kind=StepKind.ANSWER,
                agent=decision_data.get("decided_by"),
                text=as_text(decision_data),
                data=decision_data,
            )
        )
        return "run.summary.final_decision (no final message in the spans)"
    return "none"


def bundle_to_trace(bundle: TraceBundle) -> Trace:
    summary = bundle.run.summary
    config = bundle.run.config
    steps = _Builder(bundle).build()
    answer_source = _final_answer(steps, bundle)
    vehicle = f"{config.vehicle.model} {config.vehicle.trim}".strip()
    refs = {e.event_id: e.span_id for e in bundle.events if e.span_id}
    return Trace(
        trace_id=bundle.run.run_id,
        source_format="evswarm",
        title=f"{summary.scenario_family} · {config.customer.name} · {vehicle}",
        task=config.notes,
        case_type=summary.scenario_family,
        outcome=summary.terminal_state or bundle.run.status,
        version_set=summary.agent_version_set,
        metadata={
            "status": bundle.run.status,
            "orchestrator_mode": summary.orchestrator_mode,
            "region": config.customer.region,
            "simulation_date": summary.simulation_date,
            "review_status": summary.review_status,
            "loop_count": summary.loop_count,
            "specialists": len(summary.specialist_activations),
            "market_regime": summary.market_regime,
            "openai_trace_id": bundle.run.openai_trace_id,
        },
        findings=[
            Finding(code=f.code, severity=f.severity, message=f.message, agent=f.agent_name, span_id=f.span_id)
            for f in summary.findings
        ],
        refs=refs,
        answer_source=answer_source,
        steps=steps,
    )
