"""The swarm on the Agents SDK: an orchestrator and its specialists with tools, handoffs and guardrails,
the offline policy model, live and replay models, and the tracing processor that writes bundles.

Public names are imported lazily, so `import evswarm.agents` stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evswarm.agents.runner import RunEnvironment, run_scenario
    from evswarm.agents.swarm import build_swarm

__all__ = ["RunEnvironment", "build_swarm", "run_scenario"]


def __getattr__(name: str) -> Any:
    if name in ("RunEnvironment", "run_scenario"):
        from evswarm.agents import runner

        return getattr(runner, name)
    if name == "build_swarm":
        from evswarm.agents.swarm import build_swarm

        return build_swarm
    raise AttributeError(name)
