"""Deciding the trouble the world brings to a run (see `evswarm.world.trouble`): a tool outage, a stale
tariff snapshot, a capacity shock that lands mid-run, customer notes the screen misreads.

Each is drawn from its own stream keyed by the run's id and the kind of trouble, never from the
scenario's generator, so adding trouble changes no other draw of the scenario and no agent's draws.
"""

from __future__ import annotations

from evswarm.simulator.draft import Draft, near_alternate
from evswarm.world import market
from evswarm.world.market import days_between
from evswarm.world.rules import OVERLOAD_UTILIZATION
from evswarm.world.streams import chance, draw
from evswarm.world.trouble import (
    HIDDEN_INTENT_NOTES,
    HIDDEN_INTENT_RATE,
    LATE_SHOCK_RATE,
    OUTAGE_RATE,
    OUTAGE_TOOLS,
    STALE_TARIFF_DAYS,
    STALE_TARIFF_RATE,
    LateShock,
    ToolTrouble,
)


def _index(n: int, *keys: object) -> int:
    return int(draw(*keys) * n)


def add_trouble(draft: Draft, run_id: str) -> None:
    """Give `draft` the trouble its run's streams draw (most runs get none)."""
    if chance(OUTAGE_RATE, run_id, "tool-outage"):
        tool = OUTAGE_TOOLS[_index(len(OUTAGE_TOOLS), run_id, "tool-outage", "which")]
        draft.troubles.append(ToolTrouble(tool=tool, kind="outage"))
    tariffs = market.listed_tariffs(draft.region, draft.battery, draft.order_date)
    recent = [t for t in tariffs if days_between(t.effective_from, draft.order_date) < STALE_TARIFF_DAYS]
    if recent and chance(STALE_TARIFF_RATE, run_id, "stale-tariffs"):
        draft.troubles.append(ToolTrouble(tool="get_tariffs", kind="stale_snapshot"))
    default = draft.factories[draft.default_factory]
    calm = default.utilization <= OVERLOAD_UTILIZATION and near_alternate(draft)
    if calm and chance(LATE_SHOCK_RATE, run_id, "late-shock"):
        draft.late_shock = LateShock(
            factory_id=draft.default_factory,
            utilization=round(1.1 + 0.2 * draw(run_id, "late-shock", "load"), 2),
            backlog_days=12 + int(13 * draw(run_id, "late-shock", "backlog")),
            lands_with="build_schedule",
        )
    plain = not draft.notes and not draft.intent_issues and draft.quantity == 1 and not draft.malformed
    if plain and chance(HIDDEN_INTENT_RATE, run_id, "hidden-intent"):
        code, note = HIDDEN_INTENT_NOTES[_index(len(HIDDEN_INTENT_NOTES), run_id, "hidden-intent", "which")]
        draft.notes = note
        draft.hidden_intent_issues = [code]
