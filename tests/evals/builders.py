"""Hand-made bundles for grader tests: a clean, correctly handled order, and knobs to break it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from evswarm.core.bundle import Bundle
from evswarm.core.io import atomic_write_bytes, bundle_bytes, parse_bundle

ROOT = Path(__file__).resolve().parents[2]
PROMPTFOO = ROOT / "node_modules" / ".bin" / "promptfoo"
requires_promptfoo = pytest.mark.usefixtures("promptfoo_installed")
"""Tests that run the real promptfoo CLI: they fail (never skip) when it is not installed."""
T0 = "2026-03-02T09:00:00Z"
REQUIRED = [
    "BuildabilityValidationAgent",
    "PricingAgent",
    "ComplianceValidationAgent",
    "SupplyAllocationAgent",
]


def _span(run: str, n: int, span_type: str, agent: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "span_id": f"span_{run}_{n:04d}",
        "parent_span_id": None,
        "trace_id": f"trace_{run}",
        "started_at": T0,
        "ended_at": T0,
        "span_type": span_type,
        "agent_name": agent,
        "error": None,
        "span_data": data,
    }


def clean_bundle(run_hex: str = "0" * 32, *, version: str = "v1") -> dict[str, Any]:
    """A correctly handled order: released at the right price, every required agent ran, no review."""
    run = run_hex[:8]
    spans: list[dict[str, Any]] = []

    def add(span_type: str, agent: str, data: dict[str, Any]) -> str:
        spans.append(_span(run, len(spans) + 1, span_type, agent, data))
        return spans[-1]["span_id"]

    add(
        "agent",
        "Orchestrator",
        {"name": "Orchestrator", "handoffs": [], "tools": [], "output_type": "FinalDecision"},
    )
    for agent in REQUIRED:
        add("handoff", "Orchestrator", {"from_agent": "Orchestrator", "to_agent": agent})
        add(
            "agent",
            agent,
            {"name": agent, "handoffs": ["Orchestrator"], "tools": [], "output_type": "Report"},
        )
        if agent == "PricingAgent":
            add(
                "function",
                agent,
                {
                    "name": "compute_quote",
                    "input": "{}",
                    "output": json.dumps({"total": 41000.0}),
                    "call_id": "call_1",
                },
            )
        if agent == "ComplianceValidationAgent":
            add(
                "function",
                agent,
                {
                    "name": "check_regional_rules",
                    "input": "{}",
                    "output": '{"ok": true}',
                    "call_id": "call_2",
                },
            )
    add(
        "agent",
        "Orchestrator",
        {"name": "Orchestrator", "handoffs": [], "tools": [], "output_type": "FinalDecision"},
    )
    final_gen = add("generation", "Orchestrator", {"model": "policy", "input": {}, "output": []})
    decision = {
        "decision": "release", "quoted_price": 41000.0, "factory": "fremont", "supplier_substitutions": [],
        "review_required": False, "applied_incentives": ["inc_fed"], "applied_promotions": [],
        "rationale": "valid order", "decided_by": "Orchestrator",
    }  # fmt: skip
    pricing_span = next(s["span_id"] for s in spans if s["span_data"].get("name") == "compute_quote")
    return {
        "format": "evswarm.bundle.v1",
        "seed": 1,
        "run": {
            "run_id": f"run_{run_hex}",
            "config_id": "cfg_1",
            "status": "completed",
            "created_at": T0,
            "updated_at": T0,
            "openai_trace_id": f"trace_{run}",
            "summary": {
                "scenario_family": "clean_simple",
                "terminal_state": "completed",
                "simulation_date": "2026-03-02",
                "specialist_activations": list(REQUIRED),
                "agent_version_set": version,
                "loop_count": 1,
                "final_decision": decision,
            },
            "config": {
                "customer": {"name": "Ada", "region": "US-CA"},
                "vehicle": {"model": "Sedan X", "trim": "base", "wheels": "18in"},
                "order_date": "2026-03-02",
            },
        },
        "trace": {"trace_id": f"trace_{run}", "started_at": T0, "ended_at": T0, "workflow_name": "ev-order"},
        "spans": spans,
        "events": [
            {
                "event_id": f"evt_{run}_0001",
                "event_type": "status",
                "timestamp": T0,
                "payload": {"run_status": "running"},
            },
            {
                "event_id": f"evt_{run}_0002",
                "event_type": "handoff",
                "timestamp": T0,
                "source_agent": "Orchestrator",
                "target_agent": "PricingAgent",
            },
            {
                "event_id": f"evt_{run}_0003",
                "event_type": "status",
                "timestamp": T0,
                "payload": {"terminal_state": "completed"},
            },
        ],
        "environment_events": [
            {
                "event_id": "inc_fed",
                "event_type": "incentive",
                "title": "Federal credit",
                "effective_from": "2026-01-01",
                "effective_to": "2026-12-31",
            },
            {
                "event_id": "inc_old",
                "event_type": "incentive",
                "title": "Expired state rebate",
                "effective_from": "2025-01-01",
                "effective_to": "2025-12-31",
            },
            {
                "event_id": "stock_cells",
                "event_type": "stockout",
                "title": "Cell stockout",
                "effective_from": "2026-02-01",
            },
        ],
        "review_packet": None,
        "snapshots": {
            "environment_decisions": [
                {
                    "event_id": "inc_fed",
                    "agent_name": "PricingAgent",
                    "action": "applied",
                    "span_id": pricing_span,
                },
                {
                    "event_id": "inc_old",
                    "agent_name": "PricingAgent",
                    "action": "excluded",
                    "span_id": pricing_span,
                },
                {
                    "event_id": "stock_cells",
                    "agent_name": "SupplyAllocationAgent",
                    "action": "noticed",
                    "span_id": spans[-4]["span_id"],
                },
            ]
        },
        "model_calls": [],
        "oracle": {
            "decision": "release",
            "expected_status": "completed",
            "expected_price": 41000.0,
            "price_tolerance": 100.0,
            "factory": "fremont",
            "supplier_substitutions": [],
            "required_specialists": list(REQUIRED),
            "review_required": False,
            "signals": [
                {"event_id": "inc_fed", "expected_action": "apply"},
                {"event_id": "inc_old", "expected_action": "exclude"},
                {"event_id": "stock_cells", "expected_action": "notice"},
            ],
            "blocking_rules": [],
            "rationale": "clean order",
        },
        "injected_faults": [],
        "_final_generation_span": final_gen,
    }


def as_bundle(data: dict[str, Any]) -> Bundle:
    data = {k: v for k, v in data.items() if not k.startswith("_")}
    return parse_bundle(copy.deepcopy(data), source="<test>")


def write_bundle(batch: Path, data: dict[str, Any]) -> Path:
    bundle = as_bundle(data)
    path = batch / "bundles" / f"{bundle.run.run_id}.json"
    atomic_write_bytes(path, bundle_bytes(bundle))
    return path
