"""One seam for evswarm's own `Model` implementations: the SDK's long `get_response` signature is written once
here, bundled into a `ModelRequest`, and a model implements only `respond(request)`."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from agents import Handoff, Model, ModelResponse, ModelSettings, ModelTracing, Tool
from agents.agent_output import AgentOutputSchemaBase
from agents.items import TResponseInputItem, TResponseStreamEvent
from openai.types.responses import Response, ResponseCompletedEvent


def conversation_items(input: str | list[TResponseInputItem]) -> list[dict[str, Any]]:
    """The conversation as plain dicts (a bare string becomes one user message)."""
    if isinstance(input, str):
        return [{"role": "user", "content": input}]
    return [dict(item) for item in input]


@dataclass(frozen=True)
class ModelRequest:
    """Everything the Runner passes to a model for one call."""

    system_instructions: str | None
    input: str | list[TResponseInputItem]
    model_settings: ModelSettings
    tools: list[Tool]
    output_schema: AgentOutputSchemaBase | None
    handoffs: list[Handoff]
    tracing: ModelTracing
    previous_response_id: str | None = None
    conversation_id: str | None = None
    prompt: Any = None

    @property
    def items(self) -> list[dict[str, Any]]:
        return conversation_items(self.input)

    async def send_to(self, model: Model) -> ModelResponse:
        """Make the same call on another model (used by wrappers)."""
        return await model.get_response(
            self.system_instructions, self.input, self.model_settings, self.tools, self.output_schema,
            self.handoffs, self.tracing, previous_response_id=self.previous_response_id,
            conversation_id=self.conversation_id, prompt=self.prompt,
        )  # fmt: skip


class RequestModel(Model):
    """A model whose whole answer is known at once: implement `respond`; streaming yields one
    `response.completed` event."""

    name = "model"

    @abc.abstractmethod
    async def respond(self, request: ModelRequest) -> ModelResponse: ...

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        return await self.respond(
            ModelRequest(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id,
                conversation_id,
                prompt,
            )
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        request = ModelRequest(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            previous_response_id,
            conversation_id,
            prompt,
        )
        response = await self.respond(request)
        yield ResponseCompletedEvent(
            type="response.completed",
            sequence_number=0,
            response=Response(
                id=f"resp_{len(request.items)}",
                created_at=0,
                model=self.name,
                object="response",
                output=response.output,
                tool_choice="auto",
                tools=[],
                parallel_tool_calls=True,
                status="completed",
            ),
        )
