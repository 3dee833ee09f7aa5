"""The oracle: the correct handling of a scenario, derived from world state alone (never from the swarm)."""

from __future__ import annotations

from evswarm.core.bundle import Decision, Oracle, RunStatus, SignalExpectation, SupplierSubstitution
from evswarm.world import catalog, regions
from evswarm.world.market import PROMOTION_RESTRICTIONS, in_window
from evswarm.world.rules import DEFERRAL_TOLERANCE_DAYS, FLEET_QUANTITY, OVERLOAD_UTILIZATION, PRICE_TOLERANCE
from evswarm.world.scenario import Scenario
from evswarm.world.supply import alternate_supplier


def promotion_applies(scenario: Scenario, event_id: str) -> bool:
    return (event_id, scenario.order.customer.region) not in PROMOTION_RESTRICTIONS


def incentive_applies(scenario: Scenario, event_id: str) -> bool:
    event = scenario.signal(event_id)
    cap = float(event.details.get("price_cap", 0.0))
    return in_window(event, scenario.delivery_date) and scenario.list_price() <= cap


def truth_price(scenario: Scenario) -> float:
    """Per-vehicle price: list price (with catalog changes) plus tariffs, less valid promotions and incentives."""
    price = scenario.list_price()
    price += sum(float(t.details["surcharge"]) for t in scenario.listed_tariffs())
    price -= sum(
        float(p.details["amount"]) for p in scenario.listed_promotions() if promotion_applies(scenario, p.event_id)
    )
    price -= sum(
        float(i.details["amount"]) for i in scenario.listed_incentives() if incentive_applies(scenario, i.event_id)
    )
    return round(price, 2)


def short_components(scenario: Scenario) -> list[str]:
    qty = max(scenario.order.quantity, 1)
    return [line.component for line in scenario.inventory if line.available < qty]


def overloaded(scenario: Scenario, factory_id: str) -> bool:
    return scenario.factory_state(factory_id).utilization > OVERLOAD_UTILIZATION


def best_alternate_factory(scenario: Scenario) -> str | None:
    """The factory with room that delivers soonest, other than the default one."""
    options = [
        f
        for f in scenario.candidate_factories()
        if f != scenario.default_factory
        and not overloaded(scenario, f)
        and scenario.factory_state(f).release_state == "open"
    ]
    return min(options, key=lambda f: (scenario.transit_days(f), f)) if options else None


def reroute_beats_waiting(scenario: Scenario, alternate: str) -> bool:
    """Reroute when waiting out the default factory's backlog costs more days than the longer transit."""
    wait = scenario.factory_state(scenario.default_factory).backlog_days
    extra_transit = scenario.transit_days(alternate) - scenario.transit_days(scenario.default_factory)
    return wait > extra_transit


def oracle_for(scenario: Scenario) -> Oracle:
    o, v = scenario.order, scenario.order.vehicle
    required = ["BuildabilityValidationAgent"]
    signals = _signal_expectations(scenario)

    def done(
        decision: Decision,
        status: RunStatus,
        rationale: str,
        *,
        price: float | None = None,
        factory: str | None = None,
        subs: list[SupplierSubstitution] | None = None,
        review: bool = False,
        rules: list[str] | None = None,
        early_exit: bool = False,
        pricing_signals_only: bool = False,
    ) -> Oracle:
        # An order stopped before pricing never needs its market signals read; one stopped by compliance
        # has read only the pricing ones.
        kept = [e for e in signals if _is_pricing_signal(scenario, e.event_id)] if pricing_signals_only else signals
        return Oracle(
            decision=decision,
            expected_status=status,
            expected_price=price,
            price_tolerance=PRICE_TOLERANCE,
            factory=factory,
            supplier_substitutions=subs or [],
            required_specialists=sorted(set(required)),
            review_required=review,
            signals=[] if early_exit else kept,
            blocking_rules=rules or [],
            rationale=rationale,
        )

    if scenario.malformed:
        required.clear()
        return done(
            Decision.BLOCK,
            RunStatus.BLOCKED,
            "The order fails basic validity checks.",
            rules=["order_validity"],
            early_exit=True,
        )
    violations = catalog.buildability_violations(v.model, v.trim, v.wheels, v.battery, v.options)
    if violations:
        required.append("CustomerCommsAgent")
        return done(
            Decision.BLOCK,
            RunStatus.BLOCKED,
            f"Configuration is not buildable: {', '.join(violations)}.",
            rules=violations,
            early_exit=True,
        )
    if scenario.all_intent_issues:
        required += ["ClarificationAgent", "CustomerCommsAgent"]
        return done(
            Decision.REQUEST_CLARIFICATION,
            RunStatus.AWAITING_REVIEW,
            f"Customer intent is unclear: {', '.join(scenario.all_intent_issues)}.",
            early_exit=True,
        )

    price = truth_price(scenario)
    required.append("PricingAgent")
    if scenario.listed_promotions():
        required.append("PromotionStrategyAgent")
    if scenario.listed_incentives():
        required.append("IncentivePolicyAgent")
    price_moved = o.quoted_price is not None and abs(price - o.quoted_price) > PRICE_TOLERANCE
    if price_moved:
        required.append("PricingExceptionAgent")

    required.append("ComplianceValidationAgent")
    blocked_by = regions.blocking_rules(o.customer.region, v.model, v.wheels, v.battery, v.options, scenario.order_date)
    if regions.REGIONS[o.customer.region].special_regime and not blocked_by:
        required.append("RegionalComplianceAgent")
    if blocked_by:
        required.append("CustomerCommsAgent")
        return done(
            Decision.BLOCK,
            RunStatus.BLOCKED,
            f"Regional rules forbid the build: {', '.join(blocked_by)}.",
            rules=blocked_by,
            pricing_signals_only=True,
        )

    if scenario.signals_of("competitor", "launch", "rate_change"):
        required.append("MarketIntelligenceAgent")
    required += [
        "SupplyAllocationAgent",
        "SupplierRiskAgent",
        "CapacityPlanningAgent",
        "ProductionSchedulingAgent",
        "FactoryReleaseAgent",
        "ReleaseReviewAgent",
        "SwarmMonitorAgent",
        "CustomerCommsAgent",
    ]
    if scenario.orchestrator_mode == "shadow":
        required.append("ShadowOrchestrator")

    substitutions = []
    for component in short_components(scenario):
        required.append("ProcurementPlanningAgent")
        line = scenario.inventory_line(component)
        assert line is not None
        substitutions.append(
            SupplierSubstitution(
                component=component,
                from_supplier=line.supplier_id,
                to_supplier=alternate_supplier(component).supplier_id,
            )
        )

    factory = scenario.default_factory
    if overloaded(scenario, factory):
        alternate = best_alternate_factory(scenario)
        required.append("FactoryRoutingAgent")
        if alternate is not None and scenario.factory_state(factory).backlog_days > DEFERRAL_TOLERANCE_DAYS:
            if scenario.transit_days(alternate) - scenario.transit_days(factory) > DEFERRAL_TOLERANCE_DAYS:
                required.append("TradeoffPlannerAgent")
                if reroute_beats_waiting(scenario, alternate):
                    factory = alternate
            else:
                factory = alternate

    review = o.quantity >= FLEET_QUANTITY or scenario.factory_state(factory).release_state != "open"
    if review:
        required += ["EscalationTriageAgent", "HumanEscalationAgent"]
    if scenario.factory_state(factory).release_state != "open":
        return done(
            Decision.HOLD_FOR_REVIEW,
            RunStatus.AWAITING_REVIEW,
            f"Factory {factory} is on {scenario.factory_state(factory).release_state}; a reviewer must sign off.",
            price=price,
            factory=factory,
            subs=substitutions,
            review=True,
        )
    if review and not scenario.reviewer_on_shift:
        return done(
            Decision.HOLD_FOR_REVIEW,
            RunStatus.AWAITING_REVIEW,
            "Fleet order needs reviewer approval and no reviewer is on shift.",
            price=price,
            factory=factory,
            subs=substitutions,
            review=True,
        )

    if factory != scenario.default_factory:
        decision, why = Decision.REROUTE, f"Reroute to {factory}: {scenario.default_factory} is over capacity."
    elif substitutions:
        decision, why = Decision.SUBSTITUTE_SUPPLIER, "Substitute suppliers for short components."
    elif price_moved:
        decision, why = Decision.ADJUST_PRICE, f"Correct price is {price:.2f}, quote was {o.quoted_price:.2f}."
    else:
        decision, why = Decision.RELEASE, "Order is valid, priced correctly and buildable on schedule."
    return done(decision, RunStatus.COMPLETED, why, price=price, factory=factory, subs=substitutions, review=review)


def _signal_expectations(scenario: Scenario) -> list[SignalExpectation]:
    expectations = []
    for event in scenario.signals:
        if event.event_type == "promotion":
            action = "apply" if promotion_applies(scenario, event.event_id) else "exclude"
        elif event.event_type == "incentive":
            action = "apply" if incentive_applies(scenario, event.event_id) else "exclude"
        elif event.event_type in ("tariff", "price_change"):
            action = "apply"
        else:
            action = "notice"
        expectations.append(SignalExpectation(event_id=event.event_id, expected_action=action))
    return expectations


def _is_pricing_signal(scenario: Scenario, event_id: str) -> bool:
    return scenario.signal(event_id).event_type in ("promotion", "incentive", "tariff", "price_change")
