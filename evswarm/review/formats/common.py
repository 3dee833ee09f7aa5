"""Helpers shared by the import formats: the error type, text rendering and call/result pairing."""

from __future__ import annotations

from typing import Any

import orjson

from evswarm.review.model import Step, StepKind


class ImportFormatError(ValueError):
    """A payload that no format accepts, or that a format rejects; the message says why (HTTP 422)."""


def as_text(value: Any) -> str:
    """Render a value for display: strings as-is (JSON strings pretty-printed), the rest as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and len(stripped) < 2_000_000:
            try:
                return orjson.dumps(orjson.loads(stripped), option=orjson.OPT_INDENT_2).decode()
            except orjson.JSONDecodeError:
                return value
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return str(value)


def first_str(mapping: dict[str, Any], *keys: str) -> str | None:
    """The first of `keys` whose value is a non-empty string or number."""
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


class CallPairer:
    """Gives tool results a call id: their own, or the most recent call that has no result yet."""

    def __init__(self) -> None:
        self._open: list[Step] = []
        self._synthetic = 0

    def add_call(self, step: Step) -> None:
        if step.call_id is None:
            self._synthetic += 1
            step.call_id = f"call_{self._synthetic}"
        self._open.append(step)

    def pair(self, result: Step) -> None:
        """Set `result.call_id` when missing; an unmatched result stays an orphan (call_id None)."""
        if result.call_id is not None:
            self._open = [s for s in self._open if s.call_id != result.call_id]
            return
        if self._open:
            call = self._open.pop()
            result.call_id = call.call_id
            if result.agent is None:
                result.agent = call.agent


def split_call_text(text: str) -> tuple[str | None, str]:
    """`name(args)` -> ("name", "args"); anything else -> (None, text)."""
    head, sep, rest = text.partition("(")
    name = head.strip()
    if sep and rest.rstrip().endswith(")") and name.replace("_", "").replace(".", "").isalnum():
        return name, rest.rstrip()[:-1]
    return None, text


ANSWER_TOOLS = frozenset({"final_answer", "finish", "answer", "respond", "send_message", "submit"})


def is_answer_tool(name: str | None) -> bool:
    return name is not None and name.lower().replace(" ", "_") in ANSWER_TOOLS


def mark_last_message_as_answer(steps: list[Step], how: str) -> str:
    """Turn the last non-user message into the answer if nothing after it is a call; returns the source."""
    for step in reversed(steps):
        if step.kind in (StepKind.TOOL_CALL, StepKind.HANDOFF):
            return "none"
        if step.kind is StepKind.MESSAGE and (step.label or "").lower() not in ("user", "human"):
            step.kind = StepKind.ANSWER
            return how
    return "none"
