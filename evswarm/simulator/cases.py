"""Seeded scenario generators, one per case type. Run i of seed s depends on (s, i) only.

Each generator starts from a clean, buildable order and perturbs the world to create its situation
(a stockout, a capacity shock, a region rule, a price change, ...). The oracle is derived afterwards.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from evswarm.agents.versions import builtin_catalog
from evswarm.core.bundle import Customer, OrderConfig, Vehicle
from evswarm.core.versions import BatchVersions, ResolvedVersionSet
from evswarm.simulator.draft import (
    WINDOW_DAYS,
    WINDOW_START,
    Draft,
    clean_draft,
    draft_where,
    far_alternates_only,
    near_alternate,
    weighted,
)
from evswarm.simulator.trouble import add_trouble
from evswarm.world import catalog, market, oracle, regions
from evswarm.world.market import PROMOTION_RESTRICTIONS, days_between, shift
from evswarm.world.scenario import Scenario

CASE_WEIGHTS: dict[str, float] = {
    "clean_simple": 0.18,
    "validation_block_simple": 0.08,
    "release_block_simple": 0.06,
    "capacity_hold_simple": 0.08,
    "pricing_exception_compound": 0.065,
    "escalation_resume_compound": 0.06,
    "supplier_substitution_compound": 0.09,
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


def run_id_for(seed: int, index: int) -> str:
    return "run_" + hashlib.sha256(f"evswarm:{seed}:{index}".encode()).hexdigest()[:32]


def _clean(rng: random.Random) -> Draft:
    return clean_draft(rng)


def _validation_block(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
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


def _release_block(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
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


def _capacity_hold(rng: random.Random) -> Draft:
    draft = draft_where(rng, near_alternate)
    draft.overload(draft.default_factory, (12, 25))
    return draft


def _pricing_exception(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
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


def _escalation_resume(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
    draft.quantity = rng.randint(10, 30)
    draft.segment = "fleet"
    draft.reviewer_on_shift = True
    draft.notes = f"Fleet order for {draft.quantity} vehicles; fleet desk approval expected."
    return draft


def _supplier_substitution(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
    draft.stockout(rng.choice(sorted(draft.inventory)))
    return draft


_REGION_RULE_SETUPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("de-pickup-homologation", {"region": "EU-DE", "model": "Ridge"}),
    ("on-offroad-wheel-width", {"region": "CA-ON", "model": "Ridge"}),
    ("ca-assist-plus-permit", {"region": "US-CA"}),
    ("on-lfp-cold-weather", {"region": "CA-ON"}),
)


def _regional_compliance(rng: random.Random) -> Draft:
    for _ in range(500):
        rule_id, where = rng.choice(_REGION_RULE_SETUPS)
        rule = next(r for r in regions.REGION_RULES if r.rule_id == rule_id)
        draft = Draft(rng, **where)
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


def _clarification_needed(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
    draft.paint = ""
    draft.notes = "Paint colour still to be confirmed with my partner."
    draft.intent_issues = ["PAINT_UNSPECIFIED"]
    return draft


def _schedule_incentive(rng: random.Random) -> Draft:
    for _ in range(500):
        draft = clean_draft(rng)
        ending = [
            i
            for i in market.INCENTIVES
            if draft.region in i.regions and i.effective_to and "2025-05-10" <= i.effective_to <= "2025-10-25"
        ]
        if not ending:
            continue
        incentive = rng.choice(ending)
        assert incentive.effective_to is not None
        draft = Draft(rng, region=draft.region, order_date=shift(incentive.effective_to, -rng.randint(3, 25)))
        if not draft.clean():
            continue
        draft.delivery_date = shift(incentive.effective_to, rng.randint(8, 40))
        price = catalog.list_price(draft.model, draft.trim, draft.wheels, draft.battery, draft.options)
        if price > float(incentive.details["price_cap"]):
            continue
        draft.quote_offset = -float(incentive.details["amount"])
        return draft
    raise RuntimeError("no schedule/incentive case found")


def _tradeoff(rng: random.Random) -> Draft:
    draft = draft_where(rng, far_alternates_only)
    draft.overload(draft.default_factory, (10, 40))
    return draft


def _dual_failure(rng: random.Random) -> Draft:
    draft = draft_where(rng, near_alternate)
    draft.overload(draft.default_factory, (12, 25))
    draft.stockout(rng.choice(sorted(draft.inventory)))
    return draft


def _ambiguous_intent(rng: random.Random) -> Draft:
    draft = clean_draft(rng)
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


def _conflicting(rng: random.Random) -> Draft:
    for _ in range(500):
        promo_id, region, start, models = rng.choice(_CONFLICT_SETUPS)
        promo = next(p for p in market.PROMOTIONS if p.event_id == promo_id)
        assert promo.effective_to is not None
        last = min(promo.effective_to, shift(WINDOW_START, WINDOW_DAYS - 1))
        day = shift(start, rng.randrange(days_between(start, last) + 1))
        draft = Draft(rng, region=region, model=rng.choice(models), order_date=day)
        if (
            draft.clean()
            and (promo_id, region) in PROMOTION_RESTRICTIONS
            and promo in market.listed_promotions(region, draft.model, day)
        ):
            draft.quote_offset = -float(promo.details["amount"])
            return draft
    raise RuntimeError("no conflicting case found")


GENERATORS: dict[str, Callable[[random.Random], Draft]] = {
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
    seed: int,
    index: int,
    *,
    version_sets: list[str] | None = None,
    batch_label: str = "",
    case_type: str | None = None,
    versions: BatchVersions | None = None,
) -> Scenario:
    """The scenario of run `index` in a batch with `seed` (same arguments, same scenario).

    The run's version set is drawn from `version_sets` (uniformly), else from the schedule of `versions`
    (default: the built-in sets and schedule). Two batches with the same seed and one version set each
    get the same orders, world and trouble run for run: only what the versions switch on differs."""
    rng = random.Random(f"evswarm-scenario:{seed}:{index}")
    case = case_type or weighted(rng, CASE_WEIGHTS)
    sets, schedule = (
        (versions.version_sets, versions.schedule_weights()) if versions is not None else _builtin_sets_and_schedule()
    )
    version_set = version_sets[rng.randrange(len(version_sets))] if version_sets else weighted(rng, schedule)
    draft = GENERATORS[case](rng)
    _add_background(draft)
    add_trouble(draft, run_id_for(seed, index))
    return _finish(draft, seed=seed, index=index, case=case, version=sets[version_set], batch_label=batch_label)


def _builtin_sets_and_schedule() -> tuple[dict[str, ResolvedVersionSet], dict[str, float]]:
    catalog = builtin_catalog()
    return catalog.sets, catalog.schedule


def _add_background(draft: Draft) -> None:
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


def _finish(
    draft: Draft, *, seed: int, index: int, case: str, version: ResolvedVersionSet, batch_label: str
) -> Scenario:
    rng = draft.rng
    run_id = run_id_for(seed, index)
    background = [
        *market.listed_promotions(draft.region, draft.model, draft.order_date),
        *market.listed_incentives(draft.region, draft.model, draft.order_date),
        *market.listed_tariffs(draft.region, draft.battery, draft.order_date),
        *market.active_market_signals(draft.region, draft.model, draft.order_date),
    ]
    signals = sorted([*background, *draft.extra_signals], key=lambda e: (e.effective_from, e.event_id))
    faults, window_id = version.active_faults(draft.order_date)
    market_regime, price_regime, schedule_regime = market.regimes_on(draft.order_date)
    window = version.window_on(draft.order_date)
    if window is not None:
        market_regime = window.market_regime or market_regime
        schedule_regime = window.schedule_regime or schedule_regime
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
        version_set=version.name,
        orchestrator_mode=version.orchestrator_mode,
        rogue_window_id=window_id,
        active_faults=faults,
        market_regime=market_regime,
        price_regime=price_regime,
        schedule_regime=schedule_regime,
        signals=signals,
        inventory=list(draft.inventory.values()),
        factories=list(draft.factories.values()),
        intent_issues=draft.intent_issues,
        hidden_intent_issues=draft.hidden_intent_issues,
        flaky_tools=draft.flaky,
        tool_troubles=draft.troubles,
        late_shock=draft.late_shock,
        reviewer_on_shift=draft.reviewer_on_shift,
        malformed=draft.malformed,
    )
    if not draft.malformed and not catalog.buildability_violations(
        draft.model, draft.trim, draft.wheels, draft.battery, draft.options
    ):
        scenario.order.quoted_price = round(oracle.truth_price(scenario) + draft.quote_offset, 2)
    return scenario
