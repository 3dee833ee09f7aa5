"""Indexes over one bundle that the rubric graders share (spans by tool, agents consulted, events)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from evswarm.core.bundle import Bundle, EventRecord, FinalDecision, SpanRecord

RELEASING = frozenset({"release", "adjust_price", "reroute", "substitute_supplier"})
"""Decisions that let the order go to production (anything but hold, clarification or block)."""


@dataclass
class BundleView:
    """Read-only helpers over a validated bundle. Never touches the bundle's planted-fault records."""

    bundle: Bundle
    _tool_spans: dict[str, list[SpanRecord]] = field(default_factory=dict, init=False)

    @property
    def final_decision(self) -> FinalDecision | None:
        return self.bundle.run.summary.final_decision

    @property
    def terminal_state(self) -> str:
        summary = self.bundle.run.summary
        return summary.terminal_state or self.bundle.run.status

    @cached_property
    def agent_spans(self) -> list[SpanRecord]:
        return [s for s in self.bundle.spans if s.span_type == "agent"]

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
        return bool(decision and decision.decision.value in RELEASING and self.terminal_state == "completed")


@dataclass(frozen=True)
class Report:
    """An agent's structured report: the generation span whose function call hands control on."""

    span_id: str
    agent: str
    target: str  # the receiving agent's name (as spelled in the run, when known)
    args: dict[str, Any]
    index: int  # position of the span in the bundle's span list


def reports(view: BundleView) -> list[Report]:
    """Every handoff report in trace order (`transfer_to_*` calls and their JSON arguments)."""
    names = {str(n).lower(): str(n) for n in view.bundle.run.summary.specialist_activations}
    for span in view.agent_spans:
        for n in [span.span_data.get("name"), *(span.span_data.get("handoffs") or [])]:
            if n:
                names[str(n).lower()] = str(n)
    out: list[Report] = []
    for i, span in enumerate(view.bundle.spans):
        if span.span_type != "generation":
            continue
        for item in span.span_data.get("output") or []:
            if not isinstance(item, dict) or item.get("type") != "function_call":
                continue
            name = str(item.get("name") or "")
            if not name.startswith("transfer_to_"):
                continue
            try:
                args = json.loads(item.get("arguments") or "{}")
            except ValueError:
                args = {}
            out.append(
                Report(
                    span.span_id,
                    str(span.agent_name),
                    names.get(name[len("transfer_to_") :], name[len("transfer_to_") :]),
                    args if isinstance(args, dict) else {},
                    i,
                )
            )
    return out


def report_after(view: BundleView, span: SpanRecord) -> str | None:
    """The report its agent filed after a tool span: where the agent decided what the tool showed."""
    spans = view.bundle.spans
    start = next((i for i, s in enumerate(spans) if s.span_id == span.span_id), None)
    if start is None:
        return None
    for report in reports(view):
        if report.index > start and report.agent == span.agent_name:
            return report.span_id
    return None


def spans_mentioning(view: BundleView, needles: list[str]) -> list[SpanRecord]:
    """Function spans whose output names any of `needles` (a signal's id or its subject)."""
    wanted = [n for n in needles if n]
    hits = []
    for span in view.bundle.spans:
        if span.span_type != "function":
            continue
        text = str(span.span_data.get("output") or "")
        if any(n in text for n in wanted):
            hits.append(span)
    return hits


def blocking_report(view: BundleView) -> tuple[str | None, str | None]:
    """The report a stop rested on: the last report with status 'blocked', else the last one carrying an
    error finding. Returns its span and agent (None, None when no report asked to stop)."""
    filed = reports(view)
    blocked = [r for r in filed if r.args.get("status") == "blocked"]
    erred = [
        r
        for r in filed
        if any(isinstance(f, dict) and f.get("severity") == "error" for f in r.args.get("findings") or [])
    ]
    chosen = blocked or erred
    return (chosen[-1].span_id, chosen[-1].agent) if chosen else (None, None)
