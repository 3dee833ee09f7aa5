"""evswarm: an offline-first simulator and macro-eval harness for multi-agent systems on the OpenAI Agents SDK.

`evswarm.record(DIR)` records the traces of your own Agents SDK app as a batch (see
`evswarm.agents.record`); the rest of evswarm is its command line."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`evswarm.record` and `evswarm.BatchRecorder`, imported on first use (the SDK loads only then)."""
    if name in ("record", "BatchRecorder"):
        import importlib

        return getattr(importlib.import_module("evswarm.agents.record"), name)
    raise AttributeError(f"module 'evswarm' has no attribute {name!r}")
