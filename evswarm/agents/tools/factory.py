"""Factory tools: capacity, routing, trade-offs, scheduling and release."""

from __future__ import annotations

from agents import RunContextWrapper

from evswarm.agents.state import RunState
from evswarm.agents.tools.common import as_json, scenario_of, world_tool
from evswarm.world.market import shift


def _capacity_row(ctx: RunContextWrapper[RunState], factory_id: str) -> dict[str, object]:
    s = scenario_of(ctx)
    state = ctx.context.factory_state(factory_id)
    row = {
        "factory_id": factory_id,
        "utilization": state.utilization,
        "backlog_days": state.backlog_days,
        "transit_days": s.transit_days(factory_id),
        "release_state": state.release_state,
    }
    snapshot = ctx.context.capacity_snapshot
    if all(r["factory_id"] != factory_id for r in snapshot):
        snapshot.append(row)
    return row


@world_tool
async def get_factory_capacity(ctx: RunContextWrapper[RunState], factory_id: str) -> str:
    """Booked utilization and backlog of a factory for the order's build window.

    Args:
        factory_id: Factory id.
    """
    s = scenario_of(ctx)
    shocks = [e.event_id for e in s.signals_of("capacity_shock") if factory_id in e.affects]
    return as_json({**_capacity_row(ctx, factory_id), "capacity_alerts": shocks})


@world_tool
async def forecast_line_load(ctx: RunContextWrapper[RunState], factory_id: str, weeks: int) -> str:
    """Forecast line load for the next weeks.

    Args:
        factory_id: Factory id.
        weeks: Number of weeks to forecast.
    """
    state = ctx.context.factory_state(factory_id)
    return as_json(
        {
            "factory_id": factory_id,
            "weekly_utilization": [round(max(state.utilization - 0.04 * week, 0.3), 2) for week in range(weeks)],
        }
    )


@world_tool
async def rank_factories(ctx: RunContextWrapper[RunState], model: str, region: str) -> str:
    """Every factory that builds the model, with utilization, backlog and transit days to the region.

    Args:
        model: Vehicle model name.
        region: Region code.
    """
    s = scenario_of(ctx)
    return as_json(
        {"default_factory": s.default_factory, "factories": [_capacity_row(ctx, f) for f in s.candidate_factories()]}
    )


@world_tool
async def assign_factory(ctx: RunContextWrapper[RunState], factory_id: str) -> str:
    """Assign the order to a factory.

    Args:
        factory_id: Factory id.
    """
    return as_json({"assigned": factory_id})


@world_tool
async def compare_fulfillment_options(
    ctx: RunContextWrapper[RunState], default_factory: str, alternate_factory: str
) -> str:
    """Days of delay for waiting out the default factory's backlog versus rerouting to an alternate.

    Args:
        default_factory: The order's default factory.
        alternate_factory: The candidate alternate factory.
    """
    s = scenario_of(ctx)
    wait = ctx.context.factory_state(default_factory).backlog_days
    reroute = max(s.transit_days(alternate_factory) - s.transit_days(default_factory), 0)
    return as_json(
        {
            "wait": {"factory_id": default_factory, "delay_days": wait},
            "reroute": {"factory_id": alternate_factory, "delay_days": reroute},
        }
    )


@world_tool
async def build_schedule(ctx: RunContextWrapper[RunState], factory_id: str, quantity: int) -> str:
    """Book a build slot and project the delivery date.

    Args:
        factory_id: Factory id.
        quantity: Vehicles on the order.
    """
    s = scenario_of(ctx)
    backlog = ctx.context.factory_state(factory_id).backlog_days
    build = shift(s.order_date, 7 + backlog)
    return as_json(
        {
            "factory_id": factory_id,
            "build_date": build,
            "projected_delivery": shift(build, s.transit_days(factory_id)),
            "requested_delivery": s.delivery_date,
        }
    )


@world_tool
async def check_release_state(ctx: RunContextWrapper[RunState], factory_id: str) -> str:
    """Whether a factory is releasing build orders (open) or holding them (quality_hold).

    Args:
        factory_id: Factory id.
    """
    s = scenario_of(ctx)
    holds = [e.event_id for e in s.signals_of("schedule_shock") if factory_id in e.affects]
    return as_json(
        {
            "factory_id": factory_id,
            "release_state": ctx.context.factory_state(factory_id).release_state,
            "hold_signals": holds,
        }
    )


@world_tool
async def authorize_release(ctx: RunContextWrapper[RunState], factory_id: str) -> str:
    """Authorize release of the build order to a factory.

    Args:
        factory_id: Factory id.
    """
    state = ctx.context.factory_state(factory_id)
    ok = state.release_state == "open"
    return as_json(
        {
            "factory_id": factory_id,
            "authorized": ok,
            "reason": "released" if ok else f"factory on {state.release_state}",
        }
    )
