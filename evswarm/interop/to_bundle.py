"""A canonical trace (`evswarm.core.steps.Trace`, whatever format it came in) as an evswarm bundle.

Each step becomes a span the rest of evswarm reads like one the SDK made:
- an agent's reasoning, messages, final answer and tool calls of one model turn (steps sharing a `group`)
  become one `generation` span whose output holds reasoning, message and function_call items;
- a tool result becomes a `function` span (name, input, output, call_id; its error when it had one),
  under the agent that called it (by call id; without one, the agent of the latest model turn, so that
  every result of a turn that made several calls is that agent's);
- a handoff call with a known target also gets a `handoff` span;
- a message of the user becomes a `custom` span `user_message` (agent `user`), a system message a
  `custom` span `system_message`, an error step a `custom` span `error` carrying the error.
An agent step with no agent name is given the agent `assistant` (and counted, so the import can say so).
Times are a synthetic clock, one second per step, in source order; a source time is kept in the span data
(`source_timestamp`). Every span records its source step (see `evswarm.core.foreign`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evswarm.core.bundle import Bundle, RunStatus, SpanRecord
from evswarm.core.foreign import clock, foreign_bundle
from evswarm.core.speakers import is_person
from evswarm.core.steps import Step, StepKind, Trace

DEFAULT_AGENT = "assistant"
USER = "user"
_INDEXED = re.compile(r"^[msp](\d+)$")
_AGENT_KINDS = frozenset({StepKind.REASONING, StepKind.MESSAGE, StepKind.ANSWER, StepKind.TOOL_CALL, StepKind.HANDOFF})


@dataclass
class Converted:
    """A bundle, and what the conversion had to assume."""

    bundle: Bundle
    unnamed_agent_steps: int
    source_steps: dict[str, int]
    """source step id (`m3`) -> position; how labels and anchors that name a step find it."""


def source_positions(steps: list[Step]) -> dict[str, int]:
    """Each step's position in its source: the index in a step id such as `m3` (a chat log's message
    index), else the order of first appearance of the id before its first dot."""
    positions: dict[str, int] = {}
    roots: dict[str, int] = {}
    for step in steps:
        root = step.step_id.split(".", 1)[0]
        match = _INDEXED.match(root)
        if match:
            positions[step.step_id] = int(match.group(1))
        else:
            positions[step.step_id] = roots.setdefault(root, len(roots))
        positions.setdefault(root, positions[step.step_id])
    return positions


def _is_user(step: Step) -> bool:
    return step.agent is None and step.kind is StepKind.MESSAGE and is_person(step.label or "user")


class _Builder:
    def __init__(self, trace: Trace, run_id: str) -> None:
        self.trace = trace
        self.run_id = run_id
        self.spans: list[SpanRecord] = []
        self.positions = source_positions(trace.steps)
        self.calls: dict[str, Step] = {}
        self.unnamed = 0
        self.turn: SpanRecord | None = None
        self.turn_key: tuple[str | None, str] | None = None
        self.speaker: str | None = None
        """The agent of the latest model turn: whose call a tool result without a call id answers."""

    def _span(
        self, step: Step, kind: str, agent: str | None, data: dict[str, Any], error: str | None = None
    ) -> SpanRecord:
        n = len(self.spans)
        data = {"type": kind, **data}
        if step.timestamp:
            data["source_timestamp"] = step.timestamp
        span = SpanRecord.model_validate(
            {
                "span_id": f"span_{self.run_id.removeprefix('run_')}_{n:04d}",
                "parent_span_id": None,
                "trace_id": self.trace.trace_id,
                "started_at": clock(n),
                "ended_at": clock(n),
                "span_type": kind,
                "agent_name": agent,
                "error": {"message": error, "data": None} if error else None,
                "span_data": data,
                "source_step": self.positions.get(step.step_id),
                "source_step_id": step.step_id,
            }
        )
        self.spans.append(span)
        return span

    def _agent(self, step: Step) -> str:
        if step.agent:
            return step.agent
        self.unnamed += 1
        return DEFAULT_AGENT

    def _turn(self, step: Step, agent: str) -> SpanRecord:
        """The generation span of the step's model turn (one per group and agent, in a run of steps)."""
        key = (step.group, agent)
        if self.turn is None or step.group is None or key != self.turn_key:
            self.turn = self._span(step, "generation", agent, {"input": [], "output": [], "model": "imported"})
            self.turn_key = key
        self.speaker = agent
        return self.turn

    def agent_step(self, step: Step) -> None:
        agent = self._agent(step)
        output: list[dict[str, Any]] = self._turn(step, agent).span_data["output"]
        if step.kind is StepKind.REASONING:
            output.append({"type": "reasoning", "summary": [{"type": "summary_text", "text": step.text}]})
        elif step.kind in (StepKind.MESSAGE, StepKind.ANSWER):
            output.append(
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": step.text}]}
            )
        else:
            call_id = step.call_id or f"call_{step.step_id}"
            name = step.tool or ("handoff" if step.kind is StepKind.HANDOFF else "tool")
            output.append(
                {"type": "function_call", "call_id": call_id, "name": name, "arguments": step.arguments or ""}
            )
            self.calls[call_id] = step
            target = (step.data or {}).get("to_agent")
            if step.kind is StepKind.HANDOFF and isinstance(target, str):
                self.turn = None
                self._span(step, "handoff", agent, {"from_agent": agent, "to_agent": target})

    def result(self, step: Step) -> None:
        call = self.calls.get(step.call_id or "")
        agent = step.agent or (call.agent if call else None) or self.speaker
        self.turn = None
        target = (step.data or {}).get("to_agent")
        if isinstance(target, str):  # a handoff's result: the agent that takes over
            self._span(step, "handoff", agent, {"from_agent": agent, "to_agent": target})
            return
        self._span(
            step,
            "function",
            agent or DEFAULT_AGENT,
            {
                "name": step.tool or (call.tool if call else None) or "tool",
                "input": call.arguments if call else "",
                "output": step.text,
                "call_id": step.call_id,
            },
            error=step.error,
        )

    def other(self, step: Step) -> None:
        self.turn = None
        if _is_user(step):
            self._span(step, "custom", USER, {"name": "user_message", "data": {"text": step.text}})
        elif step.kind is StepKind.ERROR:
            self._span(
                step, "custom", step.agent, {"name": "error", "data": {"text": step.text}}, error=step.text or "error"
            )
        elif step.kind is StepKind.SYSTEM and (step.label or "") == "guardrail":
            self._span(step, "guardrail", step.agent, {"name": step.text, "triggered": True})
        else:
            self._span(step, "custom", step.agent, {"name": "system_message", "data": {"text": step.text}})

    def build(self) -> list[SpanRecord]:
        for step in self.trace.steps:
            if step.kind is StepKind.TOOL_RESULT:
                self.result(step)
            elif step.kind in _AGENT_KINDS and not _is_user(step):
                self.agent_step(step)
            else:
                self.other(step)
        return self.spans


def first_user_message(trace: Trace) -> str:
    return next((s.text for s in trace.steps if _is_user(s) and s.text.strip()), "")


def to_bundle(
    trace: Trace,
    *,
    run_id: str,
    source_id: str,
    status: RunStatus,
    anchor: str | int | None = None,
    metadata: dict[str, Any] | None = None,
) -> Converted:
    """The bundle of one canonical trace. `anchor` (a source step position or step id) becomes the run's
    user-supplied `anchor_step`; an anchor that names no step raises ValueError."""
    builder = _Builder(trace, run_id)
    spans = builder.build()
    task = trace.task or first_user_message(trace)
    title = trace.title or " ".join(first_user_message(trace).split())[:120] or source_id
    anchor_span = None
    if anchor is not None:
        wanted = str(anchor)
        anchor_span = next(
            (s.span_id for s in spans if str(s.source_step) == wanted or s.source_step_id == wanted),  # type: ignore[attr-defined]
            None,
        )
        if anchor_span is None:
            raise ValueError(f"the anchor {wanted!r} names no step of the trace")
    agents = [s.agent_name for s in spans if s.agent_name and s.agent_name != USER]
    bundle = foreign_bundle(
        run_id=run_id,
        trace_id=trace.trace_id,
        status=status,
        spans=spans,
        workflow=f"imported.{trace.source_format}",
        source_id=source_id,
        title=title,
        task=task,
        case_type=trace.case_type,
        version_set=trace.version_set,
        anchor_step=anchor_span,
        metadata={**(metadata or {}), "source_format": trace.source_format},
        final_agent=agents[-1] if agents else None,
    )
    return Converted(bundle, builder.unnamed, builder.positions)
