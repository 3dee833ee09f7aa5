"""What an agent has seen: a parsed view of the conversation the SDK hands the model.

Policies decide from this view only (instructions, conversation, tool outputs), never from the world.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

HANDOFF_PREFIX = "transfer_to_"


def handoff_tool_name(agent_name: str) -> str:
    """The SDK's default handoff tool name for an agent."""
    return HANDOFF_PREFIX + "".join(c if c.isalnum() or c == "_" else "_" for c in agent_name.lower())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class ToolResult:
    name: str
    arguments: dict[str, Any]
    output: Any
    call_id: str
    position: int

    @property
    def failed(self) -> bool:
        return isinstance(self.output, dict) and "error" in self.output


@dataclass
class ConversationView:
    """The conversation so far, indexed for policies."""

    me: str
    items: list[dict[str, Any]]
    results: list[ToolResult] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    briefs: list[dict[str, Any]] = field(default_factory=list)
    visit_start: int = 0
    visits_to_me: int = 0

    @classmethod
    def parse(cls, me: str, items: list[dict[str, Any]], memo: dict[str, Any] | None = None) -> ConversationView:
        """Index the conversation; `memo` (per run) keeps decoded payloads by call id across turns."""
        view = cls(me=me, items=items)
        memo = {} if memo is None else memo

        def decoded(key: str, raw: Any) -> Any:
            if key not in memo:
                memo[key] = _parse(raw)
            return memo[key]

        my_handoff = handoff_tool_name(me)
        calls: dict[str, tuple[str, dict[str, Any], int]] = {}
        for position, item in enumerate(items):
            kind = item.get("type")
            if kind == "function_call":
                name = item.get("name", "")
                args = decoded("a:" + item["call_id"], item.get("arguments") or "{}")
                if name.startswith(HANDOFF_PREFIX):
                    if isinstance(args, dict) and "status" in args:
                        view.reports.append(args)
                    elif isinstance(args, dict) and "task" in args:
                        view.briefs.append(args)
                    if name == my_handoff:
                        view.visit_start = position
                        view.visits_to_me += 1
                else:
                    calls[item["call_id"]] = (name, args if isinstance(args, dict) else {}, position)
            elif kind == "function_call_output" and item.get("call_id") in calls:
                name, args, at = calls[item["call_id"]]
                output = decoded("o:" + item["call_id"], item.get("output"))
                view.results.append(ToolResult(name, args, output, item["call_id"], at))
        return view

    # --- tool results ----------------------------------------------------------------------------------

    def latest(self, tool: str) -> Any:
        """Output of the most recent successful call of `tool` anywhere in the conversation."""
        for result in reversed(self.results):
            if result.name == tool and not result.failed:
                return result.output
        return None

    def in_visit(self, tool: str) -> ToolResult | None:
        """The latest call of `tool` during the current visit to this agent (failed or not)."""
        for result in reversed(self.results):
            if result.position < self.visit_start:
                return None
            if result.name == tool:
                return result
        return None

    def missing(self, *tools: str) -> list[str]:
        """Tools not yet called successfully in this visit (a failed call counts as missing: retry)."""
        out = []
        for tool in tools:
            result = self.in_visit(tool)
            if result is None or result.failed:
                out.append(tool)
        return out

    def failures(self, tool: str) -> int:
        """Failed calls of `tool` during the current visit to this agent."""
        return sum(1 for r in self.results if r.position >= self.visit_start and r.name == tool and r.failed)

    # --- reports ---------------------------------------------------------------------------------------

    def report(self, agent: str) -> dict[str, Any] | None:
        for report in reversed(self.reports):
            if report.get("agent") == agent:
                return report
        return None

    @property
    def order(self) -> dict[str, Any]:
        order = self.latest("load_order")
        if isinstance(order, dict):
            return order
        for item in self.items:
            if item.get("role") == "user":
                text = str(item.get("content", ""))
                parsed = _parse(text[text.find("{") :]) if "{" in text else None
                if isinstance(parsed, dict):
                    return parsed
        return {}
