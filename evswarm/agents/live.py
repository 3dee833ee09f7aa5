"""Live mode: the same agents on a real model through the SDK's OpenAI client (any compatible server)."""

from __future__ import annotations

from agents import Model, ModelProvider, OpenAIChatCompletionsModel
from openai import AsyncOpenAI

from evswarm.agents.policy.model import POLICY_PREFIX, RecordingModel

REQUEST_TIMEOUT_S = 60.0
MAX_RETRIES = 4
"""The OpenAI client retries 429 and 5xx responses with exponential backoff this many times."""


class LiveProvider(ModelProvider):
    """Every agent's `policy/<Agent>` name resolves to the one live model, wrapped so each call is recorded."""

    def __init__(self, model: str, *, api_key: str, base_url: str | None = None) -> None:
        self.model = model
        self.client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=REQUEST_TIMEOUT_S, max_retries=MAX_RETRIES
        )
        self._models: dict[str, Model] = {}

    def get_model(self, model_name: str | None) -> Model:
        agent = (model_name or "").removeprefix(POLICY_PREFIX) or "Orchestrator"
        if agent not in self._models:
            inner = OpenAIChatCompletionsModel(model=self.model, openai_client=self.client)
            self._models[agent] = RecordingModel(inner, agent)
        return self._models[agent]
