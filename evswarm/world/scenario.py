"""A scenario: one customer order plus the slice of world state that the swarm's tools can read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from evswarm.core.bundle import EnvironmentEvent, OrderConfig
from evswarm.world import catalog, market
from evswarm.world.factories import FACTORIES, factories_for
from evswarm.world.trouble import LateShock, ToolTrouble


class InventoryLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    component: str
    supplier_id: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class FactoryState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    factory_id: str
    utilization: float
    release_state: str
    backlog_days: int


class Scenario(BaseModel):
    """Everything the world knows about one run. Tools read it; the policy model never does."""

    model_config = ConfigDict(extra="forbid")

    index: int
    run_id: str
    config_id: str
    seed: int
    batch_label: str
    case_type: str
    issue_cluster: str
    order: OrderConfig
    quote_date: str
    order_date: str
    delivery_date: str
    default_factory: str
    version_set: str
    orchestrator_mode: str
    rogue_window_id: str | None
    active_faults: list[str]
    market_regime: str
    price_regime: str
    schedule_regime: str
    signals: list[EnvironmentEvent]
    inventory: list[InventoryLine]
    factories: list[FactoryState]
    intent_issues: list[str] = Field(default_factory=list)
    hidden_intent_issues: list[str] = Field(
        default_factory=list, description="intent conflicts in the notes that the notes screen does not flag"
    )
    flaky_tools: list[str] = Field(default_factory=list, description="feeds that fail once and then answer")
    tool_troubles: list[ToolTrouble] = Field(default_factory=list)
    late_shock: LateShock | None = None
    slip_salt: dict[str, str] = Field(
        default_factory=dict, description="per agent: a salt for its random stream (a resample intervention)"
    )
    agent_slips: bool = Field(True, description="agents make their organic slips (off only in controlled tests)")
    steady_agents: list[str] = Field(
        default_factory=list, description="agents that make no organic slips in this run (an agent intervention)"
    )
    reviewer_on_shift: bool = False
    malformed: bool = False

    # --- world look-ups shared by tools and the oracle -------------------------------------------------

    def signal(self, event_id: str) -> EnvironmentEvent:
        return next(s for s in self.signals if s.event_id == event_id)

    def signals_of(self, *event_types: str) -> list[EnvironmentEvent]:
        return [s for s in self.signals if s.event_type in event_types]

    def factory_state(self, factory_id: str, *, landed: bool = True) -> FactoryState:
        """A factory's state; with a late shock at it, the shocked state unless `landed` is False (the
        oracle judges the final world; tools see the shock only once it has landed)."""
        state = next(f for f in self.factories if f.factory_id == factory_id)
        shock = self.late_shock
        if landed and shock is not None and shock.factory_id == factory_id:
            return state.model_copy(update={"utilization": shock.utilization, "backlog_days": shock.backlog_days})
        return state

    def calm(self) -> Scenario:
        """This scenario with every organic cause off: no slips, no tool, environment or input trouble."""
        return self.model_copy(
            update={"agent_slips": False, "tool_troubles": [], "late_shock": None, "hidden_intent_issues": []}
        )

    def trouble(self, tool: str) -> ToolTrouble | None:
        return next((t for t in self.tool_troubles if t.tool == tool), None)

    @property
    def all_intent_issues(self) -> list[str]:
        """Every way the notes conflict with the order, flagged by the screen or not."""
        return [*self.intent_issues, *self.hidden_intent_issues]

    def msrp_adjustment(self) -> float:
        """Sum of catalog price changes for the model in force on the order date."""
        return sum(
            float(s.details["delta"]) for s in self.signals_of("price_change") if s.effective_from <= self.order_date
        )

    def list_price(self) -> float:
        v = self.order.vehicle
        return catalog.list_price(v.model, v.trim, v.wheels, v.battery, v.options) + self.msrp_adjustment()

    def candidate_factories(self) -> list[str]:
        return [f.factory_id for f in factories_for(self.order.vehicle.model)]

    def transit_days(self, factory_id: str) -> int:
        return FACTORIES[factory_id].transit_days[self.order.customer.region]

    def inventory_line(self, component: str) -> InventoryLine | None:
        return next((line for line in self.inventory if line.component == component), None)

    def supplier_mix(self) -> list[str]:
        return [line.supplier_id for line in self.inventory]

    def listed_promotions(self) -> list[EnvironmentEvent]:
        v, region = self.order.vehicle, self.order.customer.region
        return market.listed_promotions(region, v.model, self.order_date)

    def listed_incentives(self) -> list[EnvironmentEvent]:
        v, region = self.order.vehicle, self.order.customer.region
        return market.listed_incentives(region, v.model, self.order_date)

    def listed_tariffs(self) -> list[EnvironmentEvent]:
        return market.listed_tariffs(self.order.customer.region, self.order.vehicle.battery, self.order_date)
