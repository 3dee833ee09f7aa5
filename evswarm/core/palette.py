"""One colour per agent, the same in the review app and in the analysis report (both read it from here, as
they read every shared format): agents sorted by name take the colours of `AGENT_PALETTE` in turn (24
colours that tell 24 agents apart: ten strong hues, five dark and nine light ones)."""

from __future__ import annotations

from collections.abc import Iterable

AGENT_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#aec7e8",
    "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
)  # fmt: skip


def agent_colors(names: Iterable[str]) -> dict[str, str]:
    """Each agent's colour: sorted by name, the palette's colours in turn (repeating past 24 agents)."""
    ordered = sorted(set(names))
    return {name: AGENT_PALETTE[i % len(AGENT_PALETTE)] for i, name in enumerate(ordered)}
