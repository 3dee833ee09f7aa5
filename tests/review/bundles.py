"""Hand-made evswarm bundles for the review tests (valid per evswarm/core/bundle.py)."""

from __future__ import annotations

import json
from typing import Any

from evswarm.core.io import parse_bundle

_CLOCK = "2025-03-01T10:{minute:02d}:{second:02d}.000Z"


class _Spans:
    def __init__(self, run_hash: str) -> None:
        self.run_hash = run_hash
        self.spans: list[dict[str, Any]] = []
        self.tick = 0

    def _time(self) -> str:
        self.tick += 1
        return _CLOCK.format(minute=(self.tick // 60) % 60, second=self.tick % 60).replace(
            "T10:", f"T{10 + self.tick // 3600:02d}:"
        )

    def add(
        self,
        span_type: str,
        agent: str,
        data: dict[str, Any],
        *,
        parent: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> str:
        span_id = f"span_{self.run_hash}_{len(self.spans):04d}"
        start = self._time()
        self.spans.append(
            {
                "span_id": span_id,
                "parent_span_id": parent,
                "trace_id": f"trace_{self.run_hash}",
                "started_at": start,
                "ended_at": self._time(),
                "span_type": span_type,
                "agent_name": agent,
                "error": error,
                "span_data": {"type": span_type, **data},
            }
        )
        return span_id


def reasoning(text: str) -> dict[str, Any]:
    return {"type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"type": "function_call", "name": name, "arguments": json.dumps(arguments), "call_id": call_id}


def message(text: str) -> dict[str, Any]:
    return {"type": "message", "content": [{"type": "output_text", "text": text}]}


FINAL_DECISION = {
    "decision": "release",
    "quoted_price": 48250.0,
    "factory": "FAC-AUSTIN",
    "supplier_substitutions": [],
    "review_required": False,
    "applied_incentives": ["INC-FED-2025"],
    "applied_promotions": [],
    "rationale": "Validation, pricing and compliance passed; release to Austin.",
    "decided_by": "Orchestrator",
}


def make_bundle(
    run_id: str = "run_" + "a" * 32,
    *,
    case_type: str = "clean_simple",
    version_set: str = "baseline",
    terminal_state: str = "completed",
    quote_output: str | None = None,
    pricing_reasoning: str = "The customer qualifies for the federal incentive; I will compute the quote.",
    extra_tool_turns: int = 0,
    with_final_message: bool = True,
) -> dict[str, Any]:
    """A small orchestrator -> pricing -> orchestrator run; `extra_tool_turns` adds pricing turns."""
    run_hash = run_id[-8:]
    spans = _Spans(run_hash)
    orch = spans.add(
        "agent",
        "Orchestrator",
        {"name": "Orchestrator", "handoffs": ["PricingAgent"], "tools": [], "output_type": "FinalDecision"},
    )
    spans.add(
        "generation",
        "Orchestrator",
        {
            "model": "policy",
            "input": {"item_count": 1, "last_item_type": "message"},
            "output": [
                reasoning("Order looks valid; pricing must quote it first."),
                call("transfer_to_pricing_agent", {"report": "order valid"}, "call_h1"),
            ],
        },
        parent=orch,
    )
    spans.add("handoff", "Orchestrator", {"from_agent": "Orchestrator", "to_agent": "PricingAgent"}, parent=orch)
    pricing = spans.add(
        "agent",
        "PricingAgent",
        {
            "name": "PricingAgent",
            "handoffs": ["Orchestrator"],
            "tools": ["compute_quote"],
            "output_type": "PriceQuote",
        },
    )
    spans.add(
        "generation",
        "PricingAgent",
        {
            "model": "policy",
            "input": {"item_count": 3, "last_item_type": "message"},
            "output": [
                reasoning(pricing_reasoning),
                call("compute_quote", {"trim": "LR", "region": "US-TX"}, "call_q1"),
            ],
        },
        parent=pricing,
    )
    output = quote_output if quote_output is not None else json.dumps({"total": 48250.0, "currency": "USD"})
    spans.add(
        "function",
        "PricingAgent",
        {
            "name": "compute_quote",
            "input": json.dumps({"trim": "LR"}),
            "output": output,
            "call_id": "call_q1",
        },
        parent=pricing,
    )
    for turn in range(extra_tool_turns):
        spans.add(
            "generation",
            "PricingAgent",
            {
                "model": "policy",
                "input": {"item_count": 4 + turn, "last_item_type": "function_call_output"},
                "output": [
                    reasoning(f"Checking component {turn}."),
                    call("check_stock", {"component": f"C{turn}"}, f"call_s{turn}"),
                ],
            },
            parent=pricing,
        )
        spans.add(
            "function",
            "PricingAgent",
            {
                "name": "check_stock",
                "input": json.dumps({"component": f"C{turn}"}),
                "output": json.dumps({"component": f"C{turn}", "in_stock": True}),
                "call_id": f"call_s{turn}",
            },
            parent=pricing,
        )
    spans.add(
        "generation",
        "PricingAgent",
        {
            "model": "policy",
            "input": {"item_count": 5, "last_item_type": "x"},
            "output": [
                reasoning("Quote done; handing back."),
                call("transfer_to_orchestrator", {"total": 48250.0}, "call_h2"),
            ],
        },
        parent=pricing,
    )
    spans.add("handoff", "PricingAgent", {"from_agent": "PricingAgent", "to_agent": "Orchestrator"}, parent=pricing)
    orch2 = spans.add(
        "agent",
        "Orchestrator",
        {"name": "Orchestrator", "handoffs": [], "tools": [], "output_type": "FinalDecision"},
    )
    final_output: list[dict[str, Any]] = [reasoning("All checks passed; releasing the order.")]
    if with_final_message:
        final_output.append(message(json.dumps(FINAL_DECISION)))
    spans.add(
        "generation",
        "Orchestrator",
        {"model": "policy", "input": {"item_count": 7, "last_item_type": "x"}, "output": final_output},
        parent=orch2,
    )
    bundle = {
        "format": "evswarm.bundle.v1",
        "seed": 7,
        "run": {
            "run_id": run_id,
            "config_id": "cfg_1",
            "status": terminal_state,
            "created_at": "2025-03-01T10:00:00Z",
            "updated_at": "2025-03-01T10:10:00Z",
            "openai_trace_id": f"trace_{run_hash}",
            "summary": {
                "scenario_family": case_type,
                "terminal_state": terminal_state,
                "simulation_date": "2025-03-01",
                "agent_version_set": version_set,
                "specialist_activations": ["PricingAgent"],
                "final_decision": FINAL_DECISION,
                "findings": [
                    {
                        "code": "PRICE_OK",
                        "severity": "info",
                        "message": "quote within tolerance",
                        "agent_name": "PricingAgent",
                        "span_id": spans.spans[5]["span_id"],
                    }
                ],
            },
            "config": {
                "customer": {"name": "Ada Lovelace", "region": "US-TX"},
                "vehicle": {"model": "Volt EX", "trim": "LR", "wheels": "19in"},
                "notes": "wants delivery in May",
            },
        },
        "trace": {
            "trace_id": f"trace_{run_hash}",
            "started_at": "2025-03-01T10:00:00Z",
            "ended_at": "2025-03-01T10:10:00Z",
            "workflow_name": "ev_order",
        },
        "spans": spans.spans,
        "events": [
            {
                "event_id": f"evt_{run_hash}_0001",
                "event_type": "tool_call",
                "timestamp": "2025-03-01T10:00:05Z",
                "agent_name": "PricingAgent",
                "span_id": spans.spans[5]["span_id"],
                "payload": {},
            }
        ],
        "environment_events": [],
        "review_packet": None,
        "snapshots": {},
        "model_calls": [],
        "oracle": {
            "decision": "release",
            "expected_status": "completed",
            "expected_price": 48250.0,
            "price_tolerance": 50.0,
            "factory": "FAC-AUSTIN",
            "required_specialists": ["PricingAgent"],
            "review_required": False,
            "rationale": "clean order",
        },
        "injected_faults": [],
    }
    parse_bundle(bundle, source=run_id)  # the fixture must be a valid bundle
    return bundle


def label_row(run_id: str, failed: list[str], rationale_span: str | None = None) -> dict[str, Any]:
    rubrics = [
        "final_decision_quality",
        "policy_compliance_correctness",
        "routing_specialist_activation",
        "market_drift_awareness",
        "review_appropriateness",
    ]
    return {
        "run_id": run_id,
        "promptfoo_pass": not failed,
        "promptfoo_failed_checks": failed,
        "promptfoo_check_scores": {r: (0.2 if r in failed else 1.0) for r in rubrics},
        "promptfoo_rationales": {r: (f"grounded in {rationale_span}" if rationale_span else "ok") for r in rubrics},
        "promptfoo_score_mean": 0.9,
        "promptfoo_primary_finding": failed[0] if failed else None,
        "case_type": None,
        "run_outcome": None,
        "agent_version_set": None,
        "grade_status": "graded",
        "findings": [],
    }
