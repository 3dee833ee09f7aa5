"""Indexes over one bundle that the rubric graders share (spans by tool, agents consulted, events)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from evswarm.core.bundle import Bundle, EventRecord, FinalDecision, Oracle, SpanRecord


@dataclass
class BundleView:
    """Read-only helpers over a validated bundle. Never touches the bundle's planted-fault records."""

    bundle: Bundle
    _tool_spans: dict[str, list[SpanRecord]] = field(default_factory=dict, init=False)

    @property
    def oracle(self) -> Oracle:
        """The correct handling of the run's input; rubrics that need one only run on bundles that have it."""
        oracle = self.bundle.oracle
        if oracle is None:
            raise ValueError("this bundle has no oracle")
        return oracle

    @property
    def final_decision(self) -> FinalDecision | None:
        return self.bundle.run.summary.final_decision

    @property
    def terminal_state(self) -> str:
        summary = self.bundle.run.summary
        return (summary.terminal_state or self.bundle.run.status).value

    @cached_property
    def agent_spans(self) -> list[SpanRecord]:
        return [s for s in self.bundle.spans if s.span_type == "agent"]

    @cached_property
    def handoff_spans(self) -> list[SpanRecord]:
        return [s for s in self.bundle.spans if s.span_type == "handoff"]

    @cached_property
    def agent_visits(self) -> Counter[str]:
        """How many agent segments each agent ran (an agent span per turn of that agent)."""
        return Counter(str(s.span_data.get("name") or s.agent_name) for s in self.agent_spans)

    @cached_property
    def consulted(self) -> set[str]:
        """Agents that ran: agent spans plus the summary's specialist activations."""
        return set(self.agent_visits) | set(self.bundle.run.summary.specialist_activations)

    def first_agent_span(self, name: str) -> str | None:
        for span in self.agent_spans:
            if span.span_data.get("name") == name:
                return span.span_id
        return None

    def tool_spans(self, name: str) -> list[SpanRecord]:
        """Function spans of one tool, in trace order."""
        if not self._tool_spans:
            for span in self.bundle.spans:
                if span.span_type == "function":
                    self._tool_spans.setdefault(str(span.span_data.get("name")), []).append(span)
        return self._tool_spans.get(name, [])

    @staticmethod
    def tool_output(span: SpanRecord) -> Any:
        """A function span's output, decoded from its JSON string when it is one."""
        raw = span.span_data.get("output")
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except ValueError:
                return raw
        return raw

    def events(self, event_type: str) -> list[EventRecord]:
        return [e for e in self.bundle.events if e.event_type == event_type]

    @cached_property
    def terminal_event(self) -> str | None:
        """The last status event: where the run's terminal state is recorded."""
        for event in reversed(self.bundle.events):
            if event.event_type == "status":
                return event.event_id
        return None

    @cached_property
    def decision_span(self) -> str | None:
        """The span where the final decision was made: the deciding agent's last generation span."""
        decision = self.final_decision
        name = decision.decided_by if decision else "Orchestrator"
        for span in reversed(self.bundle.spans):
            if span.span_type == "generation" and span.agent_name == name:
                return span.span_id
        for span in reversed(self.agent_spans):
            if span.span_data.get("name") == name:
                return span.span_id
        return None

    @property
    def released(self) -> bool:
        """The order went through: a releasing decision and a run that completed."""
        decision = self.final_decision
        return bool(decision and decision.decision.releases and self.terminal_state == "completed")
