"""Trouble the world brings to a run on its own, beyond any agent's mistake: tools and feeds that fail or
serve stale data, environment shocks that land while the run is under way, and customer input whose
ambiguity the notes screen does not catch. Each is decided per run from its own stream (`streams`), so
it does not depend on which agents or versions run, and each can be switched off alone (the
counterfactual stage does exactly that).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ToolTroubleKind = Literal["outage", "stale_snapshot"]


class ToolTrouble(BaseModel):
    """A tool that times out on every call (`outage`) or answers from an old snapshot (`stale_snapshot`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str
    kind: ToolTroubleKind


class LateShock(BaseModel):
    """A capacity shock at a factory that lands during the run, after capacity was checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    factory_id: str
    utilization: float = Field(description="the factory's utilization once the shock lands")
    backlog_days: int
    lands_with: str = Field(description="the tool call during which it lands")


OUTAGE_TOOLS: tuple[str, ...] = ("get_factory_capacity", "check_inventory")
"""Tools an outage can hit; their agents give up after `OUTAGE_ATTEMPTS` failed calls."""
OUTAGE_ATTEMPTS = 3
OUTAGE_RATE = 0.02
"""Share of runs in which one of `OUTAGE_TOOLS` is down for the whole run."""
STALE_TARIFF_RATE = 0.06
"""Share of runs with a tariff that took effect shortly before the order in which the tariff feed
answers from a snapshot taken before that change."""
STALE_TARIFF_DAYS = 45
LATE_SHOCK_RATE = 0.04
"""Share of releasable runs with a near alternate factory in which a capacity shock lands mid-run."""
HIDDEN_INTENT_RATE = 0.06
"""Share of plain single-vehicle orders (no notes yet) whose notes contradict the configuration in a way
the notes screen misses."""

HIDDEN_INTENT_NOTES: tuple[tuple[str, str], ...] = (
    ("PAINT_CONFLICT", "Please make sure it arrives in the white we saw at the showroom."),
    ("WHEEL_CONFLICT", "My spouse insists on the smallest wheels for winter driving."),
    ("DELIVERY_CONFLICT", "We cannot take delivery before the new year, please hold it until January."),
)
