"""OpenAI chat messages (with tool calls), and multi-agent chat logs, -> canonical trace.

An assistant message's text and the tool calls it makes share one step number; `tool` messages pair
with their calls by `tool_call_id`. The final answer is the last assistant message with no tool call
after it.

Multi-agent chat logs (group chats under an orchestrator, an agent talking to a simulated user) are
read too: the speaking agent is the message's `name`, `speaker`, `agent` or `sender`, or the speaker in
a role such as `"Planner (-> Coder)"`; a trailing note in parentheses (`"Orchestrator (thought)"`,
`"Orchestrator (-> WebSurfer)"`) is dropped from the name. `human` is the user. In a log that names two
or more speakers, a `user` message with a name is one of the agents speaking (group-chat frameworks
send other agents' turns as `user`), not the person; a `user` message named `user` or `human` stays the
person. Tool results may be plain strings. Every message becomes one step (`m<index>`, the index in the
source list), so a label that names a message by its position names that step.
"""

from __future__ import annotations

import re
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
from evswarm.core.speakers import is_person, named_kind
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


_ADDRESSED = re.compile(r"^\s*(?P<speaker>[^()]*?)\s*\((?:->|→|to)\s*(?P<to>[^)]*)\)\s*$")
_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_SPEAKER_KEYS = ("name", "speaker", "agent", "sender")


def speaker_name(text: str) -> str:
    """An agent's name without a trailing note: `Orchestrator (-> WebSurfer)` -> `Orchestrator`."""
    return _NOTE.sub("", text).strip() or text.strip()


def _role_and_speaker(message: dict[str, Any], where: str) -> tuple[str, str | None]:
    """The message's role (one of system, developer, user, assistant, tool, function) and its speaker."""
    named = first_str(message, *_SPEAKER_KEYS)
    if "role" not in message:  # a speaker with no role: an agent, or the person
        return ("user" if named and is_person(speaker_name(named)) else "assistant"), named
    raw = message["role"]
    role = opt_str(raw)
    if role is None:
        raise ImportFormatError(f"`{where}.role`: expected a string, found {type_name(raw)}")
    lowered = role.strip().lower()
    if lowered == "human":
        return "user", named
    if lowered in _ROLES:
        return lowered, named
    addressed = _ADDRESSED.match(role)
    if addressed and addressed.group("speaker"):
        return "assistant", named or addressed.group("speaker")
    raise ImportFormatError(f"`{where}.role`: unknown role {role[:40]!r}")


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _speakers(messages: list[Any]) -> set[str]:
    """Distinct speaker names in a log (people aside)."""
    names: set[str] = set()
    for message in messages:
        if isinstance(message, dict):
            named = first_str(message, *_SPEAKER_KEYS)
            if named and not is_person(speaker_name(named)):
                names.add(speaker_name(named))
    return names


def read_messages(messages: list[Any]) -> tuple[list[Step], str]:
    """Steps of a chat transcript and how the final answer was found."""
    if not messages:
        raise ImportFormatError("`messages` is empty")
    if len(messages) > MAX_STEPS:
        raise ImportFormatError(f"`messages`: {len(messages):,} messages, more than the {MAX_STEPS:,} allowed")
    steps: list[Step] = []
    pairer = CallPairer()
    group_chat = len(_speakers(messages)) >= 2
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or ("role" not in message and not first_str(message, *_SPEAKER_KEYS)):
            raise ImportFormatError(f"`{where}`: expected an object with a `role` (or a `name` or `speaker`)")
        role, named = _role_and_speaker(message, where)
        speaker = speaker_name(named) if named else None
        if role == "user" and speaker and not is_person(speaker) and (group_chat or named_kind(speaker) == "agents"):
            role = "assistant"  # another agent's turn, sent as `user` by a group-chat framework (or said to be one)
        agent = speaker if role in ("assistant", "tool", "function") else None
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
    for step in reversed(steps):
        if step.kind in (StepKind.TOOL_CALL, StepKind.TOOL_RESULT):
            return steps, "none"
        if step.kind is StepKind.MESSAGE and step.label == "assistant":
            step.kind = StepKind.ANSWER
            return steps, "last assistant message with no tool call after it"
    return steps, "none"
