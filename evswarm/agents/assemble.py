"""Assembling one run's bundle from its captured spans, event log, reports and outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from evswarm.agents.outputs import OrderDecision
from evswarm.agents.state import RunState
from evswarm.agents.tracing import Capture
from evswarm.core.bundle import (
    Bundle,
    Cause,
    EnvironmentDecision,
    EventRecord,
    FinalDecision,
    Finding,
    ReviewDecisionRecord,
    ReviewPacket,
    RunRecord,
    RunStatus,
    RunSummary,
    Snapshots,
    SpanRecord,
    TraceRecord,
)

WORKFLOW_NAME = "evswarm.ev_order_review"


@dataclass
class Outcome:
    """How a run ended, as the runner saw it."""

    status: RunStatus
    decision: OrderDecision | None = None
    validation_outcome: str = "passed"
    error_code: str | None = None
    error_message: str | None = None
    failure_agent: str | None = None


def _span_records(capture: Capture, trace_id: str) -> tuple[list[SpanRecord], dict[str, str]]:
    key = capture.state.run_key
    ordered = sorted((s for s in capture.spans.values() if s.export), key=lambda s: s.order)
    ids = {s.sdk_id: f"span_{key}_{n:04d}" for n, s in enumerate(ordered)}
    agent_of: dict[str, str | None] = {}
    records = []
    for span in ordered:
        export = span.export
        data = dict(export.get("span_data") or {})
        kind = str(data.get("type", "custom"))
        parent = export.get("parent_id")
        agent = _agent_name(kind, data) or agent_of.get(parent or "")
        agent_of[span.sdk_id] = agent
        if kind == "function" and span.sdk_id in capture.state.tool_call_ids:
            data["call_id"] = capture.state.tool_call_ids[span.sdk_id]
        records.append(
            SpanRecord(
                span_id=ids[span.sdk_id],
                parent_span_id=ids.get(parent or ""),
                trace_id=trace_id,
                started_at=span.started_at,
                ended_at=span.ended_at or span.started_at,
                span_type=kind,
                agent_name=agent,
                error=export.get("error"),
                span_data=data,
            )
        )
    return records, ids


def _agent_name(kind: str, data: dict[str, Any]) -> str | None:
    if kind == "agent":
        return str(data.get("name"))
    if kind == "handoff":
        return str(data.get("from_agent"))
    if kind == "custom" and isinstance(data.get("data"), dict) and data["data"].get("agent_name"):
        return str(data["data"]["agent_name"])
    return None


def _findings(state: RunState, ids: dict[str, str]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for rep in state.reports:
        for f in rep.get("findings", []):
            key = (f["code"], rep["agent"], f["message"])
            if key not in seen:
                seen.add(key)
                out.append(
                    Finding(
                        code=f["code"],
                        severity=f["severity"],
                        message=f["message"],
                        agent_name=rep["agent"],
                        span_id=ids.get(rep.get("sdk_span_id") or ""),
                    )
                )
    return out


def _environment_decisions(state: RunState, ids: dict[str, str]) -> list[EnvironmentDecision]:
    """The last word on each signal: a later report (e.g. compliance striking a promotion) overrides."""
    latest: dict[str, EnvironmentDecision] = {}
    for rep in state.reports:
        for sig in rep.get("signals", []):
            latest[sig["event_id"]] = EnvironmentDecision(
                event_id=sig["event_id"],
                agent_name=rep["agent"],
                action=sig["action"],
                span_id=ids.get(rep.get("sdk_span_id") or ""),
            )
    return sorted(latest.values(), key=lambda d: d.event_id)


def _review_packet(state: RunState, findings: list[Finding]) -> ReviewPacket | None:
    packet = state.review_packet
    if packet is None:
        return None
    decision = packet.get("decision")
    return ReviewPacket(
        packet_id=packet["packet_id"],
        status=packet["status"],
        findings=[f for f in findings if f.severity != "info"],
        recommended_action=packet["recommended_action"],
        allowed_actions=["approve", "request_changes", "reject"],
        summary="; ".join(packet["reasons"]),
        requested_by="EscalationTriageAgent",
        requested_at=packet["requested_at"],
        decision=ReviewDecisionRecord(**decision) if decision else None,
    )


def _causes(state: RunState, spans: list[SpanRecord], ids: dict[str, str]) -> list[Cause]:
    """The causal record, each cause with the span or event ids where it acted."""
    generations = [s.span_id for s in spans if s.span_type == "generation"]
    out = []
    for cause_id, cause in sorted(state.causes.items()):
        steps = []
        for kind, where in state.cause_steps.get(cause_id, []):
            if kind == "call" and int(where) < len(generations):
                steps.append(generations[int(where)])
            elif kind == "span" and where in ids:
                steps.append(ids[where])
            elif kind == "event":
                steps.append(f"evt_{state.run_key}_{int(where):04d}")
        out.append(cause.model_copy(update={"step_ids": steps}))
    return out


def _last_report(state: RunState, agent: str) -> dict[str, Any]:
    return next((r for r in reversed(state.reports) if r.get("agent") == agent), {})


def assemble_bundle(capture: Capture) -> Bundle:
    outcome: Outcome = capture.outcome
    state, scenario = capture.state, capture.state.scenario
    trace_id = str(capture.trace_export.get("id"))
    spans, ids = _span_records(capture, trace_id)
    findings = _findings(state, ids)
    decision = outcome.decision
    packet = _review_packet(state, findings)
    release = _last_report(state, "FactoryReleaseAgent")
    triage = _last_report(state, "EscalationTriageAgent").get("triage_outcome") or (
        "customer_clarification" if _last_report(state, "ClarificationAgent") else None
    )
    arbitrations = sum("arbitration" in r.get("focus", []) for r in state.reports) + sum(
        1 for r in state.reports if r.get("agent") == "ShadowOrchestrator" and not r.get("agrees")
    )
    route = [a for a in dict.fromkeys(state.activated)]
    applied = decision.applied_promotions if decision else []
    incentives = decision.applied_incentives if decision else []
    tariffs = _last_report(state, "PricingAgent").get("applied_tariffs", [])
    factory = decision.factory if decision else None
    family = " | ".join(
        p
        for p in (
            scenario.case_type,
            f"vehicle:{scenario.order.vehicle.model}",
            f"market:{scenario.market_regime}",
            f"routes:{'>'.join(a.removesuffix('Agent') for a in route[:8])}",
            f"fulfillment:{'>'.join(a for a in route if a in _FULFILLMENT)}",
            f"factory:{factory}" if factory else "",
            f"promo:{applied[0]}" if applied else "",
            f"incentive:{incentives[0]}" if incentives else "",
        )
        if p
    )
    summary = RunSummary(
        findings=findings,
        trace_family=family,
        scenario_family=scenario.case_type,
        issue_cluster=scenario.issue_cluster,
        selected_route=outcome.error_code or (decision.decision if decision else None),
        terminal_state=outcome.status,
        validation_outcome=outcome.validation_outcome,
        triage_outcome=triage,
        review_status=packet.status if packet else "not_required",
        review_decision=packet.decision.decision if packet and packet.decision else None,
        review_recommended_action=packet.recommended_action if packet else None,
        promo_program=applied[0] if applied else None,
        incentive_program=incentives[0] if incentives else None,
        tariff_regime=tariffs[0] if tariffs else None,
        simulation_date=f"{scenario.order_date}T00:00:00Z",
        factory_assignment=factory,
        factory_release_state=release.get("release_state"),
        environment_event_ids=[e.event_id for e in scenario.signals],
        specialist_activations=route,
        supplier_mix=scenario.supplier_mix(),
        loop_count=state.loop_count(),
        retry_count=state.retry_count,
        arbitration_count=arbitrations,
        compound_issue_count=len({f.code for f in findings if f.severity != "info"}),
        market_regime=scenario.market_regime,
        price_regime=scenario.price_regime,
        schedule_regime=scenario.schedule_regime,
        agent_version_set=scenario.version_set,
        orchestrator_mode=scenario.orchestrator_mode,
        rogue_window_id=scenario.rogue_window_id,
        final_decision=FinalDecision(
            **decision.model_dump(),
            decided_by=f"guardrail:{outcome.error_code}" if outcome.error_code else "Orchestrator",
        )
        if decision
        else None,
        error_code=outcome.error_code,
        error_message=outcome.error_message,
        failure_agent=outcome.failure_agent,
        agent_versions=state.agent_versions,
    )
    trace_name = f"evswarm/{scenario.batch_label}/{scenario.index:05d}"
    metadata = {
        "batch_label": scenario.batch_label,
        "batch_index": scenario.index,
        "trace_name": trace_name,
        "scenario_family": scenario.case_type,
        "issue_cluster": scenario.issue_cluster,
        "vehicle_model": scenario.order.vehicle.model,
        "simulation_date": scenario.order_date,
        "agent_version_set": scenario.version_set,
        "orchestrator_mode": scenario.orchestrator_mode,
    }
    events = [
        EventRecord(
            event_id=f"evt_{state.run_key}_{n:04d}",
            event_type=e["event_type"],
            timestamp=e["timestamp"],
            agent_name=e.get("agent_name"),
            source_agent=e.get("source_agent"),
            target_agent=e.get("target_agent"),
            span_id=ids.get(e.get("sdk_span_id") or ""),
            payload=e.get("payload", {}),
        )
        for n, e in enumerate(state.events)
    ]
    return Bundle(
        seed=scenario.seed,
        run=RunRecord(
            run_id=scenario.run_id,
            config_id=scenario.config_id,
            status=outcome.status,
            created_at=capture.started_at,
            updated_at=capture.ended_at,
            openai_trace_id=trace_id,
            summary=summary,
            config=scenario.order,
        ),
        trace=TraceRecord(
            trace_id=trace_id,
            started_at=capture.started_at,
            ended_at=capture.ended_at,
            workflow_name=WORKFLOW_NAME,
            group_id=capture.trace_export.get("group_id"),
            metadata_json=json.dumps(metadata, sort_keys=True),
        ),
        spans=spans,
        events=events,
        environment_events=scenario.signals,
        review_packet=packet,
        snapshots=Snapshots(
            inventory=state.inventory_snapshot,
            capacity=state.capacity_snapshot,
            environment={
                "order_date": scenario.order_date,
                "quote_date": scenario.quote_date,
                "requested_delivery": scenario.delivery_date,
                "default_factory": scenario.default_factory,
                "market_regime": scenario.market_regime,
                "price_regime": scenario.price_regime,
                "schedule_regime": scenario.schedule_regime,
            },
            environment_decisions=_environment_decisions(state, ids),
        ),
        model_calls=state.model_calls,
        oracle=capture.oracle,
        injected_faults=_causes(state, spans, ids),
    )


_FULFILLMENT = (
    "CapacityPlanningAgent",
    "FactoryRoutingAgent",
    "TradeoffPlannerAgent",
    "ProductionSchedulingAgent",
    "FactoryReleaseAgent",
)
