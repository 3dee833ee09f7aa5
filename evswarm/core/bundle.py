"""The trace bundle (`evswarm.bundle.v1`): one JSON document per run, the contract between stages.

Its top level is a superset of the reference notebook's bundle (`run`, `trace`, `spans`, `events`,
`environment_events`, `review_packet`, `snapshots`), so a reader written for the reference reads ours.
evswarm adds `format`, `seed`, `model_calls` (what replay needs), `oracle` (the world's correct
decision) and `injected_faults` (the causal record of every cause that acted, planted or organic: ground
truth for benchmarks and tests; graders and the analysis never read it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evswarm.core.symptoms import Severity

BUNDLE_FORMAT: Literal["evswarm.bundle.v1"] = "evswarm.bundle.v1"


class Decision(StrEnum):
    """What the swarm (or the oracle) decides to do with an order."""

    RELEASE = "release"
    ADJUST_PRICE = "adjust_price"
    REROUTE = "reroute"
    SUBSTITUTE_SUPPLIER = "substitute_supplier"
    HOLD_FOR_REVIEW = "hold_for_review"
    REQUEST_CLARIFICATION = "request_clarification"
    BLOCK = "block"

    @property
    def releases(self) -> bool:
        """The order goes to production (anything but a hold, a clarification request or a block)."""
        return self in RELEASING


RELEASING: frozenset[Decision] = frozenset(
    {Decision.RELEASE, Decision.ADJUST_PRICE, Decision.REROUTE, Decision.SUBSTITUTE_SUPPLIER}
)
"""Decisions that let an order go to production."""


class RunStatus(StrEnum):
    """Terminal state of a run. `unknown`: a trace imported or recorded without an outcome."""

    COMPLETED = "completed"
    AWAITING_REVIEW = "awaiting_review"
    BLOCKED = "blocked"
    FAILED = "failed"
    UNKNOWN = "unknown"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class _Open(BaseModel):
    """A record that tolerates extra keys, so bundles from the reference layout still load."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


class Finding(_Model):
    """A finding an agent reported (a business signal such as a stockout or a price drift), not a grade."""

    code: str
    """A stable code, e.g. COMPONENT_STOCKOUT."""
    severity: Severity
    """Info, warning or error."""
    message: str
    """One line for people."""
    agent_name: str
    """The agent that reported it."""
    span_id: str | None = None
    """The span of the report that carried it."""


class SupplierSubstitution(_Model):
    component: str
    """The component re-sourced."""
    from_supplier: str
    """The supplier it was short at."""
    to_supplier: str
    """The second source."""


class FinalDecision(_Model):
    """The swarm's final structured answer for the order."""

    decision: Decision
    """What happens to the order."""
    quoted_price: float | None
    """The final per-vehicle price, if any."""
    factory: str | None
    """Where the order is built, if released."""
    supplier_substitutions: list[SupplierSubstitution] = Field(default_factory=list)
    """Second sources used."""
    review_required: bool
    """Whether a human reviewer must sign off."""
    applied_incentives: list[str] = Field(default_factory=list)
    """Incentive event ids in the price."""
    applied_promotions: list[str] = Field(default_factory=list)
    """Promotion event ids in the price."""
    rationale: str
    """One line on why."""
    decided_by: str
    """`Orchestrator`, or `guardrail:<name>` when a guardrail stopped the run."""


class RunSummary(_Open):
    findings: list[Finding] = Field(default_factory=list)
    """Every finding the run's agents reported (de-duplicated)."""
    trace_family: str = ""
    """`case | key:value | ...` the reference's run signature."""
    scenario_family: str
    """The case type."""
    issue_cluster: str | None = None
    """The case type's issue family."""
    selected_route: str | None = None
    """The decision, or the error code of a failed run."""
    terminal_state: RunStatus
    """How the run ended."""
    validation_outcome: str | None = None
    """Passed, blocked or invalid_order."""
    triage_outcome: str | None = None
    """How an escalation was classified, if any."""
    review_status: str = "not_required"
    """Not_required, pending, approved or rejected."""
    review_decision: str | None = None
    """The reviewer's decision, if any."""
    review_recommended_action: str | None = None
    """What the review packet recommended."""
    promo_program: str | None = None
    """The first applied promotion."""
    incentive_program: str | None = None
    """The first applied incentive."""
    tariff_regime: str | None = None
    """The first applied tariff."""
    simulation_date: str
    """The order date (ISO, midnight UTC)."""
    factory_assignment: str | None = None
    """The factory of the final decision."""
    factory_release_state: str | None = None
    """The release state the release desk saw."""
    environment_event_ids: list[str] = Field(default_factory=list)
    """Dated signals in the run's world."""
    specialist_activations: list[str] = Field(default_factory=list)
    """Specialists that ran, in order of first activation."""
    supplier_mix: list[str] = Field(default_factory=list)
    """The primary supplier of each component."""
    loop_count: int = 0
    """Handoffs that repeated an earlier (from, to) pair."""
    retry_count: int = 0
    """Tool calls that failed on a feed and were retried."""
    arbitration_count: int = 0
    """Re-quotes the hub ordered after compliance struck a program, plus shadow vetoes."""
    compound_issue_count: int = 0
    """Distinct warning or error finding codes."""
    market_regime: str = "unknown"
    """The market regime of the order date."""
    price_regime: str = "unknown"
    """The price regime of the order date."""
    schedule_regime: str = "unknown"
    """The schedule regime of the order date."""
    agent_version_set: str = "unknown"
    """The version set the agents ran."""
    orchestrator_mode: str = "canonical"
    """Canonical or shadow."""
    rogue_window_id: str | None = None
    """The rogue window dating this run, if any."""
    final_decision: FinalDecision | None = None
    """The swarm's final answer; None when the run failed."""
    error_code: str | None = None
    """A stable code when the run failed or a guardrail stopped it."""
    error_message: str | None = None
    """What went wrong, for people."""
    failure_agent: str | None = None
    """The agent active when the run failed."""
    agent_versions: dict[str, str] | None = None
    """Agent name -> content hash of the version it ran (the batch's versions.json resolves each hash); None
    in bundles not made by `evswarm simulate`."""


class Customer(_Open):
    name: str
    """The customer's name."""
    region: str
    """A region code, e.g. US-CA."""
    segment: str = "retail"
    """Retail or fleet."""


class Vehicle(_Open):
    model: str
    """The model name."""
    trim: str
    """The trim code."""
    wheels: str
    """The wheel code."""
    battery: str = ""
    """The battery pack code."""
    paint: str = ""
    """The paint code; empty when not chosen."""
    options: list[str] = Field(default_factory=list)
    """Option codes."""


class OrderConfig(_Open):
    customer: Customer
    """Who orders."""
    vehicle: Vehicle
    """What they order."""
    quantity: int = 1
    """Vehicles on the order."""
    order_date: str = ""
    """ISO date."""
    requested_delivery: str = ""
    """ISO date."""
    quoted_price: float | None = None
    """The per-vehicle price the customer was quoted."""
    notes: str = ""
    """The customer's free-text notes."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Generation parameters of the scenario."""


class RunRecord(_Open):
    run_id: str
    """`run_<32 hex>`, stable for (seed, index)."""
    config_id: str
    """`cfg_<seed>_<index>`."""
    status: RunStatus
    """How the run ended."""
    created_at: str
    """Simulated-clock start."""
    updated_at: str
    """Simulated-clock end."""
    openai_trace_id: str
    """The SDK trace id."""
    summary: RunSummary
    """The run's facts."""
    config: OrderConfig
    """The order."""


class TraceRecord(_Open):
    trace_id: str
    """The SDK trace id."""
    started_at: str
    """Simulated-clock start."""
    ended_at: str
    """Simulated-clock end."""
    workflow_name: str
    """The SDK workflow name."""
    group_id: str | None = None
    """The batch label."""
    metadata_json: str = "{}"
    """JSON text: batch label and index, case type, version set."""


class SpanRecord(_Open):
    """One SDK span, with ids and times rewritten to the run's deterministic ids and simulated clock."""

    span_id: str
    """`span_<run key>_<n>`, deterministic."""
    parent_span_id: str | None
    """The parent span, if any."""
    trace_id: str
    """The trace."""
    started_at: str
    """Simulated-clock start."""
    ended_at: str
    """Simulated-clock end."""
    span_type: str
    """Agent, generation, function, handoff, guardrail or custom."""
    agent_name: str | None = None
    """The agent the span belongs to."""
    error: dict[str, Any] | None = None
    """The SDK's error record, if the span failed."""
    span_data: dict[str, Any]
    """The SDK's exported span data (tool input and output, handoff from/to, model output)."""


class EventRecord(_Open):
    """One entry of the runtime event log (status changes, handoffs, tool calls, guardrails, reviews)."""

    event_id: str
    """`evt_<run key>_<n>`."""
    event_type: str
    """Status, handoff, tool_call, environment or review."""
    timestamp: str
    """Simulated clock."""
    agent_name: str | None = None
    """The agent it concerns."""
    source_agent: str | None = None
    """A handoff's sender."""
    target_agent: str | None = None
    """A handoff's receiver."""
    span_id: str | None = None
    """The span it happened in."""
    payload: dict[str, Any] = Field(default_factory=dict)
    """What happened."""


class EnvironmentEvent(_Model):
    """A dated world signal (tariff, incentive window, stockout, promotion, competitor move, ...)."""

    event_id: str
    """A stable id, e.g. tariff-semiconductor-2025-09."""
    event_type: str
    """Tariff, incentive, promotion, price_change, stockout, capacity_shock, schedule_shock, supply_risk,
    competitor, launch or rate_change."""
    title: str
    """One line."""
    effective_from: str
    """ISO date."""
    effective_to: str | None = None
    """ISO date, or None when open-ended."""
    regions: list[str] = Field(default_factory=list)
    """Regions it applies to."""
    affects: list[str] = Field(default_factory=list)
    """Models, components, factories or suppliers it concerns."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Amounts, caps, surcharges and other particulars."""


class ReviewDecisionRecord(_Model):
    decision: str
    """Approved or rejected."""
    reviewer: str
    """Who decided."""
    decided_at: str
    """Simulated clock."""
    note: str = ""
    """The reviewer's note."""


class ReviewPacket(_Open):
    packet_id: str
    """The packet."""
    status: str
    """Pending, approved or rejected."""
    findings: list[Finding] = Field(default_factory=list)
    """The warning and error findings the reviewer sees."""
    recommended_action: str
    """What the escalation desk recommends."""
    allowed_actions: list[str]
    """What the reviewer may do."""
    summary: str
    """Why review was asked."""
    requested_by: str
    """The agent that opened it."""
    requested_at: str
    """Simulated clock."""
    decision: ReviewDecisionRecord | None = None
    """The reviewer's decision, if any."""


class EnvironmentDecision(_Model):
    """How the swarm treated one environment signal (applied, excluded, noticed, ignored)."""

    event_id: str
    """The signal."""
    agent_name: str
    """The agent whose report decided it last."""
    action: str
    """Applied, excluded, noticed or ignored."""
    span_id: str | None = None
    """The span of that report."""


class Snapshots(_Open):
    inventory: list[dict[str, Any]] = Field(default_factory=list)
    """Stock rows the inventory tool returned."""
    capacity: list[dict[str, Any]] = Field(default_factory=list)
    """Factory rows the capacity tools returned."""
    environment: dict[str, Any] = Field(default_factory=dict)
    """Dates, default factory and regimes of the run's world."""
    environment_decisions: list[EnvironmentDecision] = Field(default_factory=list)
    """How each signal was treated, last word per signal."""


class ModelCall(_Model):
    """One model call: enough to replay it (its full output items) and to check where a replay diverges."""

    index: int
    """Position among the run's model calls."""
    agent_name: str
    """The agent that called the model."""
    model: str
    """The model's name (policy/<agent>, or the live model)."""
    input_item_count: int
    """Conversation items the model was shown."""
    input_digest: str
    """A fingerprint of what the model was shown (instructions, tools, output schema, conversation)."""
    output: list[dict[str, Any]]
    """The model's full output items."""
    usage: dict[str, int] = Field(default_factory=dict)
    """Token counts."""


class SignalExpectation(_Model):
    event_id: str
    """The signal."""
    expected_action: Literal["apply", "exclude", "notice"]
    """Apply, exclude or notice."""


class Oracle(_Model):
    """The world's correct handling of the order, known to the simulator (like a labelled eval set)."""

    decision: Decision
    """The correct decision."""
    expected_status: RunStatus
    """The terminal state that decision leads to."""
    expected_price: float | None
    """The correct per-vehicle price; None when no price applies."""
    price_tolerance: float
    """Dollars a quote may be off."""
    factory: str | None
    """The correct factory of a release."""
    supplier_substitutions: list[SupplierSubstitution] = Field(default_factory=list)
    """The second sources the order needs."""
    required_specialists: list[str]
    """Specialists the order needs."""
    review_required: bool
    """Whether a human reviewer must sign off."""
    signals: list[SignalExpectation] = Field(default_factory=list)
    """How each dated signal must be treated."""
    blocking_rules: list[str] = Field(default_factory=list)
    """Rules in force that forbid the build."""
    rationale: str
    """One line on why."""


class CauseOrigin(StrEnum):
    """Whether a cause was planted (a documented fault of a version set) or arose on its own."""

    PLANTED = "planted"
    ORGANIC = "organic"


class CauseSide(StrEnum):
    """Where a cause sits: an agent's decision, a tool or harness, the environment, or the input."""

    AGENT = "agent"
    TOOL = "tool"
    ENVIRONMENT = "environment"
    INPUT = "input"


class Cause(_Model):
    """Something that acted in this run and can make it go wrong: a planted fault or an organic cause.

    The causal record of a run: ground truth for benchmarks and tests only (graders and the analysis
    never read it)."""

    cause_id: str = Field(description="stable id: the fault id, or `<kind>:<component>:<what>` for organic causes")
    origin: CauseOrigin
    """Planted (a version set's documented fault) or organic."""
    side: CauseSide
    """Agent, tool, environment or input."""
    component: str = Field(description="the responsible agent, tool, environment feed, or `order_input`")
    description: str = Field(description="what goes wrong, in one line")
    trigger: str = Field(description="when it can act")
    rogue_window_id: str | None = Field(default=None, description="the rogue window that switched it on, if any")
    step_ids: list[str] = Field(default_factory=list, description="span or event ids where it acted")


class TraceBundle(_Open):
    """What a bundle records of a run: the part every stage may read (the reference notebook's keys).

    The analysis validates bundles against this model only, so it can never depend on the oracle, the
    recorded model calls or the causal record."""

    format: Literal["evswarm.bundle.v1"] = BUNDLE_FORMAT
    """Always `evswarm.bundle.v1`."""
    run: RunRecord
    """The run: ids, status, summary, order."""
    trace: TraceRecord
    """The SDK trace's ids, times and metadata."""
    spans: list[SpanRecord]
    """Every SDK span, in start order."""
    events: list[EventRecord]
    """The runtime event log."""
    environment_events: list[EnvironmentEvent] = Field(default_factory=list)
    """The dated world signals active for the order."""
    review_packet: ReviewPacket | None = None
    """The human review packet; None when no review was asked."""
    snapshots: Snapshots = Field(default_factory=Snapshots)
    """The world state the tools read, and how each signal was treated."""


SIMULATOR_KEYS = ("seed", "model_calls", "oracle", "injected_faults")
"""The keys a full bundle adds to a `TraceBundle`."""


class Bundle(TraceBundle):
    """One run, as `simulate` (or `record`, `import`) writes it.

    `oracle` is None for runs the simulator did not make (recorded or imported traces): the rubrics that
    compare a run with its correct handling skip those. `injected_faults` is the causal record of the
    run's failures: ground truth for benchmarks and tests only."""

    seed: int | None = None
    """The batch seed; None for recorded or imported runs."""
    model_calls: list[ModelCall] = Field(default_factory=list)
    """Every model call, in order: what replay needs."""
    oracle: Oracle | None = None
    """The correct handling of the order; None for runs the simulator did not make."""
    injected_faults: list[Cause] = Field(default_factory=list)
    """The causal record (see `Cause`): for benchmarks and tests only."""
