"""Pricing tools: list price, tariffs, promotions, incentives, quotes, price drift, market intelligence."""

from __future__ import annotations

from agents import RunContextWrapper

from evswarm.agents.state import RunState
from evswarm.agents.tools.common import as_json, scenario_of, tool_cause, world_tool
from evswarm.core.bundle import EnvironmentEvent
from evswarm.world import catalog
from evswarm.world.market import shift
from evswarm.world.trouble import STALE_TARIFF_DAYS

PRICE_AUTHORITY = 10000.0
"""Largest price correction the pricing-exception desk may approve without escalation."""


def _window(event: EnvironmentEvent) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "title": event.title,
        "effective_from": event.effective_from,
        "effective_to": event.effective_to,
        **event.details,
    }


@world_tool
async def get_base_price(
    ctx: RunContextWrapper[RunState], model: str, trim: str, wheels: str, battery: str, options: list[str]
) -> str:
    """Catalog list price of a configuration on the order date, with recent catalog price changes.

    Args:
        model: Vehicle model name.
        trim: Trim code.
        wheels: Wheel code.
        battery: Battery pack code.
        options: Option codes.
    """
    s = scenario_of(ctx)
    base = catalog.list_price(model, trim, wheels, battery, options)
    changes = [_window(e) for e in s.signals_of("price_change") if e.effective_from <= s.order_date]
    return as_json(
        {
            "as_of": s.order_date,
            "catalog_price": base,
            "list_price": round(base + sum(float(str(c["delta"])) for c in changes), 2),
            "price_changes": changes,
        }
    )


@world_tool
async def get_tariffs(ctx: RunContextWrapper[RunState], region: str, battery: str) -> str:
    """Tariffs in force on the order date for a region and battery pack.

    Args:
        region: Region code.
        battery: Battery pack code.
    """
    s = scenario_of(ctx)
    tariffs = s.listed_tariffs()
    trouble = s.trouble("get_tariffs")
    if trouble is not None and trouble.kind == "stale_snapshot":
        taken = shift(s.order_date, -STALE_TARIFF_DAYS)
        fresh = [t for t in tariffs if t.effective_from > taken]
        if fresh:
            tool_cause(ctx.context, "get_tariffs", "stale_snapshot", "the tariff feed answers from an old snapshot")
            tariffs = [t for t in tariffs if t not in fresh]
    return as_json({"as_of": s.order_date, "tariffs": [_window(t) for t in tariffs]})


@world_tool
async def list_promotions(ctx: RunContextWrapper[RunState], region: str, model: str) -> str:
    """Promotions the pricing catalog lists for this region and model on the order date.

    Args:
        region: Region code.
        model: Vehicle model name.
    """
    s = scenario_of(ctx)
    return as_json({"as_of": s.order_date, "promotions": [_window(p) for p in s.listed_promotions()]})


@world_tool
async def list_incentives(ctx: RunContextWrapper[RunState], region: str, model: str) -> str:
    """Government incentives live on the order date for this region and model (paid at delivery).

    Args:
        region: Region code.
        model: Vehicle model name.
    """
    s = scenario_of(ctx)
    return as_json({"as_of": s.order_date, "incentives": [_window(i) for i in s.listed_incentives()]})


@world_tool
async def check_promotion_eligibility(ctx: RunContextWrapper[RunState], promotion_ids: list[str]) -> str:
    """Check promotion windows and model scope for the order date.

    Args:
        promotion_ids: Promotions to check.
    """
    s = scenario_of(ctx)
    listed = {p.event_id: p for p in s.listed_promotions()}
    return as_json(
        {
            "as_of": s.order_date,
            "promotions": [
                {**_window(listed[p]), "in_window": True, "model_in_scope": True}
                if p in listed
                else {"event_id": p, "in_window": False}
                for p in promotion_ids
            ],
        }
    )


@world_tool
async def check_incentive_windows(ctx: RunContextWrapper[RunState], incentive_ids: list[str]) -> str:
    """Return incentive windows and price caps next to the order's requested delivery date.

    Args:
        incentive_ids: Incentives to check.
    """
    s = scenario_of(ctx)
    listed = {i.event_id: i for i in s.listed_incentives()}
    return as_json(
        {
            "requested_delivery": s.delivery_date,
            "list_price": s.list_price(),
            "incentives": [_window(listed[i]) for i in incentive_ids if i in listed],
        }
    )


@world_tool
async def compute_quote(
    ctx: RunContextWrapper[RunState], tariff_ids: list[str], promotion_ids: list[str], incentive_ids: list[str]
) -> str:
    """Price the order: list price plus the given tariffs, less the given promotions and incentives.

    Args:
        tariff_ids: Tariffs to charge.
        promotion_ids: Promotions to apply.
        incentive_ids: Incentives to apply.
    """
    s = scenario_of(ctx)
    known = {e.event_id: e for e in s.signals}
    lines: list[dict[str, object]] = [{"item": "list_price", "amount": s.list_price()}]
    for ids, key, sign in (
        (tariff_ids, "surcharge", 1.0),
        (promotion_ids, "amount", -1.0),
        (incentive_ids, "amount", -1.0),
    ):
        lines += [{"item": i, "amount": sign * float(str(known[i].details[key]))} for i in ids if i in known]
    total = round(sum(float(str(line["amount"])) for line in lines), 2)
    return as_json({"currency": "USD", "lines": lines, "total": total})


@world_tool
async def review_price_drift(ctx: RunContextWrapper[RunState], quoted_price: float, new_total: float) -> str:
    """Compare the customer's quoted price with a recomputed total.

    Args:
        quoted_price: Price the customer was quoted.
        new_total: Recomputed total.
    """
    drift = round(new_total - quoted_price, 2)
    return as_json(
        {"drift": drift, "within_authority": abs(drift) <= PRICE_AUTHORITY, "authority_limit": PRICE_AUTHORITY}
    )


@world_tool
async def approve_price_adjustment(ctx: RunContextWrapper[RunState], new_total: float, reason: str) -> str:
    """Approve a corrected price for the order.

    Args:
        new_total: The corrected total.
        reason: Why the price changed.
    """
    return as_json({"approved_total": new_total, "reason": reason, "approval_id": f"px-{ctx.context.run_key}"})


@world_tool
async def read_competitor_moves(ctx: RunContextWrapper[RunState], model: str, region: str) -> str:
    """Competitor launches, price moves and financing-rate changes affecting this model and region.

    Args:
        model: Vehicle model name.
        region: Region code.
    """
    s = scenario_of(ctx)
    return as_json({"signals": [_window(e) for e in s.signals_of("competitor", "launch", "rate_change")]})


@world_tool
async def assess_demand_signal(ctx: RunContextWrapper[RunState], model: str, region: str) -> str:
    """Demand outlook for a model in a region given the market regime.

    Args:
        model: Vehicle model name.
        region: Region code.
    """
    s = scenario_of(ctx)
    outlook = {
        "truck_competition": "softening",
        "launch_excitation": "strong",
        "rate_relief": "improving",
        "price_pressure": "price-sensitive",
    }.get(s.market_regime, "steady")
    return as_json({"market_regime": s.market_regime, "price_regime": s.price_regime, "outlook": outlook})
