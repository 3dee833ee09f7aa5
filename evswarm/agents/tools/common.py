"""Shared plumbing for function tools: JSON results, scenario access, and flaky data feeds."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from agents import FunctionTool, RunContextWrapper, function_tool

from evswarm.agents.state import RunState
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


def world_tool(func: Callable[..., Awaitable[str]]) -> FunctionTool:
    """A function tool over the world. A feed listed as flaky for the run fails on its first call."""

    @functools.wraps(func)
    async def wrapper(ctx: RunContextWrapper[RunState], *args: Any, **kwargs: Any) -> str:
        state = ctx.context
        name = func.__name__
        calls = state.tool_calls_seen.get(name, 0)
        state.tool_calls_seen[name] = calls + 1
        if name in state.scenario.flaky_tools and calls == 0:
            state.retry_count += 1
            raise FeedUnavailableError(f"{name}: upstream feed timed out after 30s")
        return await func(ctx, *args, **kwargs)

    return function_tool(wrapper, failure_error_function=_tool_error)
