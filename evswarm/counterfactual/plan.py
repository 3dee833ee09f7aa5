"""Which runs to re-execute under which interventions: the top patterns of an analysis and, for each,
its top suspects (components its traces blame), each turned into the intervention that tests it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evswarm.agents.versions import FAULTS
from evswarm.core.analysis import PatternRow, SuspectRow, TracePatternRow, read_table
from evswarm.core.errors import EvswarmError
from evswarm.core.versions import BatchVersions, ResolvedVersionSet
from evswarm.world.intervention import Intervention

OWNERS: dict[str, str] = {fault_id: fault.agent_name for fault_id, fault in FAULTS.items()}


@dataclass
class PatternPlan:
    pattern_id: int
    label: str
    members: list[str]
    """The member runs to re-run."""
    total: int = 0
    """All member runs of the pattern."""
    interventions: list[Intervention] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Suspects that could not be tested, and why."""


def reference_faults(reference: ResolvedVersionSet, agent: str) -> list[str]:
    """The planted faults `agent` runs with in version set `reference` (its policy variant included)."""
    found = reference.agents.get(agent)
    return sorted(f for f in found.faults if OWNERS.get(f) == agent) if found else []


def revert(agent: str, reference: ResolvedVersionSet) -> Intervention:
    """The intervention under which `agent` alone runs its `reference` version, without slips."""
    return Intervention(
        kind="agent", target=agent, faults=reference_faults(reference, agent), reference=reference.name,
        owner_of=OWNERS,
    )  # fmt: skip


def interventions_for(suspect: SuspectRow, reference: ResolvedVersionSet) -> tuple[list[Intervention], str | None]:
    """The interventions that test one suspect, or a reason it cannot be tested."""
    if suspect.side == "agent":
        if suspect.component not in {*OWNERS.values(), *_agents(), *reference.agents}:
            return [], f"{suspect.component} is not an agent of the swarm"
        return [revert(suspect.component, reference), Intervention(kind="resample", target=suspect.component)], None
    if suspect.side == "tool":
        return [Intervention(kind="tool", target=suspect.component)], None
    if suspect.side == "environment":
        return [Intervention(kind="environment", target="environment")], None
    if suspect.side == "input":
        return [Intervention(kind="input", target="input")], None
    return [], f"suspect side {suspect.side!r} cannot be intervened on"


def _agents() -> set[str]:
    from evswarm.agents.slips import SLIPS

    return {slip.agent_name for slip in SLIPS.values()}


def plan(
    analysis: Path,
    versions: BatchVersions,
    reference: str,
    patterns: int,
    suspects: int,
    max_runs: int | None = None,
) -> list[PatternPlan]:
    """Interventions for the top `patterns` patterns and their top `suspects` suspects each, over each
    pattern's member runs (at most `max_runs` of them: the first by run id, which is a hash, so a sample
    that does not favour any slice). `reference` must be among `versions` (`simulator.plan.with_reference`)."""
    if reference not in versions.version_sets:
        raise EvswarmError(
            f"unknown reference version set {reference!r}",
            hint=f"the batch's version sets: {', '.join(versions.version_sets)}",
        )
    reference_set = versions.version_sets[reference]
    rows = sorted(  # by impact: ids are ranks only at a lineage chain's first analysis
        (p for p in read_table(analysis, PatternRow) if p.pattern_id > 0),
        key=lambda p: (p.rank if p.rank is not None else p.pattern_id, p.pattern_id),
    )
    members: dict[int, list[str]] = {}
    for row in read_table(analysis, TracePatternRow):
        members.setdefault(row.pattern_id, []).append(row.run_id)
    blamed: dict[int, list[SuspectRow]] = {}
    for suspect in read_table(analysis, SuspectRow):
        blamed.setdefault(suspect.pattern_id, []).append(suspect)
    plans = []
    for pattern in rows[:patterns]:
        chosen = sorted(members.get(pattern.pattern_id, []))[:max_runs]
        found = PatternPlan(pattern.pattern_id, pattern.label, chosen, total=len(members.get(pattern.pattern_id, [])))
        if not found.members:
            found.skipped.append("the pattern has no member runs")
        for suspect in sorted(blamed.get(pattern.pattern_id, []), key=lambda s: s.rank)[:suspects]:
            tests, why = interventions_for(suspect, reference_set)
            if why:
                found.skipped.append(why)
            for test in tests:
                if test not in found.interventions:
                    found.interventions.append(test)
        plans.append(found)
    return plans
