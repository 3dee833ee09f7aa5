"""Shared plumbing for function tools: JSON results, scenario access, and flaky data feeds."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from agents import FunctionTool, RunContextWrapper, function_tool
from agents.tracing import get_current_span

from evswarm.agents.state import RunState
from evswarm.core.bundle import Cause, CauseOrigin, CauseSide
from evswarm.world.scenario import Scenario

P = ParamSpec("P")


class FeedUnavailableError(RuntimeError):
    """A world data feed timed out; the tool reports it and the agent may retry."""


def as_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def scenario_of(ctx: RunContextWrapper[RunState]) -> Scenario:
    return ctx.context.scenario


def _tool_error(ctx: RunContextWrapper[Any], error: Exception) -> str:
    return as_json({"error": str(error), "retryable": isinstance(error, FeedUnavailableError)})


def _span_id() -> str:
    span = get_current_span()
    return span.span_id if span is not None else ""


def tool_cause(state: RunState, tool: str, kind: str, description: str) -> None:
    """Record that a tool's trouble acted in the current tool call (an organic cause, side `tool`)."""
    state.record(
        Cause(
            cause_id=f"tool:{tool}:{kind}",
            origin=CauseOrigin.ORGANIC,
            side=CauseSide.TOOL,
            component=tool,
            description=description,
            trigger=f"the run's {tool} feed has {kind.replace('_', ' ')} trouble",
        ),
        ("span", _span_id()),
    )


def _land_shock(state: RunState) -> None:
    """A late capacity shock lands: the world changes under the run, and the event log says so."""
    shock = state.scenario.late_shock
    assert shock is not None
    state.shock_landed = True
    state.add_event(
        "environment",
        _span_id() or None,
        agent_name="environment",
        payload={"signal": "capacity_shock", "factory_id": shock.factory_id, "utilization": shock.utilization},
    )
    state.record(
        Cause(
            cause_id=f"environment:{shock.factory_id}:late_capacity_shock",
            origin=CauseOrigin.ORGANIC,
            side=CauseSide.ENVIRONMENT,
            component="factory_capacity",
            description="a capacity shock lands at the default factory after capacity was checked",
            trigger="a line outage during the run",
        ),
        ("event", str(len(state.events) - 1)),
    )


def world_tool(func: Callable[..., Awaitable[str]]) -> FunctionTool:
    """A function tool over the world. A feed listed as flaky for the run fails on its first call; a tool
    with an outage fails on every call; a late capacity shock lands during the call it is tied to."""

    @functools.wraps(func)
    async def wrapper(ctx: RunContextWrapper[RunState], *args: Any, **kwargs: Any) -> str:
        state = ctx.context
        name = func.__name__
        calls = state.tool_calls_seen.get(name, 0)
        state.tool_calls_seen[name] = calls + 1
        trouble = state.scenario.trouble(name)
        if trouble is not None and trouble.kind == "outage":
            state.retry_count += 1
            tool_cause(state, name, "outage", f"{name} times out on every call")
            raise FeedUnavailableError(f"{name}: upstream feed timed out after 30s")
        if name in state.scenario.flaky_tools and calls == 0:
            state.retry_count += 1
            raise FeedUnavailableError(f"{name}: upstream feed timed out after 30s")
        shock = state.scenario.late_shock
        if shock is not None and not state.shock_landed and shock.lands_with == name:
            _land_shock(state)
        return await func(ctx, *args, **kwargs)

    return function_tool(wrapper, failure_error_function=_tool_error)
