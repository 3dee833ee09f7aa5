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
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    """A record that tolerates extra keys, so bundles from the reference layout still load."""

    model_config = ConfigDict(extra="allow")


class Finding(_Model):
    """A finding an agent reported (a business signal such as a stockout or a price drift), not a grade."""

    code: str
    severity: Severity
    message: str
    agent_name: str
    span_id: str | None = None


class SupplierSubstitution(_Model):
    component: str
    from_supplier: str
    to_supplier: str


class FinalDecision(_Model):
    """The swarm's final structured answer for the order."""

    decision: Decision
    quoted_price: float | None
    factory: str | None
    supplier_substitutions: list[SupplierSubstitution] = Field(default_factory=list)
    review_required: bool
    applied_incentives: list[str] = Field(default_factory=list)
    applied_promotions: list[str] = Field(default_factory=list)
    rationale: str
    decided_by: str


class RunSummary(_Open):
    findings: list[Finding] = Field(default_factory=list)
    trace_family: str = ""
    scenario_family: str
    issue_cluster: str | None = None
    selected_route: str | None = None
    terminal_state: RunStatus
    validation_outcome: str | None = None
    triage_outcome: str | None = None
    review_status: str = "not_required"
    review_decision: str | None = None
    review_recommended_action: str | None = None
    promo_program: str | None = None
    incentive_program: str | None = None
    tariff_regime: str | None = None
    simulation_date: str
    factory_assignment: str | None = None
    factory_release_state: str | None = None
    environment_event_ids: list[str] = Field(default_factory=list)
    specialist_activations: list[str] = Field(default_factory=list)
    supplier_mix: list[str] = Field(default_factory=list)
    loop_count: int = 0
    retry_count: int = 0
    arbitration_count: int = 0
    compound_issue_count: int = 0
    market_regime: str = "unknown"
    price_regime: str = "unknown"
    schedule_regime: str = "unknown"
    agent_version_set: str = "unknown"
    orchestrator_mode: str = "canonical"
    rogue_window_id: str | None = None
    final_decision: FinalDecision | None = None
    error_code: str | None = None
    error_message: str | None = None
    failure_agent: str | None = None
    agent_versions: dict[str, str] | None = Field(
        default=None,
        description="agent name -> content hash of the version it ran (the batch's versions.json resolves "
        "each hash); None in bundles not made by `evswarm simulate`",
    )


class Customer(_Open):
    name: str
    region: str
    segment: str = "retail"


class Vehicle(_Open):
    model: str
    trim: str
    wheels: str
    battery: str = ""
    paint: str = ""
    options: list[str] = Field(default_factory=list)


class OrderConfig(_Open):
    customer: Customer
    vehicle: Vehicle
    quantity: int = 1
    order_date: str = ""
    requested_delivery: str = ""
    quoted_price: float | None = None
    notes: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class RunRecord(_Open):
    run_id: str
    config_id: str
    status: RunStatus
    created_at: str
    updated_at: str
    openai_trace_id: str
    summary: RunSummary
    config: OrderConfig


class TraceRecord(_Open):
    trace_id: str
    started_at: str
    ended_at: str
    workflow_name: str
    group_id: str | None = None
    metadata_json: str = "{}"


class SpanRecord(_Open):
    """One SDK span, with ids and times rewritten to the run's deterministic ids and simulated clock."""

    span_id: str
    parent_span_id: str | None
    trace_id: str
    started_at: str
    ended_at: str
    span_type: str
    agent_name: str | None = None
    error: dict[str, Any] | None = None
    span_data: dict[str, Any]


class EventRecord(_Open):
    """One entry of the runtime event log (status changes, handoffs, tool calls, guardrails, reviews)."""

    event_id: str
    event_type: str
    timestamp: str
    agent_name: str | None = None
    source_agent: str | None = None
    target_agent: str | None = None
    span_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class EnvironmentEvent(_Model):
    """A dated world signal (tariff, incentive window, stockout, promotion, competitor move, ...)."""

    event_id: str
    event_type: str
    title: str
    effective_from: str
    effective_to: str | None = None
    regions: list[str] = Field(default_factory=list)
    affects: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


class ReviewDecisionRecord(_Model):
    decision: str
    reviewer: str
    decided_at: str
    note: str = ""


class ReviewPacket(_Open):
    packet_id: str
    status: str
    findings: list[Finding] = Field(default_factory=list)
    recommended_action: str
    allowed_actions: list[str]
    summary: str
    requested_by: str
    requested_at: str
    decision: ReviewDecisionRecord | None = None


class EnvironmentDecision(_Model):
    """How the swarm treated one environment signal (applied, excluded, noticed, ignored)."""

    event_id: str
    agent_name: str
    action: str
    span_id: str | None = None


class Snapshots(_Open):
    inventory: list[dict[str, Any]] = Field(default_factory=list)
    capacity: list[dict[str, Any]] = Field(default_factory=list)
    environment: dict[str, Any] = Field(default_factory=dict)
    environment_decisions: list[EnvironmentDecision] = Field(default_factory=list)


class ModelCall(_Model):
    """One model call: enough to replay it (its full output items) and to check where a replay diverges."""

    index: int
    agent_name: str
    model: str
    input_item_count: int
    input_digest: str
    output: list[dict[str, Any]]
    usage: dict[str, int] = Field(default_factory=dict)


class SignalExpectation(_Model):
    event_id: str
    expected_action: Literal["apply", "exclude", "notice"]


class Oracle(_Model):
    """The world's correct handling of the order, known to the simulator (like a labelled eval set)."""

    decision: Decision
    expected_status: RunStatus
    expected_price: float | None
    price_tolerance: float
    factory: str | None
    supplier_substitutions: list[SupplierSubstitution] = Field(default_factory=list)
    required_specialists: list[str]
    review_required: bool
    signals: list[SignalExpectation] = Field(default_factory=list)
    blocking_rules: list[str] = Field(default_factory=list)
    rationale: str


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
    side: CauseSide
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
    run: RunRecord
    trace: TraceRecord
    spans: list[SpanRecord]
    events: list[EventRecord]
    environment_events: list[EnvironmentEvent] = Field(default_factory=list)
    review_packet: ReviewPacket | None = None
    snapshots: Snapshots = Field(default_factory=Snapshots)


SIMULATOR_KEYS = ("seed", "model_calls", "oracle", "injected_faults")
"""The keys a full bundle adds to a `TraceBundle`."""


class Bundle(TraceBundle):
    """One run, as `simulate` (or `record`, `import`) writes it.

    `oracle` is None for runs the simulator did not make (recorded or imported traces): the rubrics that
    compare a run with its correct handling skip those. `injected_faults` is the causal record of the
    run's failures: ground truth for benchmarks and tests only."""

    seed: int | None = None
    model_calls: list[ModelCall] = Field(default_factory=list)
    oracle: Oracle | None = None
    injected_faults: list[Cause] = Field(default_factory=list)
