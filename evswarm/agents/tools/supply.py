"""Supply tools: inventory, reservations, supplier risk and alternate suppliers."""

from __future__ import annotations

from agents import RunContextWrapper

from evswarm.agents.state import RunState
from evswarm.agents.tools.common import as_json, scenario_of, world_tool
from evswarm.world.catalog import required_components
from evswarm.world.supply import alternate_supplier


@world_tool
async def check_inventory(ctx: RunContextWrapper[RunState], components: list[str], quantity: int) -> str:
    """Stock position of each component: on hand, already allocated to other orders, supplier.

    Args:
        components: Component codes the build needs.
        quantity: Vehicles on the order.
    """
    s = scenario_of(ctx)
    rows = [
        {
            "component": line.component,
            "supplier_id": line.supplier_id,
            "on_hand": line.on_hand,
            "allocated": line.allocated,
        }
        for line in s.inventory
        if line.component in components
    ]
    ctx.context.inventory_snapshot = rows
    stock_alerts = [e.event_id for e in s.signals_of("stockout")]
    return as_json({"quantity": quantity, "lines": rows, "stock_alerts": stock_alerts})


@world_tool
async def reserve_components(ctx: RunContextWrapper[RunState], components: list[str], quantity: int) -> str:
    """Reserve components for the order.

    Args:
        components: Component codes to reserve.
        quantity: Vehicles on the order.
    """
    return as_json({"reserved": components, "quantity": quantity, "reservation_id": f"rsv-{ctx.context.run_key}"})


@world_tool
async def assess_supplier_risk(ctx: RunContextWrapper[RunState], supplier_ids: list[str]) -> str:
    """Risk rating of each supplier (ok or watch), with the signal behind a watch rating.

    Args:
        supplier_ids: Suppliers to rate.
    """
    s = scenario_of(ctx)
    watch = {str(e.details["supplier"]): e.event_id for e in s.signals_of("supply_risk")}
    return as_json(
        {
            "ratings": [
                {"supplier_id": sid, "rating": "watch" if sid in watch else "ok", "signal": watch.get(sid)}
                for sid in supplier_ids
            ]
        }
    )


@world_tool
async def find_alternate_supplier(ctx: RunContextWrapper[RunState], component: str) -> str:
    """The qualified second source for a component, with lead time.

    Args:
        component: Component code.
    """
    alt = alternate_supplier(component)
    return as_json(
        {
            "component": component,
            "supplier_id": alt.supplier_id,
            "lead_time_days": alt.lead_time_days,
            "cost_delta": alt.cost_delta,
        }
    )


@world_tool
async def reserve_alternate(ctx: RunContextWrapper[RunState], component: str, supplier_id: str, quantity: int) -> str:
    """Place a reservation with an alternate supplier.

    Args:
        component: Component code.
        supplier_id: Alternate supplier.
        quantity: Vehicles on the order.
    """
    return as_json({"component": component, "supplier_id": supplier_id, "quantity": quantity, "confirmed": True})


@world_tool
async def get_bill_of_materials(ctx: RunContextWrapper[RunState], model: str, wheels: str, battery: str) -> str:
    """Components a configuration draws from inventory.

    Args:
        model: Vehicle model name.
        wheels: Wheel code.
        battery: Battery pack code.
    """
    return as_json({"components": required_components(model, wheels, battery)})
