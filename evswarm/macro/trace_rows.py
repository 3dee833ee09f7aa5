"""One trace-table row per bundle: identity, outcome, context slices, counters and findings."""

from __future__ import annotations

from typing import Any

from evswarm.macro.normalize import as_json, as_str, collect_findings

OUTCOME_SEVERITY: dict[str, float] = {
    "completed": 1.0,
    "awaiting_review": 2.0,
    "blocked": 2.5,
    "failed": 3.0,
}
UNKNOWN_SEVERITY = 2.0
FINDING_RANK = {"error": 0, "warning": 1, "info": 2}


def _first(*values: Any) -> Any:
    """First value that is not None (a real 0, False or [] counts)."""
    return next((v for v in values if v is not None), None)


def trace_row(
    bundle: dict[str, Any], events: list[dict[str, Any]], run_row: dict[str, Any] | None, source: str
) -> dict[str, Any]:
    """One trace-table row: identity, outcome, context slices, counters and findings."""
    run = bundle.get("run") or {}
    summary = run.get("summary") or {}
    config = run.get("config") or {}
    trace = bundle.get("trace") or {}
    meta = as_json(trace.get("metadata_json"))
    meta = meta if isinstance(meta, dict) else {}
    row = run_row or {}
    findings = collect_findings(bundle)
    ranked = sorted(findings, key=lambda f: FINDING_RANK.get(str(f.get("severity")), 3))
    serious = [f for f in findings if str(f.get("severity")) in ("error", "warning")]
    status = str(_first(run.get("status"), summary.get("terminal_state"), row.get("status"), "unknown"))
    kinds = [e["node_kind"] for e in events]

    def pick(key: str, default: Any = None) -> Any:
        return _first(summary.get(key), meta.get(key), row.get(key), default)

    decision: dict[str, Any] = summary["final_decision"] if isinstance(summary.get("final_decision"), dict) else {}
    return {
        "run_id": str(run.get("run_id")),
        "source": source,
        "case_type": str(pick("scenario_family", "unknown")),
        "run_outcome": status,
        "terminal_state": str(pick("terminal_state", status)),
        "severity_weight": OUTCOME_SEVERITY.get(status, UNKNOWN_SEVERITY),
        "agent_version_set": str(pick("agent_version_set", "unknown")),
        "orchestrator_mode": str(pick("orchestrator_mode", "canonical")),
        "market_regime": str(pick("market_regime", "unknown")),
        "price_regime": str(pick("price_regime", "unknown")),
        "schedule_regime": str(pick("schedule_regime", "unknown")),
        "rogue_window_id": pick("rogue_window_id"),
        "simulation_date": pick("simulation_date"),
        "customer_region": _first((config.get("customer") or {}).get("region"), row.get("customer_region")),
        "vehicle_model": (config.get("vehicle") or {}).get("model"),
        "validation_outcome": pick("validation_outcome"),
        "review_status": str(pick("review_status", "not_required")),
        "selected_route": pick("selected_route"),
        "final_decision": decision.get("decision"),
        "decided_by": decision.get("decided_by"),
        "loop_count": int(_first(summary.get("loop_count"), row.get("loop_count"), 0) or 0),
        "retry_count": int(_first(summary.get("retry_count"), row.get("retry_count"), 0) or 0),
        "arbitration_count": int(_first(summary.get("arbitration_count"), row.get("arbitration_count"), 0) or 0),
        "specialists": list(pick("specialist_activations", []) or []),
        "environment_event_ids": list(pick("environment_event_ids", []) or []),
        "findings_count": len(findings),
        "serious_findings_count": len(serious),
        "finding_codes": [str(f.get("code")) for f in findings],
        "finding_agents": sorted({str(f.get("agent_name")) for f in findings if f.get("agent_name")}),
        "primary_finding": str(ranked[0].get("code")) if ranked else None,
        "has_error_finding": any(str(f.get("severity")) == "error" for f in findings),
        "event_count": len(events),
        "span_count": len(bundle.get("spans") or []),
        "handoff_count": kinds.count("handoff"),
        "tool_call_count": kinds.count("function"),
        "agent_count": len({e["agent_name"] for e in events}),
        "marker_count": sum(1 for e in events if e["marker"]),
        "started_at": trace.get("started_at"),
        "ended_at": trace.get("ended_at"),
        "user_anchor": as_str(summary.get("anchor_step")),
        "request": str(config.get("notes") or ""),
    }
