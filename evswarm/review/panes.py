"""Canonical trace -> the three panes (Reasoning | Function Calls | Final Answer) with step numbers.

Steps of one model turn share a step number (a *cycle*): a reasoning step and the calls it led to are
linked across panes. Results nest under their call by `call_id`, never by position.
"""

from __future__ import annotations

from typing import Any

from evswarm.core.steps import Step, StepKind, Trace

_REASONING_KINDS = (StepKind.REASONING, StepKind.MESSAGE, StepKind.SYSTEM, StepKind.ERROR, StepKind.ANSWER)


class _Cycles:
    """Assigns step numbers: a new cycle per model turn (group), or when text follows calls."""

    def __init__(self) -> None:
        self.index = -1
        self.group: str | None = None
        self.has_calls = False

    def _open(self, group: str | None) -> int:
        self.index += 1
        self.group = group
        self.has_calls = False
        return self.index

    def text(self, step: Step) -> int:
        if self.index < 0:
            return self._open(step.group)
        if step.group is not None:
            return self.index if step.group == self.group else self._open(step.group)
        return self._open(None) if self.has_calls else self.index

    def call(self, step: Step) -> int:
        if self.index < 0 or (step.group is not None and step.group != self.group):
            self._open(step.group)
        self.has_calls = True
        return self.index

    def current(self) -> int:
        return self.index if self.index >= 0 else self._open(None)


def _card(step: Step, cycle: int) -> dict[str, Any]:
    card = step.model_dump(mode="json", exclude_none=True, exclude={"group"})
    card["cycle"] = cycle
    return card


def build_panes(trace: Trace) -> dict[str, Any]:
    """The JSON the trace page renders: three lists of cards sharing `cycle` numbers."""
    cycles = _Cycles()
    reasoning: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    by_call_id: dict[str, dict[str, Any]] = {}
    answer: dict[str, Any] | None = None
    for step in trace.steps:
        if step.kind in _REASONING_KINDS:
            card = _card(step, cycles.text(step))
            if step.kind is StepKind.ANSWER:
                answer = card
            else:
                reasoning.append(card)
        elif step.kind in (StepKind.TOOL_CALL, StepKind.HANDOFF):
            card = _card(step, cycles.call(step))
            card["results"] = []
            calls.append(card)
            if step.call_id:
                by_call_id[step.call_id] = card
        else:  # a tool result
            parent = by_call_id.get(step.call_id or "")
            if parent is not None:
                parent["results"].append(_card(step, parent["cycle"]))
            else:
                card = _card(step, cycles.current())
                card["kind"] = "orphan_result"
                card["results"] = []
                calls.append(card)
    span_steps: dict[str, list[str]] = {}
    for step in trace.steps:
        if step.span_id:
            span_steps.setdefault(step.span_id, []).append(step.step_id)
    return {
        "reasoning": reasoning,
        "calls": calls,
        "answer": answer,
        "cycles": cycles.index + 1,
        "agents": trace.agents(),
        "span_steps": span_steps,
    }
