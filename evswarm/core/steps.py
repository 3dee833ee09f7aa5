"""The canonical trace model: every import format becomes a `Trace` of typed `Step`s.

The panes are derived from this model only, so a trace posted to the webhook, dropped in the watched
directory or read from a batch renders the same way.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TRACE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


class StepKind(StrEnum):
    """What a step is; decides its pane."""

    REASONING = "reasoning"  # Reasoning pane
    MESSAGE = "message"  # Reasoning pane (user input, intermediate assistant text)
    SYSTEM = "system"  # Reasoning pane (guardrails, system prompts)
    ERROR = "error"  # Reasoning pane, red
    TOOL_CALL = "tool_call"  # Function Calls pane
    HANDOFF = "handoff"  # Function Calls pane (a handoff is a call whose result is the next agent)
    TOOL_RESULT = "tool_result"  # nested under its call (paired by call_id)
    ANSWER = "answer"  # Final Answer pane


class Step(BaseModel):
    """One step of a trace, in trace order."""

    model_config = ConfigDict(extra="forbid")

    step_id: str
    kind: StepKind
    agent: str | None = None
    label: str | None = None  # a badge: the speaker or the original step type
    text: str = ""
    tool: str | None = None
    arguments: str | None = None
    call_id: str | None = None
    group: str | None = None  # steps of one model turn share a group (hence a step number)
    span_id: str | None = None
    timestamp: str | None = None
    duration_ms: float | None = None  # how long the step's span took (model turn, tool call, handoff)
    error: str | None = None
    data: dict[str, Any] | None = None  # structured payload (e.g. the FinalDecision)


class Finding(BaseModel):
    code: str
    severity: str
    message: str
    agent: str | None = None
    span_id: str | None = None


class Trace(BaseModel):
    """A trace in canonical form, whatever format it came in."""

    model_config = ConfigDict(extra="forbid")

    trace_id: str
    source_format: str
    title: str = ""
    task: str = ""
    case_type: str | None = None
    outcome: str | None = None
    version_set: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    refs: dict[str, str] = Field(default_factory=dict)  # other cited ids (event ids) -> span id
    answer_source: str = "none"  # how the final answer was chosen, shown in the UI
    steps: list[Step] = Field(default_factory=list)

    def agents(self) -> list[str]:
        """Agents in order of first appearance."""
        seen: dict[str, None] = {}
        for step in self.steps:
            if step.agent:
                seen.setdefault(step.agent, None)
        return list(seen)
