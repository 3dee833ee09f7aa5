"""Compliance tools: regional rules, promotion restrictions, homologation and registration."""

from __future__ import annotations

from agents import RunContextWrapper

from evswarm.agents.state import RunState
from evswarm.agents.tools.common import as_json, scenario_of, world_tool
from evswarm.world import regions
from evswarm.world.market import PROMOTION_RESTRICTIONS


@world_tool
async def check_regional_rules(
    ctx: RunContextWrapper[RunState], region: str, model: str, wheels: str, battery: str, options: list[str]
) -> str:
    """Check a configuration against the rules in force in the customer's region on the order date.

    Args:
        region: Region code.
        model: Vehicle model name.
        wheels: Wheel code.
        battery: Battery pack code.
        options: Option codes.
    """
    s = scenario_of(ctx)
    rules = regions.rules_for(region)
    blocked = [r.rule_id for r in rules if r.blocks(model, wheels, battery, options, s.order_date)]
    return as_json(
        {
            "region": region,
            "as_of": s.order_date,
            "rules_checked": [r.rule_id for r in rules],
            "violations": blocked,
            "descriptions": {r.rule_id: r.description for r in rules if r.rule_id in blocked},
        }
    )


@world_tool
async def check_promotion_restrictions(ctx: RunContextWrapper[RunState], region: str, promotion_ids: list[str]) -> str:
    """Check whether quoted promotions are lawful in the region.

    Args:
        region: Region code.
        promotion_ids: Promotions applied to the quote.
    """
    restricted = {
        p: PROMOTION_RESTRICTIONS[(p, region)] for p in promotion_ids if (p, region) in PROMOTION_RESTRICTIONS
    }
    return as_json({"region": region, "restricted": restricted})


@world_tool
async def check_homologation(ctx: RunContextWrapper[RunState], model: str, region: str) -> str:
    """Check whether a model is type-approved for registration in a region.

    Args:
        model: Vehicle model name.
        region: Region code.
    """
    homologated = not (region == "EU-DE" and model == "Ridge")
    return as_json({"model": model, "region": region, "homologated": homologated})


@world_tool
async def check_registration_requirements(ctx: RunContextWrapper[RunState], region: str) -> str:
    """List the registration paperwork a region requires.

    Args:
        region: Region code.
    """
    notes = {
        "EU-DE": ["COC certificate", "EU battery passport"],
        "CA-ON": ["Ontario safety standards certificate"],
        "US-CA": ["CARB ZEV credit filing"],
    }.get(region, [])
    return as_json({"region": region, "requirements": notes})
