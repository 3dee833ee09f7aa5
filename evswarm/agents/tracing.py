"""Capturing a run: the tracing processor that turns each SDK trace into a bundle, and the run hooks
that keep the runtime event log."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, RunContextWrapper, RunHooks, Tool
from agents.tracing import Span, Trace, TracingProcessor, get_current_span

from evswarm.agents.state import RunState
from evswarm.core.bundle import Bundle, Oracle

log = logging.getLogger(__name__)

_DURATION_MS = {"generation": (350, 900), "function": (40, 260), "guardrail": (5, 25), "handoff": (2, 3)}
"""Simulated span durations by SDK span type: (minimum, spread) in milliseconds."""


@dataclass
class CapturedSpan:
    order: int
    sdk_id: str
    started_at: str
    ended_at: str = ""
    export: dict[str, Any] = field(default_factory=dict)


@dataclass
class Capture:
    """Everything recorded for one trace while it runs."""

    state: RunState
    oracle: Oracle
    trace_export: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    ended_at: str = ""
    spans: dict[str, CapturedSpan] = field(default_factory=dict)
    outcome: Any = None
    """How the run ended (set by the runner before the trace closes)."""


class BundleRecorder(TracingProcessor):
    """Installed with `set_trace_processors` in place of the SDK's exporter: nothing leaves the process.

    Spans get deterministic ids and simulated-clock times; when a trace ends its bundle is assembled.
    """

    def __init__(self, assemble: Callable[[Capture], Bundle]) -> None:
        self._assemble = assemble
        self._live: dict[str, Capture] = {}
        self._done: dict[str, Bundle | BaseException] = {}

    def expect(self, trace_id: str, state: RunState, oracle: Oracle) -> None:
        self._live[trace_id] = Capture(state=state, oracle=oracle)

    def set_outcome(self, trace_id: str, outcome: Any) -> None:
        self._live[trace_id].outcome = outcome

    def forget(self, trace_id: str) -> None:
        """Drop whatever is kept for a trace whose run was abandoned."""
        self._live.pop(trace_id, None)
        self._done.pop(trace_id, None)

    def take(self, trace_id: str) -> Bundle:
        result = self._done.pop(trace_id, None)
        if result is None:
            raise RuntimeError(f"trace {trace_id} ended without a bundle")
        if isinstance(result, BaseException):
            raise result
        return result

    def on_trace_start(self, trace: Trace) -> None:
        capture = self._live.get(trace.trace_id)
        if capture is not None:
            capture.trace_export = trace.export() or {}
            capture.started_at = capture.state.clock.now()

    def on_trace_end(self, trace: Trace) -> None:
        capture = self._live.pop(trace.trace_id, None)
        if capture is None or capture.outcome is None:
            return  # not ours, or a run abandoned by an exception (the runner re-raises it)
        capture.ended_at = capture.state.clock.now()
        try:
            self._done[trace.trace_id] = self._assemble(capture)
        except Exception as exc:  # kept and re-raised to the runner, which records a runner error
            log.exception("assembling bundle for %s failed", trace.trace_id)
            self._done[trace.trace_id] = exc

    def on_span_start(self, span: Span[Any]) -> None:
        capture = self._live.get(span.trace_id)
        if capture is None:
            return
        capture.state.clock.advance(1)
        capture.spans[span.span_id] = CapturedSpan(len(capture.spans), span.span_id, capture.state.clock.now())

    def on_span_end(self, span: Span[Any]) -> None:
        capture = self._live.get(span.trace_id)
        if capture is None or span.span_id not in capture.spans:
            return
        record = capture.spans[span.span_id]
        low, spread = _DURATION_MS.get(span.span_data.type, (1, 1))
        jitter = int(hashlib.sha256(f"{capture.state.run_key}:{record.order}".encode()).hexdigest()[:4], 16)
        capture.state.clock.advance(low + jitter % spread)
        record.ended_at = capture.state.clock.now()
        record.export = span.export() or {}

    def shutdown(self) -> None:
        self._live.clear()

    def force_flush(self) -> None:
        return None


def _current_span_id() -> str | None:
    span = get_current_span()
    return span.span_id if span is not None else None


class EventLog(RunHooks[RunState]):
    """Run hooks that write the runtime event log: agent activations, handoffs and tool calls."""

    async def on_agent_start(self, context: RunContextWrapper[RunState], agent: Agent[RunState]) -> None:
        state = context.context
        state.active_agent = agent.name
        if agent.name != "Orchestrator":
            state.activated.append(agent.name)
        state.add_event(
            "status",
            _current_span_id(),
            agent_name=agent.name,
            payload={"active_agent": agent.name, "run_status": "in_progress"},
        )

    async def on_handoff(
        self, context: RunContextWrapper[RunState], from_agent: Agent[RunState], to_agent: Agent[RunState]
    ) -> None:
        state = context.context
        state.handoff_pairs.append((from_agent.name, to_agent.name))
        state.add_event(
            "handoff",
            _current_span_id(),
            agent_name=from_agent.name,
            source_agent=from_agent.name,
            target_agent=to_agent.name,
        )

    async def on_tool_start(self, context: RunContextWrapper[RunState], agent: Agent[RunState], tool: Tool) -> None:
        span_id = _current_span_id()
        call_id = getattr(context, "tool_call_id", None)
        if span_id and call_id:
            context.context.tool_call_ids[span_id] = call_id

    async def on_tool_end(
        self, context: RunContextWrapper[RunState], agent: Agent[RunState], tool: Tool, result: object
    ) -> None:
        text = str(result)
        context.context.add_event(
            "tool_call",
            _current_span_id(),
            agent_name=agent.name,
            payload={
                "tool": tool.name,
                "call_id": getattr(context, "tool_call_id", None),
                "failed": text.startswith('{"error"'),
                "output_excerpt": text[:200],
            },
        )
