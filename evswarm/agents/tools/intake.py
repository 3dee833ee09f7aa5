"""Tools for intake: reading the order, screening notes, market scan, buildability, customer intent."""

from __future__ import annotations

from agents import RunContextWrapper
from agents.tracing import get_current_span

from evswarm.agents.state import RunState
from evswarm.agents.tools.common import as_json, scenario_of, world_tool
from evswarm.core.bundle import Cause, CauseOrigin, CauseSide
from evswarm.world import catalog


@world_tool
async def load_order(ctx: RunContextWrapper[RunState]) -> str:
    """Load the customer order under review, with its dates and the deployment's orchestration mode."""
    s = scenario_of(ctx)
    if s.hidden_intent_issues:
        span = get_current_span()
        ctx.context.record(
            Cause(
                cause_id=f"input:order_input:{s.hidden_intent_issues[0].lower()}",
                origin=CauseOrigin.ORGANIC,
                side=CauseSide.INPUT,
                component="order_input",
                description="the customer's notes contradict the configuration in a way the notes screen misses",
                trigger="an ambiguous note on a clean order",
            ),
            ("span", span.span_id if span else ""),
        )
    order = s.order.model_dump(mode="json", exclude={"metadata"})
    order.update(
        order_date=s.order_date,
        quote_date=s.quote_date,
        default_factory=s.default_factory,
        orchestrator_mode=s.orchestrator_mode,
    )
    return as_json(order)


@world_tool
async def screen_customer_notes(ctx: RunContextWrapper[RunState]) -> str:
    """Screen the order's free-text notes and configuration for gaps or conflicting intent."""
    s = scenario_of(ctx)
    return as_json({"notes": s.order.notes, "flags": s.intent_issues, "paint_selected": bool(s.order.vehicle.paint)})


@world_tool
async def scan_market_signals(ctx: RunContextWrapper[RunState]) -> str:
    """List every dated market signal active for this order (tariffs, incentives, stockouts, ...)."""
    s = scenario_of(ctx)
    return as_json(
        {
            "as_of": s.order_date,
            "signals": [
                {
                    "event_id": e.event_id,
                    "event_type": e.event_type,
                    "title": e.title,
                    "effective_from": e.effective_from,
                    "effective_to": e.effective_to,
                }
                for e in s.signals
            ],
        }
    )


@world_tool
async def check_buildability(
    ctx: RunContextWrapper[RunState], model: str, trim: str, wheels: str, battery: str, options: list[str]
) -> str:
    """Check a configuration against the catalog's buildability rules.

    Args:
        model: Vehicle model name.
        trim: Trim code.
        wheels: Wheel code.
        battery: Battery pack code.
        options: Option codes.
    """
    return as_json({"violations": catalog.buildability_violations(model, trim, wheels, battery, options)})


@world_tool
async def lookup_trim_rules(ctx: RunContextWrapper[RunState], model: str, trim: str) -> str:
    """Return the wheels and battery packs a trim allows.

    Args:
        model: Vehicle model name.
        trim: Trim code.
    """
    spec = catalog.MODELS.get(model)
    trim_spec = spec.trims.get(trim) if spec else None
    if trim_spec is None:
        return as_json({"known": False})
    return as_json(
        {
            "known": True,
            "wheels": list(trim_spec.wheels),
            "batteries": list(trim_spec.batteries),
            "options": list(spec.options) if spec else [],
        }
    )


@world_tool
async def analyze_customer_intent(ctx: RunContextWrapper[RunState], notes: str) -> str:
    """Compare what the customer wrote with what they configured.

    Args:
        notes: The customer's notes.
    """
    s = scenario_of(ctx)
    return as_json(
        {
            "issues": s.intent_issues,
            "configured_options": s.order.vehicle.options,
            "paint": s.order.vehicle.paint or None,
        }
    )


@world_tool
async def draft_clarifying_questions(ctx: RunContextWrapper[RunState], issues: list[str]) -> str:
    """Turn intent issues into questions for the customer.

    Args:
        issues: Issue codes from the intent analysis.
    """
    questions = {
        "PAINT_UNSPECIFIED": "Which paint colour should we build?",
        "TOWING_NEED_WITHOUT_TOW_PACKAGE": "You mention towing: shall we add the tow package or change model?",
        "SEATING_NEED_UNMET": "You need seven seats: shall we add the third row or change model?",
    }
    return as_json({"questions": [questions.get(code, f"Please clarify: {code}") for code in issues]})
