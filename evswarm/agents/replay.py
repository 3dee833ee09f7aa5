"""Replay: a model that answers with the outputs recorded in a bundle, in order, so the SDK Runner can
re-execute the run (tools, handoffs, guardrails, tracing) with no model and no key."""

from __future__ import annotations

from typing import Any

from agents import Model, ModelProvider, ModelResponse, Usage
from agents.items import TResponseOutputItem
from agents.tracing import SpanError, generation_span
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseReasoningItem

from evswarm.agents.live import MODEL_ERROR_CODES, ModelFailure, ModelServerError
from evswarm.agents.model_request import ModelRequest, RequestModel
from evswarm.agents.policy.model import POLICY_PREFIX, RecordingModel, input_digest
from evswarm.core.bundle import Bundle, ModelCall


class ReplayDivergenceError(RuntimeError):
    """The re-executed run asked for a model call the recording does not have (or from another agent)."""


def recorded_failure(bundle: Bundle) -> ModelFailure | None:
    """The model-server failure a live run ended with, which its replay raises again where the recording stops."""
    summary = bundle.run.summary
    if summary.error_code in MODEL_ERROR_CODES:
        return ModelFailure(summary.error_code, summary.error_message or summary.error_code)
    return None


def output_item(raw: dict[str, Any]) -> TResponseOutputItem:
    kind = raw.get("type")
    if kind == "function_call":
        return ResponseFunctionToolCall.model_validate(raw)
    if kind == "reasoning":
        return ResponseReasoningItem.model_validate(raw)
    if kind == "message":
        return ResponseOutputMessage.model_validate(raw)
    raise ReplayDivergenceError(f"recorded output item of unknown type {kind!r}")


class Script:
    """The recorded calls of one run and a cursor over them, shared by every agent's replay model."""

    def __init__(self, calls: list[ModelCall], failure: ModelFailure | None = None) -> None:
        self.calls = calls
        self.failure = failure
        """How a live run's model server failed right after the last recorded call (replayed as such)."""
        self.position = 0
        self.input_mismatches: list[str] = []

    def next_for(self, agent_name: str, digest: str) -> ModelCall:
        if self.position >= len(self.calls):
            raise ReplayDivergenceError(
                f"model call {self.position} by {agent_name}: the recording has only {len(self.calls)} calls"
            )
        call = self.calls[self.position]
        if call.agent_name != agent_name:
            raise ReplayDivergenceError(
                f"model call {self.position}: recorded for {call.agent_name}, but {agent_name} asked for it"
            )
        if call.input_digest != digest:
            self.input_mismatches.append(
                f"model call {self.position} by {agent_name}: the agent saw a different conversation than when "
                "it was recorded"
            )
        self.position += 1
        return call


class ReplayModel(RequestModel):
    def __init__(self, agent_name: str, provider: ReplayProvider) -> None:
        self.agent_name = agent_name
        self.provider = provider
        self.name = "replay/" + agent_name
        self.current_model = self.name
        """The recorded model's name, so a replayed run records the same model calls as the original."""

    async def respond(self, request: ModelRequest) -> ModelResponse:
        script = self.provider.script
        if script.failure is not None and script.position == len(script.calls):
            with generation_span(model=self.current_model, disabled=request.tracing.is_disabled()) as span:
                span.set_error(SpanError(message="Error getting response", data={"error": script.failure.message}))
            raise ModelServerError(script.failure)
        call = script.next_for(self.agent_name, input_digest(request.input))
        self.current_model = call.model
        output = [output_item(raw) for raw in call.output]
        with generation_span(model=call.model, disabled=request.tracing.is_disabled()) as span:
            if request.tracing.include_data():
                span.span_data.output = call.output
            span.span_data.usage = dict(call.usage)
        usage = Usage(
            requests=1,
            input_tokens=call.usage.get("input_tokens", 0),
            output_tokens=call.usage.get("output_tokens", 0),
            total_tokens=call.usage.get("input_tokens", 0) + call.usage.get("output_tokens", 0),
        )
        return ModelResponse(output=output, usage=usage, response_id=None)


class ReplayProvider(ModelProvider):
    """Resolves every agent to a replay model reading the current run's script (load one per run)."""

    def __init__(self) -> None:
        self.script = Script([])
        self._models: dict[str, Model] = {}

    def load(self, calls: list[ModelCall], failure: ModelFailure | None = None) -> Script:
        self.script = Script(calls, failure)
        return self.script

    def get_model(self, model_name: str | None) -> Model:
        agent = (model_name or "").removeprefix(POLICY_PREFIX) or "Orchestrator"
        if agent not in self._models:
            self._models[agent] = RecordingModel(ReplayModel(agent, self), agent)
        return self._models[agent]
