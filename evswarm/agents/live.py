"""Live mode: the same agents on a real model through the SDK's OpenAI client (any compatible server).

Every agent resolves to one Chat Completions model, wrapped so each call is recorded into the bundle.
The OpenAI client times requests out and retries 429, 5xx and dropped connections with exponential
backoff (honouring Retry-After). What still fails is turned into a `ModelServerError` with a stable
code and a one-line message naming the server; the runner records the run as failed with them. Once
the server has shown it cannot serve this batch at all (bad key, nothing listening, unknown model),
later runs fail at once with the same error instead of waiting through the retries again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from agents import (
    Handoff,
    Model,
    ModelProvider,
    ModelResponse,
    ModelSettings,
    ModelTracing,
    OpenAIChatCompletionsModel,
    Tool,
)
from agents.agent_output import AgentOutputSchemaBase
from agents.items import TResponseInputItem
from agents.tracing import SpanError, generation_span
from openai import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
)

from evswarm.agents.policy.model import POLICY_PREFIX, RecordingModel

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_RETRIES = 4
NOT_ATTEMPTED_NOTE = " (not attempted again: an earlier run of this batch failed the same way)"

MODEL_ERROR_CODES = frozenset(
    {
        "model_auth_error",
        "model_unreachable",
        "model_not_found",
        "model_timeout",
        "model_rate_limited",
        "model_server_error",
        "model_bad_request",
        "model_bad_response",
        "model_error",
    }
)
"""`error_code`s of runs that failed because the model server could not answer (live mode only)."""

REQUEST_TIMEOUT_S = DEFAULT_TIMEOUT_S
"""Seconds one model request may take before it is abandoned (and retried)."""
MAX_RETRIES = DEFAULT_RETRIES
"""The OpenAI client retries timeouts, dropped connections, 429 and 5xx this many times, backing off."""

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class ModelFailure:
    """Why the model server could not answer: a stable code, a readable line, and whether retrying is pointless."""

    code: str
    message: str
    fatal: bool = False
    """True when every later run would fail the same way (bad key, nothing listening, unknown model)."""


class ModelServerError(Exception):
    """A model call that failed for good; the runner records the run as failed with `failure`."""

    def __init__(self, failure: ModelFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _server_said(exc: APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return f": {message}"
    return ""


def _cause(exc: BaseException) -> str:
    """The innermost reason of a connection error, in words."""
    chain = [exc]
    while (nxt := chain[-1].__cause__ or chain[-1].__context__) is not None and nxt not in chain:
        chain.append(nxt)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused (nothing is listening there; is the server running?)"
    return str(chain[-1]) or type(chain[-1]).__name__


def describe_failure(exc: APIError, *, server: str, model: str, timeout: float, retries: int) -> ModelFailure:
    """Turn an OpenAI client error (after its own retries) into a code and one line a user can act on."""
    at = f"the model server at {server}"
    tried = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
    if isinstance(exc, APITimeoutError):
        return ModelFailure("model_timeout", f"{at} did not answer within {timeout:g}s{tried}")
    if isinstance(exc, APIConnectionError):
        return ModelFailure("model_unreachable", f"{at} cannot be reached: {_cause(exc)}", fatal=True)
    if isinstance(exc, APIResponseValidationError):
        return ModelFailure("model_bad_response", f"{at} sent a response that is not a chat completion: {exc}")
    if isinstance(exc, APIStatusError):
        status, said = exc.status_code, _server_said(exc)
        if status == 401:
            return ModelFailure("model_auth_error", f"{at} rejected the API key (HTTP 401){said}", fatal=True)
        if status == 403:
            return ModelFailure(
                "model_auth_error", f"{at} refused access with this API key (HTTP 403){said}", fatal=True
            )
        if status == 404:
            return ModelFailure(
                "model_not_found",
                f"{at} has no model {model!r} or no chat completions endpoint (HTTP 404){said}",
                fatal=True,
            )
        if status == 429:
            return ModelFailure("model_rate_limited", f"{at} kept rate-limiting requests (HTTP 429){tried}{said}")
        if status >= 500:
            return ModelFailure("model_server_error", f"{at} kept failing (HTTP {status}){tried}{said}")
        return ModelFailure("model_bad_request", f"{at} rejected the request (HTTP {status}){said}")
    return ModelFailure("model_error", f"{at} failed: {type(exc).__name__}: {exc}")


class Breaker:
    """Remembers a fatal failure so the rest of the batch fails fast instead of retrying a hopeless server."""

    def __init__(self) -> None:
        self.tripped: ModelFailure | None = None

    def check(self, model: str, tracing: ModelTracing) -> None:
        """Fail at once if tripped, leaving the same failed generation span a real failed call leaves."""
        if self.tripped is None:
            return
        failure = ModelFailure(self.tripped.code, self.tripped.message + NOT_ATTEMPTED_NOTE, fatal=True)
        with generation_span(model=model, disabled=tracing.is_disabled()) as span:
            span.set_error(SpanError(message="Error getting response", data={"error": failure.message}))
        raise ModelServerError(failure)

    def record(self, failure: ModelFailure) -> None:
        if failure.fatal and self.tripped is None:
            self.tripped = failure


class LiveModel(OpenAIChatCompletionsModel):
    """The SDK's Chat Completions model, with client errors turned into `ModelServerError`."""

    def __init__(self, model: str, client: AsyncOpenAI, provider: LiveProvider) -> None:
        super().__init__(model=model, openai_client=client)
        self.provider = provider

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        self.provider.breaker.check(str(self.model), tracing)
        try:
            return await super().get_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id=previous_response_id,
                conversation_id=conversation_id,
                prompt=prompt,
            )
        except APIError as exc:
            failure = self.provider.describe(exc)
            self.provider.breaker.record(failure)
            raise ModelServerError(failure) from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # a 200 that is no chat completion
            at, said = f"the model server at {self.provider.server}", f"{type(exc).__name__}: {exc}"[:160]
            message = f"{at} sent a response that is not a chat completion; is that the API root? ({said})"
            raise ModelServerError(ModelFailure("model_bad_response", message)) from exc


class LiveProvider(ModelProvider):
    """Every agent's `policy/<Agent>` name resolves to the one live model, wrapped so each call is recorded.

    The HTTP client keeps connections alive within a run. Pooled connections belong to the event loop
    that opened them, so the runner closes the provider after each run (as the SDK does with providers
    it owns) and the next run opens a fresh client; a client is also never carried into another loop.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.breaker = Breaker()
        self._client: AsyncOpenAI | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._models: dict[str, Model] = {}
        self.server = str(self.client.base_url).rstrip("/") or DEFAULT_BASE_URL

    @property
    def client(self) -> AsyncOpenAI:
        """The client for the running event loop (a new one after `aclose` or in another loop)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
        if self._client is None or loop is not self._loop:
            self._client = AsyncOpenAI(
                api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries
            )
            self._loop = loop
            self._models.clear()
        return self._client

    def describe(self, exc: APIError) -> ModelFailure:
        return describe_failure(
            exc, server=self.server, model=self.model, timeout=self.timeout, retries=self.max_retries
        )

    def get_model(self, model_name: str | None) -> Model:
        client = self.client
        agent = (model_name or "").removeprefix(POLICY_PREFIX) or "Orchestrator"
        if agent not in self._models:
            self._models[agent] = RecordingModel(LiveModel(self.model, client, self), agent)
        return self._models[agent]

    async def aclose(self) -> None:
        """Close the pooled connections of this loop's client; the next run opens a new one."""
        client, self._client = self._client, None
        self._models.clear()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
