"""Potato-style step lists -> canonical trace.

Three step shapes are accepted (a list may mix them): `{speaker, text}`, `{thought, action,
observation}` and `{step_type, content}`; plain strings are typed from their wording. Results without a
call id attach to the most recent call that has none. Any other item is an error naming its index: a
step is never dropped without a word.
"""

from __future__ import annotations

import re
from typing import Any

from evswarm.core.formats.common import (
    CallPairer,
    ImportFormatError,
    as_text,
    first_str,
    is_answer_tool,
    mark_last_message_as_answer,
    opt_str,
    split_call_text,
)
from evswarm.core.limits import MAX_STEPS
from evswarm.core.steps import Step, StepKind

# Speaker keyword families, most specific first: "Tool Response" is a result, "Tool Error" an error.
_SPEAKER_FAMILIES: list[tuple[StepKind, tuple[str, ...]]] = [
    (StepKind.ANSWER, ("final answer", "final_answer", "final response", "finalanswer")),
    (StepKind.ERROR, ("error", "fail", "exception")),
    (StepKind.TOOL_RESULT, ("observation", "environment", "result", "output", "response", "tool return")),
    (StepKind.REASONING, ("thought", "reasoning", "planning", "think", "plan")),
    (StepKind.TOOL_CALL, ("action", "tool", "function", "call", "execute")),
    (StepKind.SYSTEM, ("system", "info", "metadata")),
]

_STEP_TYPES: dict[str, StepKind] = {
    "thought": StepKind.REASONING,
    "reasoning": StepKind.REASONING,
    "thinking": StepKind.REASONING,
    "plan": StepKind.REASONING,
    "action": StepKind.TOOL_CALL,
    "tool_call": StepKind.TOOL_CALL,
    "function_call": StepKind.TOOL_CALL,
    "observation": StepKind.TOOL_RESULT,
    "tool_result": StepKind.TOOL_RESULT,
    "function_result": StepKind.TOOL_RESULT,
    "final_answer": StepKind.ANSWER,
    "answer": StepKind.ANSWER,
    "error": StepKind.ERROR,
    "system": StepKind.SYSTEM,
    "handoff": StepKind.HANDOFF,
    "message": StepKind.MESSAGE,
    "user": StepKind.MESSAGE,
}

_THOUGHT_PREFIX = re.compile(r"^\s*(thought:|i need to|i should|let me|my plan|i will|first,)", re.I)
_CALL_SHAPE = re.compile(r"^\s*[A-Za-z_][\w.]*\(.*\)\s*$", re.S)


def _speaker_kind(speaker: str) -> StepKind:
    lowered = speaker.lower()
    for kind, words in _SPEAKER_FAMILIES:
        if any(word in lowered for word in words):
            return kind
    return StepKind.MESSAGE


def _call_step(step_id: str, text: str, *, agent: str | None, label: str | None, call_id: str | None) -> Step:
    tool, arguments = split_call_text(text)
    return Step(
        step_id=step_id,
        kind=StepKind.TOOL_CALL,
        agent=agent,
        label=label,
        tool=tool or label,
        arguments=as_text(arguments),
        call_id=call_id,
    )


def _structured_action(action: Any) -> tuple[str | None, str]:
    if isinstance(action, dict):
        name = first_str(action, "tool", "name", "function")
        params = action.get("params", action.get("parameters", action.get("arguments", action.get("input"))))
        return name, as_text(params)
    tool, arguments = split_call_text(as_text(action))
    return tool, as_text(arguments)


class _Reader:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.pairer = CallPairer()

    def add(self, step: Step) -> None:
        if step.kind in (StepKind.TOOL_CALL, StepKind.HANDOFF):
            self.pairer.add_call(step)
        elif step.kind is StepKind.TOOL_RESULT:
            self.pairer.pair(step)
        self.steps.append(step)

    def string(self, index: int, text: str) -> None:
        if _THOUGHT_PREFIX.match(text):
            self.add(Step(step_id=f"s{index}", kind=StepKind.REASONING, text=text))
        elif _CALL_SHAPE.match(text):
            self.add(_call_step(f"s{index}", text, agent=None, label=None, call_id=None))
        else:
            self.add(Step(step_id=f"s{index}", kind=StepKind.TOOL_RESULT, text=text))

    def speaker_text(self, index: int, item: dict[str, Any]) -> None:
        speaker = opt_str(item.get("speaker")) or ""
        text = as_text(item.get("text"))
        agent = first_str(item, "agent", "agent_id", "agent_name")
        explicit = item.get("step_type") or item.get("type")
        kind = (
            _STEP_TYPES.get((opt_str(explicit) or "").lower(), StepKind.REASONING)
            if explicit
            else _speaker_kind(speaker)
        )
        step_id = opt_str(item.get("step_id")) or f"s{index}"
        call_id = first_str(item, "call_id", "tool_call_id")
        if kind is StepKind.TOOL_CALL:
            step = _call_step(step_id, text, agent=agent, label=speaker, call_id=call_id)
            if step.tool == speaker and item.get("tool"):
                step.tool = opt_str(item["tool"]) or as_text(item["tool"])
            self.add(step)
            return
        self.add(
            Step(
                step_id=step_id,
                kind=kind,
                agent=agent,
                label=speaker or None,
                text=text,
                call_id=call_id,
                timestamp=first_str(item, "timestamp"),
            )
        )

    def triple(self, index: int, item: dict[str, Any]) -> None:
        agent = first_str(item, "agent", "agent_name")
        if item.get("thought"):
            self.add(
                Step(
                    step_id=f"s{index}.thought",
                    kind=StepKind.REASONING,
                    agent=agent,
                    label="thought",
                    text=as_text(item["thought"]),
                    group=f"g{index}",
                )
            )
        action = item.get("action", item.get("action_type"))
        if action:
            tool, arguments = _structured_action(action)
            kind = StepKind.ANSWER if is_answer_tool(tool) else StepKind.TOOL_CALL
            if kind is StepKind.ANSWER:
                self.add(
                    Step(
                        step_id=f"s{index}.action",
                        kind=kind,
                        agent=agent,
                        label=tool,
                        text=arguments,
                        group=f"g{index}",
                    )
                )
            else:
                self.add(
                    Step(
                        step_id=f"s{index}.action",
                        kind=kind,
                        agent=agent,
                        tool=tool or "action",
                        arguments=arguments,
                        group=f"g{index}",
                    )
                )
        observation = item.get("observation", item.get("output"))
        if observation is not None and observation != "":
            self.add(
                Step(
                    step_id=f"s{index}.observation",
                    kind=StepKind.TOOL_RESULT,
                    agent=agent,
                    label="observation",
                    text=as_text(observation),
                )
            )
        answer = item.get("final_answer", item.get("answer"))
        if answer:
            self.add(
                Step(
                    step_id=f"s{index}.answer",
                    kind=StepKind.ANSWER,
                    agent=agent,
                    text=as_text(answer),
                    group=f"g{index}",
                )
            )

    def typed(self, index: int, item: dict[str, Any]) -> None:
        step_type = opt_str(item["step_type"]) or as_text(item["step_type"])
        kind = _STEP_TYPES.get(step_type.lower(), StepKind.REASONING)
        text = as_text(item.get("content", item.get("text")))
        agent = first_str(item, "agent", "agent_name", "speaker")
        step_id = opt_str(item.get("step_id")) or f"s{index}"
        call_id = first_str(item, "call_id", "tool_call_id")
        if kind in (StepKind.TOOL_CALL, StepKind.HANDOFF):
            step = _call_step(step_id, text, agent=agent, label=step_type, call_id=call_id)
            step.kind = kind
            if item.get("tool"):
                step.tool = opt_str(item["tool"]) or as_text(item["tool"])
                step.arguments = as_text(item.get("arguments", item.get("content")))
            self.add(step)
            return
        self.add(Step(step_id=step_id, kind=kind, agent=agent, label=step_type, text=text, call_id=call_id))

    def item(self, index: int, item: Any) -> None:
        if isinstance(item, str):
            self.string(index, item)
        elif isinstance(item, dict) and "speaker" in item and "text" in item:
            self.speaker_text(index, item)
        elif isinstance(item, dict) and "step_type" in item and ("content" in item or "text" in item):
            self.typed(index, item)
        elif isinstance(item, dict) and any(k in item for k in ("thought", "action", "action_type", "observation")):
            self.triple(index, item)
        else:
            found = sorted(item)[:8] if isinstance(item, dict) else type(item).__name__
            raise ImportFormatError(
                f"step {index}: not a recognized step (found {found}); expected speaker/text, "
                "thought/action/observation or step_type/content"
            )


def read_steps(items: list[Any]) -> tuple[list[Step], str]:
    """Steps of a Potato step list and how the final answer was found."""
    if not items:
        raise ImportFormatError("the step list is empty")
    if len(items) > MAX_STEPS:
        raise ImportFormatError(f"the step list has {len(items):,} steps, more than the {MAX_STEPS:,} allowed")
    reader = _Reader()
    for index, item in enumerate(items):
        reader.item(index, item)
    steps = reader.steps
    answers = [s for s in steps if s.kind is StepKind.ANSWER]
    if answers:
        for extra in answers[:-1]:  # only the last explicit answer is the final one
            extra.kind = StepKind.MESSAGE
        return steps, "explicit final-answer step"
    return steps, mark_last_message_as_answer(steps, "inferred: last message with no call after it")
