"""Policies of the fulfillment chain: allocation, supplier risk, procurement, capacity, routing,
trade-offs, scheduling and factory release."""

from __future__ import annotations

from typing import Any

from evswarm.agents.policy.actions import Action, CallTools, HandOff, PolicyContext, call, finding, report, signal
from evswarm.agents.policy.intake import ORCHESTRATOR, region_of, vehicle_args
from evswarm.agents.policy.view import ConversationView
from evswarm.world.rules import DEFERRAL_TOLERANCE_DAYS, OVERLOAD_UTILIZATION
from evswarm.world.trouble import OUTAGE_ATTEMPTS


def _quantity(view: ConversationView) -> int:
    return int(view.order.get("quantity", 1) or 1)


def supply_allocation(view: ConversationView, ctx: PolicyContext) -> Action:
    v, qty = vehicle_args(view), _quantity(view)
    if view.missing("get_bill_of_materials"):
        return CallTools(
            [call("get_bill_of_materials", model=v["model"], wheels=v["wheels"], battery=v["battery"])],
            "Listing the components this build draws from stock.",
        )
    components = view.latest("get_bill_of_materials")["components"]
    if view.failures("check_inventory") >= OUTAGE_ATTEMPTS:
        return _feed_down("SupplyAllocationAgent", "check_inventory", short_components=[], reserved_components=[])
    if view.missing("check_inventory"):
        return CallTools(
            [call("check_inventory", components=components, quantity=qty)],
            f"Checking stock for {len(components)} components.",
        )
    stock = view.in_visit("check_inventory")
    assert stock is not None
    lines = stock.output["lines"]
    short = [ln["component"] for ln in lines if ln["on_hand"] - ln["allocated"] < qty]
    if short and all(ln["on_hand"] >= qty for ln in lines) and ctx.deviates("missed_stockout"):
        short = []
    if short and ctx.slips("miscounted_stock"):
        short = short[1:]
    to_reserve = [c for c in components if c not in short]
    if view.missing("reserve_components"):
        return CallTools(
            [call("reserve_components", components=to_reserve, quantity=qty)],
            f"Reserving {len(to_reserve)} component(s)" + (f"; {', '.join(short)} short." if short else "."),
        )
    alerts = stock.output.get("stock_alerts", [])
    out = report(
        "SupplyAllocationAgent",
        "issue" if short else "ok",
        f"{len(short)} component(s) short." if short else "All components reserved.",
        findings=[finding("COMPONENT_STOCKOUT", "error", f"{c}: available below {qty}") for c in short],
        signals=[signal(a, "noticed") for a in alerts if any(c in a for c in short)],
        short_components=short,
        reserved_components=to_reserve,
    )
    return HandOff("SupplierRiskAgent", out, "Allocation done; supplier risk review next.")


def supplier_risk(view: ConversationView, ctx: PolicyContext) -> Action:
    stock = view.latest("check_inventory") or {"lines": []}
    suppliers = sorted({ln["supplier_id"] for ln in stock["lines"]})
    if view.missing("assess_supplier_risk"):
        return CallTools([call("assess_supplier_risk", supplier_ids=suppliers)], "Rating the suppliers in the mix.")
    ratings = view.latest("assess_supplier_risk")["ratings"]
    watch = [r for r in ratings if r["rating"] == "watch"]
    supply = view.report("SupplyAllocationAgent") or {}
    if watch and ctx.deviates("routing_loop"):
        again = report(
            "SupplierRiskAgent",
            "issue",
            "Watch-listed supplier in the mix; allocation must re-verify.",
            findings=[finding("SUPPLIER_RISK_WATCH", "warning", f"{w['supplier_id']} on watch") for w in watch],
            watch_suppliers=[w["supplier_id"] for w in watch],
        )
        return HandOff("SupplyAllocationAgent", again, "A supplier is on watch; sending allocation back to re-verify.")
    out = report(
        "SupplierRiskAgent",
        "issue" if watch else "ok",
        f"{len(watch)} supplier(s) on watch." if watch else "All suppliers rated ok.",
        findings=[
            finding("SUPPLIER_RISK_WATCH", "warning", f"{w['supplier_id']} on watch ({w['signal']})") for w in watch
        ],
        signals=[signal(w["signal"], "noticed") for w in watch if w.get("signal")],
        watch_suppliers=[w["supplier_id"] for w in watch],
    )
    if supply.get("short_components"):
        return HandOff("ProcurementPlanningAgent", out, "Short components need a second source.")
    return HandOff(ORCHESTRATOR, out, "Supply position confirmed.")


def procurement(view: ConversationView, ctx: PolicyContext) -> Action:
    short = (view.report("SupplyAllocationAgent") or {}).get("short_components", [])
    stock = {ln["component"]: ln for ln in (view.latest("check_inventory") or {"lines": []})["lines"]}
    found = {
        r.output["component"]: r.output
        for r in view.results
        if r.name == "find_alternate_supplier" and r.position >= view.visit_start and not r.failed
    }
    if todo := [c for c in short if c not in found]:
        return CallTools(
            [call("find_alternate_supplier", component=c) for c in todo],
            f"Finding second sources for {', '.join(todo)}.",
        )
    if view.missing("reserve_alternate"):
        return CallTools(
            [
                call("reserve_alternate", component=c, supplier_id=found[c]["supplier_id"], quantity=_quantity(view))
                for c in short
            ],
            "Reserving with the second sources.",
        )
    subs: list[dict[str, Any]] = [
        {
            "component": c,
            "from_supplier": stock[c]["supplier_id"],
            "to_supplier": found[c]["supplier_id"],
            "lead_time_days": found[c]["lead_time_days"],
        }
        for c in short
    ]
    out = report(
        "ProcurementPlanningAgent",
        "issue",
        f"{len(subs)} substitution(s) placed.",
        findings=[
            finding("SUPPLIER_SUBSTITUTION", "warning", f"{s['component']}: {s['from_supplier']} -> {s['to_supplier']}")
            for s in subs
        ],
        substitutions=subs,
    )
    return HandOff(ORCHESTRATOR, out, "Second sources reserved.")


def _feed_down(agent: str, tool: str, **fields: Any) -> HandOff:
    """The agent gives up on a tool that keeps timing out and tells the hub it cannot finish (`fields`:
    the rest of its report type, empty)."""
    out = report(
        agent,
        "blocked",
        f"{tool} timed out {OUTAGE_ATTEMPTS} times; cannot finish.",
        findings=[finding("FEED_UNAVAILABLE", "error", f"{tool} did not answer")],
        **fields,
    )
    return HandOff(ORCHESTRATOR, out, f"{tool} keeps timing out; reporting that I cannot finish.")


def capacity_planning(view: ConversationView, ctx: PolicyContext) -> Action:
    factory = str(view.order.get("default_factory"))
    if view.failures("get_factory_capacity") >= OUTAGE_ATTEMPTS:
        return _feed_down(
            "CapacityPlanningAgent", "get_factory_capacity", factory=factory, overloaded=False, backlog_days=0
        )
    if missing := view.missing("get_factory_capacity", "forecast_line_load"):
        calls = {
            "get_factory_capacity": call("get_factory_capacity", factory_id=factory),
            "forecast_line_load": call("forecast_line_load", factory_id=factory, weeks=4),
        }
        return CallTools([calls[m] for m in missing], f"Checking load at {factory}.")
    cap = view.latest("get_factory_capacity")
    overloaded = cap["utilization"] > OVERLOAD_UTILIZATION
    out = report(
        "CapacityPlanningAgent",
        "issue" if overloaded else "ok",
        f"{factory} at {cap['utilization']:.0%} with {cap['backlog_days']} backlog day(s).",
        findings=[finding("CAPACITY_SHORTFALL", "warning", f"{factory} over capacity")] if overloaded else [],
        signals=[signal(a, "noticed") for a in cap.get("capacity_alerts", [])],
        factory=factory,
        overloaded=overloaded,
        backlog_days=cap["backlog_days"],
    )
    if overloaded:
        return HandOff("FactoryRoutingAgent", out, f"{factory} is over capacity; routing must look for room.")
    return HandOff("ProductionSchedulingAgent", out, f"{factory} has room; scheduling the build.")


def factory_routing(view: ConversationView, ctx: PolicyContext) -> Action:
    v, region = vehicle_args(view), region_of(view)
    default = str(view.order.get("default_factory"))
    if view.missing("rank_factories"):
        return CallTools(
            [call("rank_factories", model=v["model"], region=region)], "Ranking factories that build this model."
        )
    ranked = view.latest("rank_factories")["factories"]
    transit = {f["factory_id"]: f["transit_days"] for f in ranked}
    options = sorted(
        (
            f
            for f in ranked
            if f["factory_id"] != default and f["utilization"] <= OVERLOAD_UTILIZATION and f["release_state"] == "open"
        ),
        key=lambda f: (f["transit_days"], f["factory_id"]),
    )
    best = options[0]["factory_id"] if options else None
    tradeoff = best is not None and transit[best] - transit[default] > DEFERRAL_TOLERANCE_DAYS
    target = best if best and not tradeoff else default
    if target != default and ctx.deviates("capacity_ignored"):
        target = default
    if view.missing("assign_factory"):
        return CallTools([call("assign_factory", factory_id=target)], f"Assigning the order to {target}.")
    out = report(
        "FactoryRoutingAgent",
        "issue" if target != default or tradeoff else "ok",
        f"Assigned to {target}" + (f"; {best} is further away, trade-off needed." if tradeoff else "."),
        findings=[finding("FULFILLMENT_REROUTE", "warning", f"{default} -> {target}")] if target != default else [],
        factory=target,
        rerouted=target != default,
        tradeoff_needed=tradeoff,
    )
    if tradeoff:
        return HandOff(
            "TradeoffPlannerAgent",
            {**out, "factory": best},
            "Waiting and rerouting both cost days; asking the planner.",
        )
    return HandOff("ProductionSchedulingAgent", out, f"Routing settled on {target}.")


def tradeoff_planner(view: ConversationView, ctx: PolicyContext) -> Action:
    default = str(view.order.get("default_factory"))
    alternate = str((view.report("FactoryRoutingAgent") or {}).get("factory", default))
    if view.missing("compare_fulfillment_options"):
        return CallTools(
            [call("compare_fulfillment_options", default_factory=default, alternate_factory=alternate)],
            f"Comparing a wait at {default} with a reroute to {alternate}.",
        )
    options = view.latest("compare_fulfillment_options")
    wait, move = options["wait"]["delay_days"], options["reroute"]["delay_days"]
    reroute = wait > move
    factory = alternate if reroute else default
    out = report(
        "TradeoffPlannerAgent",
        "issue",
        f"Wait {wait}d vs reroute {move}d: {'reroute' if reroute else 'wait'}.",
        findings=[finding("FULFILLMENT_REROUTE" if reroute else "SCHEDULE_DEFERRED", "warning", f"build at {factory}")],
        recommendation="reroute" if reroute else "wait",
        factory=factory,
        delay_days=min(wait, move),
    )
    return HandOff("ProductionSchedulingAgent", out, f"Recommending to {'reroute' if reroute else 'wait'}.")


def chosen_factory(view: ConversationView) -> str:
    for agent in ("TradeoffPlannerAgent", "FactoryRoutingAgent", "CapacityPlanningAgent"):
        found = view.report(agent)
        if found and found.get("factory") and not (agent == "FactoryRoutingAgent" and found.get("tradeoff_needed")):
            return str(found["factory"])
    return str(view.order.get("default_factory"))


def production_scheduling(view: ConversationView, ctx: PolicyContext) -> Action:
    factory = chosen_factory(view)
    if view.missing("build_schedule"):
        return CallTools(
            [call("build_schedule", factory_id=factory, quantity=_quantity(view))],
            f"Booking a build slot at {factory}.",
        )
    slot = view.latest("build_schedule")
    late = slot["projected_delivery"] > slot["requested_delivery"]
    out = report(
        "ProductionSchedulingAgent",
        "issue" if late else "ok",
        f"Build {slot['build_date']}, delivery {slot['projected_delivery']}.",
        findings=[finding("SCHEDULE_DEFERRED", "info", "projected delivery after requested date")] if late else [],
        factory=factory,
        build_date=slot["build_date"],
        projected_delivery=slot["projected_delivery"],
    )
    return HandOff("FactoryReleaseAgent", out, "Slot booked; release check next.")


def factory_release(view: ConversationView, ctx: PolicyContext) -> Action:
    factory = chosen_factory(view)
    if view.missing("check_release_state"):
        return CallTools([call("check_release_state", factory_id=factory)], f"Is {factory} releasing build orders?")
    state = view.latest("check_release_state")
    if state["release_state"] == "open" and view.missing("authorize_release"):
        return CallTools([call("authorize_release", factory_id=factory)], f"{factory} is open; authorizing release.")
    authorized = state["release_state"] == "open" and bool((view.latest("authorize_release") or {}).get("authorized"))
    out = report(
        "FactoryReleaseAgent",
        "ok" if authorized else "blocked",
        f"Release {'authorized' if authorized else 'held'} at {factory}.",
        findings=[] if authorized else [finding("RELEASE_HOLD", "error", f"{factory} on {state['release_state']}")],
        signals=[signal(h, "noticed") for h in state.get("hold_signals", [])],
        factory=factory,
        release_state=state["release_state"],
        authorized=authorized,
    )
    return HandOff(ORCHESTRATOR, out, "Release check done.")
