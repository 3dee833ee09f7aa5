"""Seeded scenario generators, one per case type. Run i of seed s depends on (s, i) only.

Each generator starts from a clean, buildable order and perturbs the world to create its situation
(a stockout, a capacity shock, a region rule, a price change, ...). The oracle is derived afterwards.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from evswarm.agents.versions import DEFAULT_SCHEDULE, VERSION_SETS, active_faults
from evswarm.core.bundle import Customer, EnvironmentEvent, OrderConfig, Vehicle
from evswarm.simulator import oracle
from evswarm.simulator.scenario import FactoryState, InventoryLine, Scenario
from evswarm.simulator.world import catalog, market, regions
from evswarm.simulator.world.factories import FACTORIES, factories_for
from evswarm.simulator.world.market import PROMOTION_RESTRICTIONS, days_between, shift
from evswarm.simulator.world.supply import alternate_supplier, primary_supplier

WINDOW_START, WINDOW_DAYS = "2025-05-01", 184

CASE_WEIGHTS: dict[str, float] = {
    "clean_simple": 0.19,
    "validation_block_simple": 0.08,
    "release_block_simple": 0.06,
    "capacity_hold_simple": 0.08,
    "pricing_exception_compound": 0.065,
    "escalation_resume_compound": 0.06,
    "supplier_substitution_compound": 0.08,
    "regional_compliance_compound": 0.06,
    "clarification_needed_compound": 0.05,
    "schedule_incentive_compound": 0.06,
    "tradeoff_recommended_compound": 0.05,
    "dual_failure_recovery_compound": 0.06,
    "ambiguous_customer_intent_compound": 0.045,
    "conflicting_multi_agent_compound": 0.05,
}

ISSUE_CLUSTERS: dict[str, str] = {
    "clean_simple": "none",
    "validation_block_simple": "buildability",
    "release_block_simple": "factory_release",
    "capacity_hold_simple": "capacity",
    "pricing_exception_compound": "pricing",
    "escalation_resume_compound": "review",
    "supplier_substitution_compound": "supply",
    "regional_compliance_compound": "compliance",
    "clarification_needed_compound": "customer_intent",
    "schedule_incentive_compound": "incentives",
    "tradeoff_recommended_compound": "fulfillment_tradeoff",
    "dual_failure_recovery_compound": "supply_and_capacity",
    "ambiguous_customer_intent_compound": "customer_intent",
    "conflicting_multi_agent_compound": "pricing_compliance_conflict",
}

CUSTOMER_NAMES = (
    "Avery Chen",
    "Jordan Patel",
    "Sam Okafor",
    "Riley Novak",
    "Morgan Silva",
    "Casey Brandt",
    "Taylor Ruiz",
    "Quinn Larsen",
    "Harper Ito",
    "Rowan Adeyemi",
    "Emerson Kowalski",
    "Devon Park",
)
REGION_WEIGHTS = {"US-CA": 0.25, "US-TX": 0.18, "US-NY": 0.15, "US-WA": 0.1, "CA-ON": 0.16, "EU-DE": 0.16}


def run_id_for(seed: int, index: int) -> str:
    return "run_" + hashlib.sha256(f"evswarm:{seed}:{index}".encode()).hexdigest()[:32]


class _Draft:
    """A scenario under construction: a clean order that case generators perturb."""

    def __init__(
        self, rng: random.Random, region: str | None = None, model: str | None = None, order_date: str | None = None
    ) -> None:
        self.rng = rng
        self.order_date = order_date or shift(WINDOW_START, rng.randrange(WINDOW_DAYS))
        self.region = region or _weighted(rng, REGION_WEIGHTS)
        models = [m for m, spec in catalog.MODELS.items() if spec.launch_date <= self.order_date]
        self.model = model if model else rng.choice(models)
        spec = catalog.MODELS[self.model]
        self.trim = rng.choice(sorted(spec.trims))
        trim = spec.trims[self.trim]
        self.battery = rng.choice(trim.batteries)
        self.wheels = rng.choice(trim.wheels)
        allowed = [o for o in spec.options if not (o == "tow_package" and self.battery == "LFP-60")]
        self.options = sorted(rng.sample(allowed, rng.randint(0, min(2, len(allowed)))))
        self.paint = rng.choice(catalog.PAINTS)
        self.quantity = 1
        self.segment = "retail"
        self.notes = ""
        self.quote_date = shift(self.order_date, -rng.randint(0, 6))
        self.delivery_date = shift(self.order_date, rng.randint(30, 75))
        candidates = [f.factory_id for f in factories_for(self.model)]
        region_default = regions.REGIONS[self.region].default_factory
        self.default_factory = (
            region_default
            if region_default in candidates
            else min(candidates, key=lambda f: (FACTORIES[f].transit_days[self.region], f))
        )
        self.factories = {
            f: FactoryState(
                factory_id=f,
                utilization=round(rng.uniform(0.55, 0.9), 2),
                release_state="open",
                backlog_days=rng.randint(2, 6),
            )
            for f in candidates
        }
        self.inventory = {
            c: InventoryLine(
                component=c,
                supplier_id=primary_supplier(c).supplier_id,
                on_hand=(on_hand := rng.randint(60, 400)),
                allocated=rng.randint(0, on_hand // 2),
            )
            for c in catalog.required_components(self.model, self.wheels, self.battery)
        }
        self.extra_signals: list[EnvironmentEvent] = []
        self.intent_issues: list[str] = []
        self.quote_offset = 0.0
        self.malformed = False
        self.reviewer_on_shift = False
        self.flaky: list[str] = []

    def clean(self) -> bool:
        problems = catalog.buildability_violations(self.model, self.trim, self.wheels, self.battery, self.options)
        blocks = regions.blocking_rules(
            self.region, self.model, self.wheels, self.battery, self.options, self.order_date
        )
        return not problems and not blocks

    def add_signal(
        self,
        event_id: str,
        event_type: str,
        title: str,
        start: str,
        end: str | None,
        affects: list[str],
        **details: object,
    ) -> None:
        self.extra_signals.append(
            EnvironmentEvent(
                event_id=event_id,
                event_type=event_type,
                title=title,
                effective_from=start,
                effective_to=end,
                regions=[self.region],
                affects=affects,
                details=dict(details),
            )
        )

    def stockout(self, component: str) -> None:
        line = self.inventory[component]
        line.allocated = line.on_hand
        restock = shift(self.order_date, self.rng.randint(20, 45))
        self.add_signal(
            f"stockout-{component}-{line.supplier_id}",
            "stockout",
            f"{line.supplier_id} cannot ship {component}",
            shift(self.order_date, -3),
            restock,
            [component],
            supplier=line.supplier_id,
            restock_date=restock,
            alternate_supplier=alternate_supplier(component).supplier_id,
        )

    def overload(self, factory: str, backlog: tuple[int, int]) -> None:
        state = self.factories[factory]
        state.utilization = round(self.rng.uniform(1.08, 1.3), 2)
        state.backlog_days = self.rng.randint(*backlog)
        self.add_signal(
            f"capacity-shock-{factory}-{self.order_date}",
            "capacity_shock",
            f"Line outage at {factory}",
            shift(self.order_date, -5),
            shift(self.order_date, 25),
            [factory],
            factory=factory,
            backlog_days=state.backlog_days,
        )


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _clean_draft(rng: random.Random, **kwargs: str) -> _Draft:
    for _ in range(200):
        draft = _Draft(rng, **kwargs)
        if draft.clean():
            return draft
    raise RuntimeError(f"no clean configuration for {kwargs}")


# --- case generators ---------------------------------------------------------------------------------


def _clean(rng: random.Random) -> _Draft:
    return _clean_draft(rng)


def _validation_block(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    if rng.random() < 0.15:
        draft.malformed = True
        draft.quantity = 0
        return draft
    spec = catalog.MODELS[draft.model]
    for trim_code in rng.sample(sorted(spec.trims), len(spec.trims)):
        trim = spec.trims[trim_code]
        bad_wheels = [w for w in sorted(catalog.WHEEL_PRICES) if w not in trim.wheels and w != "22in_offroad"]
        bad_batteries = [b for b in sorted(catalog.BATTERY_PRICES) if b not in trim.batteries]
        if bad_wheels and (rng.random() < 0.6 or not bad_batteries):
            draft.trim, draft.wheels = trim_code, rng.choice(bad_wheels)
            draft.battery = trim.batteries[0]
            return draft
        if bad_batteries:
            draft.trim, draft.battery = trim_code, rng.choice(bad_batteries)
            return draft
    raise RuntimeError("catalog offers no invalid combination")


def _release_block(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    draft.factories[draft.default_factory].release_state = "quality_hold"
    draft.add_signal(
        f"quality-hold-{draft.default_factory}-{draft.order_date}",
        "schedule_shock",
        f"Quality hold at {draft.default_factory}",
        shift(draft.order_date, -4),
        None,
        [draft.default_factory],
        factory=draft.default_factory,
        reason="battery weld audit",
    )
    return draft


def _extra_transit_days(draft: _Draft) -> list[int]:
    """How many more transit days each alternate factory needs than the default one."""
    default_transit = FACTORIES[draft.default_factory].transit_days[draft.region]
    return [
        FACTORIES[f].transit_days[draft.region] - default_transit for f in draft.factories if f != draft.default_factory
    ]


def _near_alternate(draft: _Draft) -> bool:
    return any(days <= oracle.DEFERRAL_TOLERANCE_DAYS for days in _extra_transit_days(draft))


def _far_alternates_only(draft: _Draft) -> bool:
    extra = _extra_transit_days(draft)
    return bool(extra) and all(days > oracle.DEFERRAL_TOLERANCE_DAYS for days in extra)


def _draft_where(rng: random.Random, ok: Callable[[_Draft], bool]) -> _Draft:
    for _ in range(500):
        draft = _clean_draft(rng)
        if ok(draft):
            return draft
    raise RuntimeError("no draft satisfies the case constraints")


def _capacity_hold(rng: random.Random) -> _Draft:
    draft = _draft_where(rng, _near_alternate)
    draft.overload(draft.default_factory, (12, 25))
    return draft


def _pricing_exception(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    draft.quote_date = shift(draft.order_date, -rng.randint(8, 20))
    effective = shift(draft.quote_date, rng.randint(1, days_between(draft.quote_date, draft.order_date)))
    delta = rng.choice([1800.0, 2400.0, -1500.0, 1200.0])
    draft.add_signal(
        f"msrp-change-{draft.model.lower()}-{effective}",
        "price_change",
        f"{draft.model} base price change",
        effective,
        None,
        [draft.model],
        delta=delta,
    )
    draft.quote_offset = -delta
    return draft


def _escalation_resume(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    draft.quantity = rng.randint(10, 30)
    draft.segment = "fleet"
    draft.reviewer_on_shift = True
    draft.notes = f"Fleet order for {draft.quantity} vehicles; fleet desk approval expected."
    return draft


def _supplier_substitution(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    draft.stockout(rng.choice(sorted(draft.inventory)))
    return draft


_REGION_RULE_SETUPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("de-pickup-homologation", {"region": "EU-DE", "model": "Ridge"}),
    ("on-offroad-wheel-width", {"region": "CA-ON", "model": "Ridge"}),
    ("ca-assist-plus-permit", {"region": "US-CA"}),
    ("on-lfp-cold-weather", {"region": "CA-ON"}),
)


def _regional_compliance(rng: random.Random) -> _Draft:
    for _ in range(500):
        rule_id, where = rng.choice(_REGION_RULE_SETUPS)
        rule = next(r for r in regions.REGION_RULES if r.rule_id == rule_id)
        draft = _Draft(rng, **where)
        if draft.order_date < rule.effective_from:
            continue
        spec = catalog.MODELS[draft.model]
        if rule.wheels:
            trims = [t for t, ts in spec.trims.items() if rule.wheels in ts.wheels]
            if not trims:
                continue
            draft.trim = rng.choice(trims)
            draft.wheels, draft.battery = rule.wheels, spec.trims[draft.trim].batteries[0]
        if rule.battery:
            trims = [t for t, ts in spec.trims.items() if rule.battery in ts.batteries]
            if not trims:
                continue
            draft.trim, draft.battery = rng.choice(trims), rule.battery
            draft.wheels = spec.trims[draft.trim].wheels[0]
            draft.options = [o for o in draft.options if o != "tow_package"]
        if rule.option:
            if rule.option not in spec.options:
                continue
            draft.options = sorted({*draft.options, rule.option})
        problems = catalog.buildability_violations(draft.model, draft.trim, draft.wheels, draft.battery, draft.options)
        if not problems and regions.blocking_rules(
            draft.region, draft.model, draft.wheels, draft.battery, draft.options, draft.order_date
        ):
            return draft
    raise RuntimeError("no regional compliance case found")


def _clarification_needed(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    draft.paint = ""
    draft.notes = "Paint colour still to be confirmed with my partner."
    draft.intent_issues = ["PAINT_UNSPECIFIED"]
    return draft


def _schedule_incentive(rng: random.Random) -> _Draft:
    for _ in range(500):
        draft = _clean_draft(rng)
        ending = [
            i
            for i in market.INCENTIVES
            if draft.region in i.regions and i.effective_to and "2025-05-10" <= i.effective_to <= "2025-10-25"
        ]
        if not ending:
            continue
        incentive = rng.choice(ending)
        assert incentive.effective_to is not None
        draft = _Draft(rng, region=draft.region, order_date=shift(incentive.effective_to, -rng.randint(3, 25)))
        if not draft.clean():
            continue
        draft.delivery_date = shift(incentive.effective_to, rng.randint(8, 40))
        price = catalog.list_price(draft.model, draft.trim, draft.wheels, draft.battery, draft.options)
        if price > float(incentive.details["price_cap"]):
            continue
        draft.quote_offset = -float(incentive.details["amount"])
        return draft
    raise RuntimeError("no schedule/incentive case found")


def _tradeoff(rng: random.Random) -> _Draft:
    draft = _draft_where(rng, _far_alternates_only)
    draft.overload(draft.default_factory, (10, 40))
    return draft


def _dual_failure(rng: random.Random) -> _Draft:
    draft = _draft_where(rng, _near_alternate)
    draft.overload(draft.default_factory, (12, 25))
    draft.stockout(rng.choice(sorted(draft.inventory)))
    return draft


def _ambiguous_intent(rng: random.Random) -> _Draft:
    draft = _clean_draft(rng)
    if "tow_package" not in draft.options:
        draft.notes = "We tow a 7,000 lb camper most weekends, so it has to handle that."
        draft.intent_issues = ["TOWING_NEED_WITHOUT_TOW_PACKAGE"]
    else:
        draft.notes = "Needs to seat seven for school runs."
        draft.intent_issues = ["SEATING_NEED_UNMET"]
    return draft


_CONFLICT_SETUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("promotion-apr-buydown-summer-2025", "CA-ON", "2025-06-01", ("Ridge", "Nova", "Atlas", "Lumen")),
    ("promotion-conquest-pickup-2025", "US-NY", "2025-08-01", ("Ridge",)),
    ("promotion-inventory-move-q4-2025", "EU-DE", "2025-10-01", ("Lumen", "Atlas")),
)


def _conflicting(rng: random.Random) -> _Draft:
    for _ in range(500):
        promo_id, region, start, models = rng.choice(_CONFLICT_SETUPS)
        promo = next(p for p in market.PROMOTIONS if p.event_id == promo_id)
        assert promo.effective_to is not None
        last = min(promo.effective_to, shift(WINDOW_START, WINDOW_DAYS - 1))
        day = shift(start, rng.randrange(days_between(start, last) + 1))
        draft = _Draft(rng, region=region, model=rng.choice(models), order_date=day)
        if (
            draft.clean()
            and (promo_id, region) in PROMOTION_RESTRICTIONS
            and promo in market.listed_promotions(region, draft.model, day)
        ):
            draft.quote_offset = -float(promo.details["amount"])
            return draft
    raise RuntimeError("no conflicting case found")


GENERATORS: dict[str, Callable[[random.Random], _Draft]] = {
    "clean_simple": _clean,
    "validation_block_simple": _validation_block,
    "release_block_simple": _release_block,
    "capacity_hold_simple": _capacity_hold,
    "pricing_exception_compound": _pricing_exception,
    "escalation_resume_compound": _escalation_resume,
    "supplier_substitution_compound": _supplier_substitution,
    "regional_compliance_compound": _regional_compliance,
    "clarification_needed_compound": _clarification_needed,
    "schedule_incentive_compound": _schedule_incentive,
    "tradeoff_recommended_compound": _tradeoff,
    "dual_failure_recovery_compound": _dual_failure,
    "ambiguous_customer_intent_compound": _ambiguous_intent,
    "conflicting_multi_agent_compound": _conflicting,
}
CASE_TYPES: tuple[str, ...] = tuple(GENERATORS)


def generate(
    seed: int, index: int, *, version_sets: list[str] | None = None, batch_label: str = "", case_type: str | None = None
) -> Scenario:
    """The scenario of run `index` in a batch with `seed` (same arguments, same scenario)."""
    rng = random.Random(f"evswarm-scenario:{seed}:{index}")
    case = case_type or _weighted(rng, CASE_WEIGHTS)
    if version_sets:
        version_set = version_sets[rng.randrange(len(version_sets))]
    else:
        version_set = _weighted(rng, dict(DEFAULT_SCHEDULE))
    draft = GENERATORS[case](rng)
    _add_background(draft)
    return _finish(draft, seed=seed, index=index, case=case, version_set=version_set, batch_label=batch_label)


def _add_background(draft: _Draft) -> None:
    """Everyday noise that any case may carry: a supplier on the watch list, a flaky data feed."""
    rng = draft.rng
    if rng.random() < 0.18:
        watchable = sorted(c for c in draft.inventory if not c.startswith("body_"))
        supplier = draft.inventory[rng.choice(watchable)].supplier_id
        draft.add_signal(
            f"supplier-watch-{supplier}",
            "supply_risk",
            f"{supplier} placed on risk watch",
            shift(draft.order_date, -10),
            shift(draft.order_date, 30),
            [supplier],
            supplier=supplier,
            reason=rng.choice(["port strike", "credit downgrade", "flood"]),
        )
    if rng.random() < 0.1:
        draft.flaky = [rng.choice(["get_factory_capacity", "check_inventory", "list_incentives"])]


def _finish(draft: _Draft, *, seed: int, index: int, case: str, version_set: str, batch_label: str) -> Scenario:
    rng = draft.rng
    run_id = run_id_for(seed, index)
    background = [
        *market.listed_promotions(draft.region, draft.model, draft.order_date),
        *market.listed_incentives(draft.region, draft.model, draft.order_date),
        *market.listed_tariffs(draft.region, draft.battery, draft.order_date),
        *market.active_market_signals(draft.region, draft.model, draft.order_date),
    ]
    signals = sorted([*background, *draft.extra_signals], key=lambda e: (e.effective_from, e.event_id))
    faults, window = active_faults(version_set, draft.order_date)
    market_regime, price_regime, schedule_regime = market.regimes_on(draft.order_date)
    if window == "rogue-shadow-window-2025q3":
        market_regime, schedule_regime = "anomalous_routing", "unstable_dispatch"
    order = OrderConfig(
        customer=Customer(name=rng.choice(CUSTOMER_NAMES), region=draft.region, segment=draft.segment),
        vehicle=Vehicle(
            model=draft.model,
            trim=draft.trim,
            wheels=draft.wheels,
            battery=draft.battery,
            paint=draft.paint,
            options=draft.options,
        ),
        quantity=draft.quantity,
        order_date=draft.order_date,
        requested_delivery=draft.delivery_date,
        quoted_price=None,
        notes=draft.notes,
        metadata={
            "generation_params": {
                "case_type": case,
                "issue_cluster": ISSUE_CLUSTERS[case],
                "quote_date": draft.quote_date,
                "active_event_types": sorted({e.event_type for e in signals}),
            }
        },
    )
    scenario = Scenario(
        index=index,
        run_id=run_id,
        config_id=f"cfg_{seed}_{index:05d}",
        seed=seed,
        batch_label=batch_label,
        case_type=case,
        issue_cluster=ISSUE_CLUSTERS[case],
        order=order,
        quote_date=draft.quote_date,
        order_date=draft.order_date,
        delivery_date=draft.delivery_date,
        default_factory=draft.default_factory,
        version_set=version_set,
        orchestrator_mode=VERSION_SETS[version_set].orchestrator_mode,
        rogue_window_id=window,
        active_faults=faults,
        market_regime=market_regime,
        price_regime=price_regime,
        schedule_regime=schedule_regime,
        signals=signals,
        inventory=list(draft.inventory.values()),
        factories=list(draft.factories.values()),
        intent_issues=draft.intent_issues,
        flaky_tools=draft.flaky,
        reviewer_on_shift=draft.reviewer_on_shift,
        malformed=draft.malformed,
    )
    if not draft.malformed and not catalog.buildability_violations(
        draft.model, draft.trim, draft.wheels, draft.battery, draft.options
    ):
        scenario.order.quoted_price = round(oracle.truth_price(scenario) + draft.quote_offset, 2)
    return scenario
