"""Model providers for a batch: the offline policy model, or `openai:MODEL` on a real (or compatible)
server, chosen per agent.

`--model` names the model of every agent whose version names none; a version file can put single
agents on another model (`model: openai:MODEL`, optional `base_url`), so only the changed agent runs
on it. Live mode reads the key from OPENAI_API_KEY, and two optional knobs from the environment:
EVSWARM_MODEL_TIMEOUT (seconds per request, default 120) and EVSWARM_MODEL_RETRIES (retries of a
timed-out, dropped, 429 or 5xx request, with exponential backoff; default 4).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents import Model, ModelProvider

from evswarm.agents.live import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, LiveProvider
from evswarm.agents.policy.model import POLICY_PREFIX
from evswarm.core.errors import EvswarmError
from evswarm.core.versions import ResolvedVersionSet

TIMEOUT_ENV = "EVSWARM_MODEL_TIMEOUT"
RETRIES_ENV = "EVSWARM_MODEL_RETRIES"


@dataclass(frozen=True)
class ModelChoice:
    """A picklable description of the model provider each worker process builds."""

    kind: str
    model: str = ""
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_RETRIES

    def provider(self) -> ModelProvider:
        if self.kind == "offline":
            from evswarm.agents.policy.model import PolicyProvider

            return PolicyProvider()
        return LiveProvider(
            self.model,
            api_key=os.environ.get("OPENAI_API_KEY", ""),
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )


def _env_number(name: str, default: float, *, integer: bool) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = -1
    if value < 0 or (not integer and value == 0):
        kind = "a whole number >= 0" if integer else "a number of seconds > 0"
        raise EvswarmError(f"{name}={raw!r} is not {kind}")
    return value


def parse_model(
    spec: str, base_url: str | None, *, where: str = "--model", url_where: str = "--base-url"
) -> ModelChoice:
    """The model `spec` names (`offline` or `openai:MODEL`), checked; errors name `where` it was given."""
    if spec == "offline":
        if base_url:
            raise EvswarmError(f"{url_where} only applies with {where} openai:MODEL")
        return ModelChoice("offline")
    if spec.startswith("openai:") and spec.removeprefix("openai:"):
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise EvswarmError(
                f"{url_where} {base_url!r} is not an http(s) URL", hint="e.g. --base-url http://127.0.0.1:8000/v1"
            )
        if not os.environ.get("OPENAI_API_KEY"):
            raise EvswarmError(
                f"{where} {spec} needs OPENAI_API_KEY in the environment",
                hint="any non-empty key works for a local OpenAI-compatible server",
            )
        return ModelChoice(
            "openai",
            spec.removeprefix("openai:"),
            base_url,
            timeout=_env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, integer=False),
            max_retries=_env_number(RETRIES_ENV, DEFAULT_RETRIES, integer=True),
        )
    raise EvswarmError(f"unknown {where} {spec!r}: expected 'offline' or 'openai:MODEL'")


def agent_models(
    version: ResolvedVersionSet, default: ModelChoice, where: Mapping[str, str] | None = None
) -> dict[str, ModelChoice]:
    """The model each agent of `version` runs on: the one its version names, else `default`.

    `where` names, per agent, the file, line and field its model came from (for errors such as a
    missing API key)."""
    choices = {}
    for name, agent in version.agents.items():
        if agent.model is None:
            choices[name] = default
        else:
            field = (where or {}).get(name, f"the model of {name} in version set {version.name}")
            choices[name] = parse_model(agent.model, agent.base_url, where=field, url_where=f"{field} base_url")
    return choices


class AgentModels(ModelProvider):
    """Resolves each agent's model name `policy/<AgentName>` to the model its version runs on.

    One provider is built per distinct model choice, so agents on the same server share its client and
    its fail-fast breaker; `shared` lets several of these (one per version set in a worker) share them
    too, so a server that cannot serve the batch is found out once. Closing this closes them all."""

    def __init__(
        self,
        choices: Mapping[str, ModelChoice],
        default: ModelChoice,
        shared: dict[ModelChoice, ModelProvider] | None = None,
    ) -> None:
        self.choices = dict(choices)
        self.default = default
        self._providers: dict[ModelChoice, ModelProvider] = shared if shared is not None else {}

    def provider_for(self, agent: str) -> ModelProvider:
        choice = self.choices.get(agent, self.default)
        if choice not in self._providers:
            self._providers[choice] = choice.provider()
        return self._providers[choice]

    def get_model(self, model_name: str | None) -> Model:
        agent = (model_name or "").removeprefix(POLICY_PREFIX) or "Orchestrator"
        return self.provider_for(agent).get_model(model_name)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
