"""A scenario under construction: a clean, buildable order that the case generators perturb."""

from __future__ import annotations

import random
from collections.abc import Callable

from evswarm.core.bundle import EnvironmentEvent
from evswarm.world import catalog, regions
from evswarm.world.factories import FACTORIES, factories_for
from evswarm.world.market import shift
from evswarm.world.rules import DEFERRAL_TOLERANCE_DAYS
from evswarm.world.scenario import FactoryState, InventoryLine
from evswarm.world.supply import alternate_supplier, primary_supplier
from evswarm.world.trouble import LateShock, ToolTrouble

WINDOW_START, WINDOW_DAYS = "2025-05-01", 184

REGION_WEIGHTS = {"US-CA": 0.25, "US-TX": 0.18, "US-NY": 0.15, "US-WA": 0.1, "CA-ON": 0.16, "EU-DE": 0.16}


class Draft:
    """A scenario under construction: a clean order that case generators perturb."""

    def __init__(
        self, rng: random.Random, region: str | None = None, model: str | None = None, order_date: str | None = None
    ) -> None:
        self.rng = rng
        self.order_date = order_date or shift(WINDOW_START, rng.randrange(WINDOW_DAYS))
        self.region = region or weighted(rng, REGION_WEIGHTS)
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
        self.troubles: list[ToolTrouble] = []
        self.late_shock: LateShock | None = None
        self.hidden_intent_issues: list[str] = []

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


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def clean_draft(rng: random.Random, **kwargs: str) -> Draft:
    for _ in range(200):
        draft = Draft(rng, **kwargs)
        if draft.clean():
            return draft
    raise RuntimeError(f"no clean configuration for {kwargs}")


# --- case generators ---------------------------------------------------------------------------------


def _extra_transit_days(draft: Draft) -> list[int]:
    """How many more transit days each alternate factory needs than the default one."""
    default_transit = FACTORIES[draft.default_factory].transit_days[draft.region]
    return [
        FACTORIES[f].transit_days[draft.region] - default_transit for f in draft.factories if f != draft.default_factory
    ]


def near_alternate(draft: Draft) -> bool:
    return any(days <= DEFERRAL_TOLERANCE_DAYS for days in _extra_transit_days(draft))


def far_alternates_only(draft: Draft) -> bool:
    extra = _extra_transit_days(draft)
    return bool(extra) and all(days > DEFERRAL_TOLERANCE_DAYS for days in extra)


def draft_where(rng: random.Random, ok: Callable[[Draft], bool]) -> Draft:
    for _ in range(500):
        draft = clean_draft(rng)
        if ok(draft):
            return draft
    raise RuntimeError("no draft satisfies the case constraints")
