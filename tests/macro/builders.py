"""Hand-made bundles that follow the bundle contract, for tests that must not wait for the simulator.

`make_batch` writes a batch directory with a few case types, two agent version sets and planted
faults (each with a responsible agent), so that clustering, lift, version comparison and suspects
have real structure to find.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from evswarm.core.io import atomic_write_bytes, atomic_write_jsonl, dumps

BASE = datetime(2025, 3, 1, tzinfo=UTC)

REGIONS = ["California", "Texas", "New York", "Ontario", "Bavaria", "Quebec", "Oregon", "Florida"]
MODELS = ["SUV X", "Pickup X", "Sedan S", "Crossover C", "Van V"]
VERBS = ["checks", "reviews", "validates", "inspects", "looks over", "examines"]
MANNERS = [
    "carefully",
    "quickly",
    "against policy",
    "with the latest catalog",
    "before release",
    "using dealer notes",
    "for the second time",
    "with customer preferences",
]

CASE_CHAINS: dict[str, list[str]] = {
    "clean_simple": ["BuildabilityValidationAgent", "PricingAgent", "ComplianceValidationAgent"],
    "pricing_exception_compound": ["PricingAgent", "PolicyIncentiveAgent", "ComplianceValidationAgent"],
    "supplier_substitution_compound": ["SupplyAllocationAgent", "FactoryRoutingAgent", "PricingAgent"],
    "validation_block_simple": ["BuildabilityValidationAgent"],
}


@dataclass(frozen=True)
class Fault:
    fault_id: str
    agent: str
    code: str
    reporter: str
    status: str
    message: str


FAULTS: dict[str, Fault] = {
    "pricing_ignores_expired_incentive": Fault(
        "pricing_ignores_expired_incentive",
        "PricingAgent",
        "INCENTIVE_EXPIRED_APPLIED",
        "ComplianceValidationAgent",
        "awaiting_review",
        "quote applies an incentive whose window closed before the order date",
    ),
    "supply_misses_stockout": Fault(
        "supply_misses_stockout",
        "SupplyAllocationAgent",
        "STOCKOUT_MISSED",
        "FactoryRoutingAgent",
        "blocked",
        "allocated battery pack from a supplier that is out of stock",
    ),
    "orchestrator_routing_loop": Fault(
        "orchestrator_routing_loop",
        "Orchestrator",
        "ROUTING_LOOP",
        "Orchestrator",
        "failed",
        "orchestrator re-dispatched the same specialist repeatedly without progress",
    ),
}


def run_id_for(index: int, salt: str = "") -> str:
    return "run_" + hashlib.sha256(f"{salt}{index}".encode()).hexdigest()[:32]


@dataclass
class _Spans:
    run_hash: str
    clock: datetime
    spans: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def tick(self, seconds: float = 1.0) -> str:
        self.clock += timedelta(seconds=seconds)
        return self.clock.isoformat().replace("+00:00", "Z")

    def span(
        self,
        span_type: str,
        agent: str,
        data: dict[str, Any],
        parent: str | None,
        error: dict[str, Any] | None = None,
    ) -> str:
        sid = f"span_{self.run_hash}_{len(self.spans):04d}"
        start = self.tick(0.5)
        self.spans.append(
            {
                "span_id": sid,
                "parent_span_id": parent,
                "trace_id": f"trace_{self.run_hash}",
                "started_at": start,
                "ended_at": self.tick(0.5),
                "span_type": span_type,
                "agent_name": agent,
                "error": error,
                "span_data": {"type": span_type, **data},
            }
        )
        return sid

    def event(self, event_type: str, agent: str, payload: dict[str, Any], **extra: Any) -> None:
        self.events.append(
            {
                "event_id": f"evt_{self.run_hash}_{len(self.events):04d}",
                "event_type": event_type,
                "timestamp": self.tick(0.1),
                "agent_name": agent,
                "payload": payload,
                **extra,
            }
        )


def _segment(s: _Spans, agent: str, nxt: str, task: str, tool: str, tool_out: dict[str, Any], reasoning: str) -> str:
    """One agent segment: agent span, reasoning + tool call, tool span, handoff to `nxt`."""
    agent_span = s.span(
        "agent", agent, {"name": agent, "handoffs": [nxt], "tools": [tool], "output_type": "Report"}, task
    )
    call_id = f"call_{s.run_hash[:8]}_{len(s.spans)}"
    s.span(
        "generation",
        agent,
        {
            "model": "offline-policy",
            "input": {"item_count": 3},
            "output": [
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": reasoning}]},
                {"type": "function_call", "name": tool, "arguments": "{}", "call_id": call_id},
            ],
        },
        agent_span,
    )
    s.span(
        "function",
        agent,
        {"name": tool, "input": "{}", "output": orjson.dumps(tool_out).decode(), "call_id": call_id},
        agent_span,
    )
    s.event("tool_call", agent, {"tool": tool, "call_id": call_id})
    s.span("handoff", agent, {"from_agent": agent, "to_agent": nxt}, agent_span)
    s.event("handoff", agent, {}, source_agent=agent, target_agent=nxt)
    return agent_span


def make_bundle(
    index: int, case_type: str, version_set: str, fault_id: str | None, rng: random.Random
) -> dict[str, Any]:
    run_id = run_id_for(index)
    s = _Spans(run_id[4:16], BASE + timedelta(hours=index))
    fault = FAULTS.get(fault_id) if fault_id else None
    task = s.span("custom", "Orchestrator", {"name": "task", "data": {"sdk_span_type": "task"}}, None)
    s.event("status", "Orchestrator", {"active_agent": "Orchestrator", "run_status": "running"})
    chain = list(CASE_CHAINS[case_type])
    if fault and fault.agent not in chain and fault.agent != "Orchestrator":
        chain.insert(0, fault.agent)
    if fault and fault.fault_id == "orchestrator_routing_loop":
        chain = [*chain, chain[0], chain[0], chain[0]]
    findings: list[dict[str, Any]] = []
    status = "completed"
    prev = "Orchestrator"
    for agent in chain:
        s.span("handoff", prev, {"from_agent": prev, "to_agent": agent}, task)
        s.event("handoff", prev, {}, source_agent=prev, target_agent=agent)
        s.event("status", agent, {"active_agent": agent, "run_status": "running"})
        faulty = fault is not None and fault.agent == agent
        region = rng.choice(REGIONS)
        out: dict[str, Any] = {"ok": True, "agent": agent, "region": region, "model": rng.choice(MODELS)}
        reasoning = f"{agent} {rng.choice(VERBS)} the {rng.choice(MODELS)} order for {region} {rng.choice(MANNERS)}"
        if agent == "PricingAgent":
            out = {"total": 52000 + rng.randint(0, 900) - (3000 if faulty else 0), "currency": "USD"}
            reasoning = "apply incentive federal clean vehicle" if faulty else "incentive window checked"
        if agent == "SupplyAllocationAgent":
            out = {"supplier": "north-cells" if faulty else "west-cells", "pack": "LR-82"}
        tool = {"PricingAgent": "compute_quote", "ComplianceValidationAgent": "check_regional_rules"}.get(
            agent, f"{agent.removesuffix('Agent').lower()}_lookup"
        )
        seg = _segment(s, agent, "Orchestrator", task, tool, out, reasoning)
        if case_type == "validation_block_simple" and agent == "BuildabilityValidationAgent":
            fid = s.spans[-2]["span_id"]
            findings.append(
                {
                    "code": "WHEEL_TRIM_CONFLICT",
                    "severity": "error",
                    "message": "22 inch wheels are not buildable on the base trim",
                    "agent_name": agent,
                    "span_id": fid,
                }
            )
            status = "blocked"
        del seg
        prev = "Orchestrator"
    if fault:
        # the reporter notices downstream and cites its own check span
        s.span("handoff", "Orchestrator", {"from_agent": "Orchestrator", "to_agent": fault.reporter}, task)
        rep_agent = s.span(
            "agent",
            fault.reporter,
            {"name": fault.reporter, "handoffs": [], "tools": ["audit"], "output_type": "Report"},
            task,
        )
        check = s.span(
            "function",
            fault.reporter,
            {"name": "audit", "input": "{}", "output": orjson.dumps({"findings": [fault.code]}).decode()},
            rep_agent,
        )
        findings.append(
            {
                "code": fault.code,
                "severity": "error",
                "message": fault.message,
                "agent_name": fault.reporter,
                "span_id": check,
            }
        )
        status = fault.status
    final = s.span(
        "agent",
        "Orchestrator",
        {"name": "Orchestrator", "handoffs": [], "tools": [], "output_type": "FinalDecision"},
        task,
    )
    del final
    s.event(
        "status",
        "Orchestrator",
        {
            "active_agent": "Orchestrator",
            "run_status": status,
            "terminal_state": status,
            "validation_outcome": "passed" if status == "completed" else "issues_found",
        },
    )
    created = BASE + timedelta(hours=index)
    summary = {
        "findings": findings,
        "scenario_family": case_type,
        "terminal_state": status,
        "simulation_date": created.date().isoformat(),
        "agent_version_set": version_set,
        "orchestrator_mode": "canonical",
        "market_regime": rng.choice(["calm", "drift"]),
        "price_regime": "stable",
        "schedule_regime": "normal",
        "specialist_activations": sorted(set(chain)),
        "loop_count": 3 if fault_id == "orchestrator_routing_loop" else 0,
        "review_status": "pending" if status == "awaiting_review" else "not_required",
    }
    return {
        "format": "evswarm.bundle.v1",
        "seed": index,
        "run": {
            "run_id": run_id,
            "config_id": f"cfg_{index:05d}",
            "status": status,
            "created_at": created.isoformat(),
            "updated_at": s.tick(),
            "openai_trace_id": f"trace_{s.run_hash}",
            "summary": summary,
            "config": {
                "customer": {"name": f"Customer {index}", "region": rng.choice(["CA", "TX", "NY"])},
                "vehicle": {"model": "SUV X", "trim": "base", "wheels": "19in"},
            },
        },
        "trace": {
            "trace_id": f"trace_{s.run_hash}",
            "started_at": created.isoformat(),
            "ended_at": s.tick(),
            "workflow_name": "ev-order",
        },
        "spans": s.spans,
        "events": s.events,
        "environment_events": [],
        "review_packet": None,
        "snapshots": {},
        "model_calls": [],
        "oracle": {
            "decision": "release",
            "expected_status": "completed",
            "expected_price": 52000.0,
            "price_tolerance": 500.0,
            "factory": None,
            "required_specialists": [],
            "review_required": False,
            "rationale": "fixture",
        },
        "injected_faults": (
            [
                {
                    "fault_id": fault.fault_id,
                    "agent_name": fault.agent,
                    "description": fault.message,
                    "trigger": "always",
                }
            ]
            if fault
            else []
        ),
    }


def make_batch(root: Path, n: int = 120, seed: int = 3, fault_rate: float = 0.35) -> Path:
    """Write a batch of `n` hand-made bundles; version set v2 carries the faults."""
    rng = random.Random(seed)
    rows = []
    cases = list(CASE_CHAINS)
    fault_ids = list(FAULTS)
    for i in range(n):
        case = cases[i % len(cases)]
        version = "v1" if i % 2 == 0 else "v2"
        fault = None
        if version == "v2" and rng.random() < fault_rate * 2 and case != "validation_block_simple":
            fault = fault_ids[rng.randrange(len(fault_ids))]
        bundle = make_bundle(i, case, version, fault, rng)
        path = root / "bundles" / f"{bundle['run']['run_id']}.json"
        atomic_write_bytes(path, dumps(bundle))
        rows.append(
            {
                "run_id": bundle["run"]["run_id"],
                "status": bundle["run"]["status"],
                "scenario_family": case,
                "agent_version_set": version,
            }
        )
    atomic_write_jsonl(root / "results.jsonl", rows)
    return root
