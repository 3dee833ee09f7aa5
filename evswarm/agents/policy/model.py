"""SDK `Model` implementations: the offline policy model, and the recorder every model is wrapped in.

The policy model's every decision is a deterministic function of what the agent has seen. It emits a
short reasoning item, then acts (tool calls, a handoff carrying its report, or the final answer).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from agents import Handoff, Model, ModelProvider, ModelResponse, Usage
from agents.items import TResponseInputItem, TResponseOutputItem
from agents.tracing import generation_span
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
)
from openai.types.responses.response_reasoning_item import Summary

from evswarm.agents.model_request import ModelRequest, RequestModel, conversation_items
from evswarm.agents.policy.actions import Action, CallTools, Finish, HandOff, PolicyContext
from evswarm.agents.policy.registry import decide
from evswarm.agents.policy.view import ConversationView
from evswarm.agents.state import current_run
from evswarm.core.bundle import ModelCall

POLICY_PREFIX = "policy/"


def _slug(agent_name: str) -> str:
    return "".join(c for c in agent_name.lower() if c.isalnum())[:12]


def render(action: Action, agent_name: str, handoffs: list[Handoff], position: int) -> list[TResponseOutputItem]:
    """Turn a policy action into Responses output items with deterministic ids."""
    key = f"{_slug(agent_name)}_{position}"
    out: list[TResponseOutputItem] = [
        ResponseReasoningItem(
            id=f"rs_{key}", type="reasoning", summary=[Summary(text=action.thought, type="summary_text")]
        )
    ]
    if isinstance(action, CallTools):
        out += [
            ResponseFunctionToolCall(
                type="function_call",
                id=f"fc_{key}_{n}",
                call_id=f"call_{key}_{n}",
                name=c.tool,
                arguments=json.dumps(c.args, sort_keys=True),
                status="completed",
            )
            for n, c in enumerate(action.calls)
        ]
    elif isinstance(action, HandOff):
        tool_name = next(h.tool_name for h in handoffs if h.agent_name == action.target)
        out.append(
            ResponseFunctionToolCall(
                type="function_call",
                id=f"fc_{key}_h",
                call_id=f"call_{key}_h",
                name=tool_name,
                arguments=json.dumps(action.payload, sort_keys=True),
                status="completed",
            )
        )
    elif isinstance(action, Finish):
        text = json.dumps(action.output, sort_keys=True)
        out.append(
            ResponseOutputMessage(
                type="message",
                id=f"msg_{key}",
                role="assistant",
                status="completed",
                content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
            )
        )
    return out


def _usage(items: list[dict[str, Any]], output: list[TResponseOutputItem]) -> Usage:
    """Token estimates (characters of JSON / 4): deterministic stand-ins for a real model's counts."""
    input_tokens = len(orjson.dumps(items, default=str)) // 4
    output_tokens = sum(len(o.model_dump_json()) for o in output) // 4
    return Usage(
        requests=1, input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )


class PolicyModel(RequestModel):
    """The offline model of one agent: a deterministic policy over the conversation."""

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name
        self.name = POLICY_PREFIX + agent_name

    async def respond(self, request: ModelRequest) -> ModelResponse:
        items = request.items
        run = current_run.get(None)
        context = (
            PolicyContext(
                self.agent_name, frozenset(run.active_faults), run.stream(self.agent_name), run.record_decision
            )
            if run
            else PolicyContext(self.agent_name)
        )
        view = ConversationView.parse(self.agent_name, items, run.decoded_payloads if run else None)
        action = decide(self.agent_name, view, context)
        output = render(action, self.agent_name, request.handoffs, len(items))
        usage = _usage(items, output)
        with generation_span(
            model=self.name, model_config={"policy": "deterministic"}, disabled=request.tracing.is_disabled()
        ) as span:
            if request.tracing.include_data():
                last = items[-1] if items else {}
                span.span_data.input = [
                    {"item_count": len(items), "last_item_type": last.get("type", last.get("role"))}
                ]
                span.span_data.output = [o.model_dump(exclude_none=True) for o in output]
            span.span_data.usage = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        return ModelResponse(output=output, usage=usage, response_id=None)


def input_digest(input: str | list[TResponseInputItem]) -> str:
    """A stable fingerprint of what a model was shown (replay compares it)."""
    raw = orjson.dumps(conversation_items(input), option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(raw).hexdigest()[:16]


class RecordingModel(RequestModel):
    """Wraps any model and appends each call (input fingerprint, full output items) to the run's record."""

    def __init__(self, inner: Model, agent_name: str) -> None:
        self.inner = inner
        self.agent_name = agent_name
        self.name = str(getattr(inner, "name", None) or getattr(inner, "model", None) or type(inner).__name__)

    async def respond(self, request: ModelRequest) -> ModelResponse:
        response = await request.send_to(self.inner)
        run = current_run.get(None)
        if run is not None:
            run.model_calls.append(
                ModelCall(
                    index=len(run.model_calls),
                    agent_name=self.agent_name,
                    model=getattr(self.inner, "current_model", None) or self.name,
                    input_item_count=len(request.items),
                    input_digest=input_digest(request.input),
                    output=[o.model_dump(exclude_none=True) for o in response.output],
                    usage={"input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens},
                )
            )
        return response


class PolicyProvider(ModelProvider):
    """Resolves an agent's model name `policy/<AgentName>` to that agent's recorded policy model."""

    def __init__(self) -> None:
        self._models: dict[str, Model] = {}

    def get_model(self, model_name: str | None) -> Model:
        name = model_name or POLICY_PREFIX + "Orchestrator"
        if name not in self._models:
            agent = name.removeprefix(POLICY_PREFIX)
            self._models[name] = RecordingModel(PolicyModel(agent), agent)
        return self._models[name]
