"""Review, escalation, customer communication, swarm monitoring and shadow-orchestration tools."""

from __future__ import annotations

from agents import RunContextWrapper

from evswarm.agents.state import RunState
from evswarm.agents.tools.common import as_json, scenario_of, world_tool
from evswarm.world.rules import FLEET_QUANTITY


@world_tool
async def review_order_package(
    ctx: RunContextWrapper[RunState], quantity: int, quote_total: float, finding_codes: list[str]
) -> str:
    """Review policy for releasing an order: which conditions require a human reviewer.

    Args:
        quantity: Vehicles on the order.
        quote_total: Quoted price per vehicle.
        finding_codes: Codes of the findings raised so far.
    """
    return as_json(
        {
            "quantity": quantity,
            "quote_total": quote_total,
            "finding_codes": finding_codes,
            "policy": {"fleet_review_quantity": FLEET_QUANTITY, "release_hold_requires_review": True},
        }
    )


@world_tool
async def classify_escalation(ctx: RunContextWrapper[RunState], reasons: list[str]) -> str:
    """Classify why an order is escalated and which desk takes it.

    Args:
        reasons: Review reasons.
    """
    outcome = "release_hold_review" if any("HOLD" in r for r in reasons) else "human_escalation"
    return as_json({"triage_outcome": outcome, "desk": "fleet-and-release-review"})


@world_tool
async def request_human_review(ctx: RunContextWrapper[RunState], reasons: list[str], recommended_action: str) -> str:
    """Open a review packet for a human reviewer.

    Args:
        reasons: Why review is needed.
        recommended_action: What the swarm recommends (approve, request_changes, reject).
    """
    state = ctx.context
    packet_id = f"review_{state.run_key}"
    state.review_packet = {
        "packet_id": packet_id,
        "status": "pending",
        "reasons": reasons,
        "recommended_action": recommended_action,
        "requested_at": state.clock.now(),
    }
    return as_json(
        {"packet_id": packet_id, "status": "pending", "allowed_actions": ["approve", "request_changes", "reject"]}
    )


@world_tool
async def await_reviewer_decision(ctx: RunContextWrapper[RunState], packet_id: str) -> str:
    """Wait for the on-shift reviewer's decision on a packet (pending when nobody is on shift).

    Args:
        packet_id: The review packet.
    """
    state = ctx.context
    packet = state.review_packet or {}
    on_shift = scenario_of(ctx).reviewer_on_shift and not any("HOLD" in r for r in packet.get("reasons", []))
    if on_shift and packet:
        state.clock.advance(45 * 60 * 1000)
        packet.update(
            status="approved",
            decision={"decision": "approve", "reviewer": "fleet-desk-reviewer", "decided_at": state.clock.now()},
        )
    return as_json({"packet_id": packet_id, "status": packet.get("status", "missing"), "reviewer_on_shift": on_shift})


@world_tool
async def draft_customer_message(ctx: RunContextWrapper[RunState], kind: str) -> str:
    """Draft a message to the customer.

    Args:
        kind: confirmation, block_notice, clarification_request or review_notice.
    """
    name = scenario_of(ctx).order.customer.name
    return as_json({"kind": kind, "to": name, "draft": f"Dear {name}, an update on your order ({kind})."})


@world_tool
async def send_customer_message(ctx: RunContextWrapper[RunState], kind: str) -> str:
    """Send the drafted message.

    Args:
        kind: The message kind drafted before.
    """
    return as_json({"kind": kind, "sent": True, "channel": "email"})


@world_tool
async def inspect_swarm_health(ctx: RunContextWrapper[RunState]) -> str:
    """Handoff counts, repeated routes and retries of this run so far."""
    state = ctx.context
    return as_json(
        {
            "handoffs": len(state.handoff_pairs),
            "repeated_routes": state.loop_count(),
            "retries": state.retry_count,
            "agents_activated": sorted(set(state.activated)),
        }
    )


@world_tool
async def replay_reports(ctx: RunContextWrapper[RunState]) -> str:
    """A digest of every specialist report filed so far, for an independent second opinion."""
    return as_json(
        {
            "reports": [
                {"agent": r["agent"], "status": r["status"], "summary": r["summary"]}
                for r in ctx.context.reports
                if "status" in r
            ]
        }
    )


@world_tool
async def compare_decisions(ctx: RunContextWrapper[RunState], canonical: str, shadow: str) -> str:
    """Compare the canonical orchestrator's proposed decision with the shadow's.

    Args:
        canonical: Decision proposed by the canonical orchestrator.
        shadow: Decision the shadow orchestrator reached.
    """
    return as_json({"canonical": canonical, "shadow": shadow, "agree": canonical == shadow})
