"""What the oracle-free rubrics read of any agent trace: agents' messages, tool calls and results, handoffs,
guardrails, errors and the user's messages, from the spans of a bundle (simulated, recorded or imported).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from evswarm.core.bundle import Bundle, SpanRecord

_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ToolResult:
    span_id: str
    tool: str
    arguments: str
    failed: bool
    text: str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True) if value is not None else ""


def failed_output(span: SpanRecord) -> bool:
    """A tool result that reports an error: a span error, or an output whose JSON has a non-empty `error`."""
    if span.error:
        return True
    output = span.span_data.get("output")
    if isinstance(output, str) and output.lstrip().startswith("{"):
        try:
            output = json.loads(output)
        except ValueError:
            return False
    return isinstance(output, dict) and bool(output.get("error"))


def words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


@dataclass
class TraceView:
    bundle: Bundle

    @cached_property
    def spans(self) -> list[SpanRecord]:
        return list(self.bundle.spans)

    @cached_property
    def tool_results(self) -> list[ToolResult]:
        return [
            ToolResult(s.span_id, str(s.span_data.get("name") or "tool"), _text(s.span_data.get("input")),
                       failed_output(s), _text(s.span_data.get("output")))
            for s in self.spans
            if s.span_type == "function"
        ]  # fmt: skip

    @cached_property
    def messages(self) -> list[tuple[SpanRecord, str]]:
        """(span, text) of every agent message, in order."""
        out = []
        for span in self.spans:
            if span.span_type not in ("generation", "response"):
                continue
            output = span.span_data.get("output")
            for item in output if isinstance(output, list) else []:
                if isinstance(item, dict) and item.get("type") == "message":
                    parts = item.get("content") or []
                    out.append((span, " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))))
        return out

    @cached_property
    def final_answer(self) -> tuple[SpanRecord, str] | None:
        """The last agent message, when no tool call or handoff came after it."""
        if not self.messages:
            return None
        span, text = self.messages[-1]
        later = self.spans[self.spans.index(span) + 1 :]
        if any(s.span_type in ("function", "handoff") for s in later):
            return None
        return span, text

    @cached_property
    def user_messages(self) -> list[tuple[str | None, str]]:
        """(span id, text) of the user's messages: the request the first model saw, then any later ones."""
        out: list[tuple[str | None, str]] = []
        for span in self.spans:
            data = span.span_data
            if span.span_type == "custom" and data.get("name") == "user_message":
                inner = data.get("data")
                out.append((span.span_id, str(inner.get("text") or "") if isinstance(inner, dict) else ""))
        if not out:
            for span in self.spans:
                items = span.span_data.get("input") if span.span_type in ("generation", "response") else None
                users = (
                    [i for i in items if isinstance(i, dict) and i.get("role") == "user"]
                    if isinstance(items, list)
                    else []
                )
                if users:
                    return [(span.span_id, _text(u.get("content"))) for u in users]
        return out

    @cached_property
    def run_errors(self) -> list[SpanRecord]:
        """Spans that record the run crashing (an agent span's error, an error step)."""
        return [
            s for s in self.spans
            if s.error and (s.span_type == "agent" or (s.span_type == "custom" and s.span_data.get("name") == "error"))
        ]  # fmt: skip

    @cached_property
    def terminal_event(self) -> str | None:
        for event in reversed(self.bundle.events):
            if event.event_type == "status":
                return event.event_id
        return None
