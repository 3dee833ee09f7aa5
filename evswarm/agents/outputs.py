"""Structured outputs of the swarm: every handoff carries the sender's typed report, and the
orchestrator ends a run with an `OrderDecision`. All fields are required so the SDK's strict JSON
schemas accept them (live models see the same schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingItem(_Strict):
    code: str
    severity: Literal["info", "warning", "error"]
    message: str


class SignalAction(_Strict):
    """How an agent treated an environment signal it read."""

    event_id: str
    action: Literal["applied", "excluded", "noticed", "ignored"]


class TaskBrief(_Strict):
    """What the orchestrator asks of a specialist when it hands off."""

    agent: str
    task: str
    focus: list[str]


class Report(_Strict):
    """Fields every specialist report shares."""

    agent: str
    status: Literal["ok", "issue", "blocked"]
    summary: str
    findings: list[FindingItem]
    signals: list[SignalAction]


class BuildabilityReport(Report):
    violations: list[str]


class ComplianceReport(Report):
    violations: list[str]
    restricted_promotions: list[str]
    exempt_tariffs: list[str]


class RegionalComplianceReport(Report):
    homologated: bool
    registration_notes: list[str]


class PricingReport(Report):
    list_price: float | None
    quote_total: float | None
    applied_promotions: list[str]
    applied_incentives: list[str]
    applied_tariffs: list[str]
    quoted_price: float | None


class PromotionReport(Report):
    eligible_promotions: list[str]
    rejected_promotions: list[str]


class IncentiveReport(Report):
    eligible_incentives: list[str]
    rejected_incentives: list[str]


class PricingExceptionReport(Report):
    approved_total: float | None
    drift: float


class MarketReport(Report):
    noticed: list[str]
    demand_outlook: str


class SupplyReport(Report):
    short_components: list[str]
    reserved_components: list[str]


class SupplierRiskReport(Report):
    watch_suppliers: list[str]


class Substitution(_Strict):
    component: str
    from_supplier: str
    to_supplier: str
    lead_time_days: int


class ProcurementReport(Report):
    substitutions: list[Substitution]


class CapacityReport(Report):
    factory: str
    overloaded: bool
    backlog_days: int


class RoutingReport(Report):
    factory: str
    rerouted: bool
    tradeoff_needed: bool


class TradeoffReport(Report):
    recommendation: Literal["reroute", "wait"]
    factory: str
    delay_days: int


class ScheduleReport(Report):
    factory: str
    build_date: str
    projected_delivery: str


class ReleaseReport(Report):
    factory: str
    release_state: str
    authorized: bool


class ReviewReport(Report):
    review_required: bool
    reasons: list[str]


class EscalationReport(Report):
    triage_outcome: str
    packet_id: str


class HumanReviewReport(Report):
    decision: Literal["approved", "pending", "rejected"]
    packet_id: str


class ClarificationReport(Report):
    issues: list[str]
    questions: list[str]


class CommsReport(Report):
    message_kind: str
    sent: bool


class MonitorReport(Report):
    loop_count: int
    healthy: bool


class ShadowReport(Report):
    shadow_decision: str
    agrees: bool


class SubstitutionOut(_Strict):
    component: str
    from_supplier: str
    to_supplier: str


class OrderDecision(_Strict):
    """The run's final answer."""

    decision: Literal[
        "release", "adjust_price", "reroute", "substitute_supplier", "hold_for_review", "request_clarification", "block"
    ]
    quoted_price: float | None
    factory: str | None
    supplier_substitutions: list[SubstitutionOut]
    review_required: bool
    applied_incentives: list[str]
    applied_promotions: list[str]
    rationale: str
