"""Helpers shared by the import formats: the error type, text rendering and call/result pairing."""

from __future__ import annotations

from typing import Any

import orjson

from evswarm.core.limits import PRETTY_LIMIT, clip, loads_bounded
from evswarm.core.speakers import is_person
from evswarm.core.steps import Step, StepKind


class ImportFormatError(ValueError):
    """A payload that no format accepts, or that a format rejects; the message says why (HTTP 422)."""


def _dump(value: Any) -> str:
    """Compact JSON when long (re-indenting deep JSON can grow it many times over), else indented."""
    try:
        compact = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        if len(compact) > PRETTY_LIMIT:
            return compact.decode()
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # too deep, or an integer past 64 bits
        return str(value)


def as_text(value: Any) -> str:
    """Render a value for display, at most MAX_TEXT characters: strings as-is (JSON strings that are short
    and shallow enough pretty-printed), the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            parsed = loads_bounded(stripped)
            if parsed is not None:
                return clip(_dump(parsed))
        return clip(value)
    return clip(_dump(value))


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def get_list(mapping: dict[str, Any], key: str, where: str) -> list[Any]:
    """`mapping[key]` as a list: [] when absent or null; ImportFormatError naming `where.key` otherwise."""
    value = mapping.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFormatError(f"`{where}.{key}`: expected a list, found {type_name(value)}")
    return value


def get_dict(mapping: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """`mapping[key]` as an object: {} when absent or null; ImportFormatError naming `where.key` otherwise."""
    value = mapping.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportFormatError(f"`{where}.{key}`: expected an object, found {type_name(value)}")
    return value


def opt_str(value: Any) -> str | None:
    """A string or number as a string; anything else (null, objects, lists, booleans) as None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


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
        if step.kind is StepKind.MESSAGE and not is_person(step.label or ""):
            step.kind = StepKind.ANSWER
            return how
    return "none"
