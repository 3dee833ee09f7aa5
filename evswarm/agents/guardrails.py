"""Guardrails: order validity on the way in, the release gate on the way out."""

from __future__ import annotations

import json
from typing import Any

from agents import Agent, GuardrailFunctionOutput, RunContextWrapper, input_guardrail, output_guardrail

from evswarm.agents.outputs import OrderDecision
from evswarm.agents.state import RunState
from evswarm.core.bundle import RELEASING
from evswarm.world import catalog, regions


def order_problems(order: dict[str, Any]) -> list[str]:
    """Why an order cannot even be reviewed (unknown model or trim, bad quantity, unknown region)."""
    problems = []
    vehicle, customer = order.get("vehicle") or {}, order.get("customer") or {}
    spec = catalog.MODELS.get(str(vehicle.get("model")))
    if spec is None:
        problems.append("unknown model")
    elif vehicle.get("trim") not in spec.trims:
        problems.append("unknown trim")
    if customer.get("region") not in regions.REGIONS:
        problems.append("unknown region")
    quantity = order.get("quantity")
    if not isinstance(quantity, int) or quantity < 1:
        problems.append("quantity must be a positive whole number")
    return problems


def _order_from_input(text: str) -> dict[str, Any]:
    start = text.find("{")
    try:
        parsed = json.loads(text[start:]) if start >= 0 else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@input_guardrail(name="order_validity", run_in_parallel=False)
async def order_validity(
    ctx: RunContextWrapper[RunState], agent: Agent[RunState], input: str | list[Any]
) -> GuardrailFunctionOutput:
    text = (
        input if isinstance(input, str) else " ".join(str(i.get("content", "")) for i in input if isinstance(i, dict))
    )
    problems = order_problems(_order_from_input(text))
    return GuardrailFunctionOutput(output_info={"problems": problems}, tripwire_triggered=bool(problems))


@output_guardrail(name="release_gate")
async def release_gate(
    ctx: RunContextWrapper[RunState], agent: Agent[RunState], output: OrderDecision
) -> GuardrailFunctionOutput:
    """A release needs a positive price, a factory, and that factory's release authorization on file."""
    if output.decision not in RELEASING:
        return GuardrailFunctionOutput(output_info={"checked": False}, tripwire_triggered=False)
    releases = [r for r in ctx.context.reports if r.get("agent") == "FactoryReleaseAgent"]
    authorized = (
        bool(releases) and bool(releases[-1].get("authorized")) and releases[-1].get("factory") == output.factory
    )
    problems = [
        p
        for p, bad in (
            ("no positive price", not output.quoted_price or output.quoted_price <= 0),
            ("no factory", not output.factory),
            ("factory release not authorized", not authorized),
        )
        if bad
    ]
    return GuardrailFunctionOutput(output_info={"problems": problems}, tripwire_triggered=bool(problems))
