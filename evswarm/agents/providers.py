"""Model providers for a batch, and parsing `--model`: the offline policy model, or `openai:MODEL` on a
real (or compatible) server.

Live mode reads the key from OPENAI_API_KEY, and two optional knobs from the environment:
EVSWARM_MODEL_TIMEOUT (seconds per request, default 120) and EVSWARM_MODEL_RETRIES (retries of a
timed-out, dropped, 429 or 5xx request, with exponential backoff; default 4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from agents import ModelProvider

from evswarm.agents.live import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, LiveProvider
from evswarm.core.errors import EvswarmError

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


def parse_model(spec: str, base_url: str | None) -> ModelChoice:
    if spec == "offline":
        if base_url:
            raise EvswarmError("--base-url only applies with --model openai:MODEL")
        return ModelChoice("offline")
    if spec.startswith("openai:") and spec.removeprefix("openai:"):
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise EvswarmError(
                f"--base-url {base_url!r} is not an http(s) URL", hint="e.g. --base-url http://127.0.0.1:8000/v1"
            )
        if not os.environ.get("OPENAI_API_KEY"):
            raise EvswarmError(
                "--model openai:... needs OPENAI_API_KEY in the environment",
                hint="any non-empty key works for a local OpenAI-compatible server",
            )
        return ModelChoice(
            "openai",
            spec.removeprefix("openai:"),
            base_url,
            timeout=_env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, integer=False),
            max_retries=_env_number(RETRIES_ENV, DEFAULT_RETRIES, integer=True),
        )
    raise EvswarmError(f"unknown --model {spec!r}: expected 'offline' or 'openai:MODEL'")
