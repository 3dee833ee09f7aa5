"""Parsing `--model`: the offline policy model, or `openai:MODEL` on a real (or compatible) server."""

from __future__ import annotations

import os
from dataclasses import dataclass

from agents import ModelProvider

from evswarm.core.errors import EvswarmError


@dataclass(frozen=True)
class ModelChoice:
    """A picklable description of the model provider each worker process builds."""

    kind: str
    model: str = ""
    base_url: str | None = None

    def provider(self) -> ModelProvider:
        if self.kind == "offline":
            from evswarm.agents.policy.model import PolicyProvider

            return PolicyProvider()
        from evswarm.agents.live import LiveProvider

        return LiveProvider(self.model, api_key=os.environ.get("OPENAI_API_KEY", ""), base_url=self.base_url)


def parse_model(spec: str, base_url: str | None) -> ModelChoice:
    if spec == "offline":
        if base_url:
            raise EvswarmError("--base-url only applies with --model openai:MODEL")
        return ModelChoice("offline")
    if spec.startswith("openai:") and spec.removeprefix("openai:"):
        if not os.environ.get("OPENAI_API_KEY"):
            raise EvswarmError(
                "--model openai:... needs OPENAI_API_KEY in the environment",
                hint="any non-empty key works for a local OpenAI-compatible server",
            )
        return ModelChoice("openai", spec.removeprefix("openai:"), base_url)
    raise EvswarmError(f"unknown --model {spec!r}: expected 'offline' or 'openai:MODEL'")
