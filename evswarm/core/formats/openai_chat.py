"""OpenAI chat messages (with tool calls) -> canonical trace.

An assistant message's text and the tool calls it makes share one step number; `tool` messages pair
with their calls by `tool_call_id`. The final answer is the last assistant message with no tool call
after it.
"""

from __future__ import annotations

from typing import Any

from evswarm.core.formats.common import (
    CallPairer,
    ImportFormatError,
    as_text,
    first_str,
    get_dict,
    get_list,
    opt_str,
    type_name,
)
from evswarm.core.limits import MAX_STEPS
from evswarm.core.steps import Step, StepKind


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(as_text(part.get("text") or part.get("content")))
            else:
                parts.append(as_text(part))
        return "\n".join(p for p in parts if p)
    return as_text(content)


def read_messages(messages: list[Any]) -> tuple[list[Step], str]:
    """Steps of a chat transcript and how the final answer was found."""
    if not messages:
        raise ImportFormatError("`messages` is empty")
    if len(messages) > MAX_STEPS:
        raise ImportFormatError(f"`messages`: {len(messages):,} messages, more than the {MAX_STEPS:,} allowed")
    steps: list[Step] = []
    pairer = CallPairer()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or "role" not in message:
            raise ImportFormatError(f"`{where}`: expected an object with a `role`")
        role = opt_str(message["role"])
        if role is None:
            raise ImportFormatError(f"`{where}.role`: expected a string, found {type_name(message['role'])}")
        agent = first_str(message, "name") if role == "assistant" else None
        text = _content_text(message.get("content"))
        group = f"m{index}"
        if role in ("system", "developer"):
            steps.append(Step(step_id=f"m{index}", kind=StepKind.SYSTEM, label=role, text=text, group=group))
        elif role == "user":
            steps.append(Step(step_id=f"m{index}", kind=StepKind.MESSAGE, label="user", text=text, group=group))
        elif role == "assistant":
            calls = list(get_list(message, "tool_calls", where))
            if message.get("function_call"):
                calls.append({"function": get_dict(message, "function_call", where)})
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            if reasoning:
                steps.append(
                    Step(
                        step_id=f"m{index}.reasoning",
                        kind=StepKind.REASONING,
                        agent=agent,
                        label="reasoning",
                        text=_content_text(reasoning),
                        group=group,
                    )
                )
            if text:
                kind = StepKind.REASONING if calls else StepKind.MESSAGE
                steps.append(
                    Step(step_id=f"m{index}", kind=kind, agent=agent, label="assistant", text=text, group=group)
                )
            for number, call in enumerate(calls):
                if not isinstance(call, dict):
                    raise ImportFormatError(
                        f"`{where}.tool_calls[{number}]`: expected an object, found {type_name(call)}"
                    )
                function = get_dict(call, "function", f"{where}.tool_calls[{number}]")
                step = Step(
                    step_id=f"m{index}.call{number}",
                    kind=StepKind.TOOL_CALL,
                    agent=agent,
                    tool=first_str(function, "name") or first_str(call, "type") or "tool",
                    arguments=as_text(function.get("arguments")),
                    call_id=first_str(call, "id"),
                    group=group,
                )
                pairer.add_call(step)
                steps.append(step)
        elif role in ("tool", "function"):
            step = Step(
                step_id=f"m{index}",
                kind=StepKind.TOOL_RESULT,
                text=as_text(message.get("content")),
                call_id=first_str(message, "tool_call_id"),
                tool=first_str(message, "name"),
            )
            pairer.pair(step)
            steps.append(step)
        else:
            raise ImportFormatError(f"`{where}.role`: unknown role {role[:40]!r}")
    for step in reversed(steps):
        if step.kind in (StepKind.TOOL_CALL, StepKind.TOOL_RESULT):
            return steps, "none"
        if step.kind is StepKind.MESSAGE and step.label == "assistant":
            step.kind = StepKind.ANSWER
            return steps, "last assistant message with no tool call after it"
    return steps, "none"
