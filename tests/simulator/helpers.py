"""Running single scenarios in-process for the swarm tests."""

from __future__ import annotations

import asyncio
from functools import cache

from evswarm.agents.runner import RunEnvironment, run_scenario
from evswarm.core.bundle import Bundle
from evswarm.simulator.cases import generate
from evswarm.world.oracle import oracle_for
from evswarm.world.scenario import Scenario


@cache
def environment() -> RunEnvironment:
    return RunEnvironment.offline()


def run(scenario: Scenario) -> Bundle:
    env = environment()
    env.activate()
    return asyncio.run(run_scenario(scenario, oracle_for(scenario), env))


def run_case(
    seed: int, index: int, *, version_set: str = "v1.0", case_type: str | None = None, faults: list[str] | None = None
) -> Bundle:
    """Run one generated scenario; `faults` overrides the faults its version set and date switch on and
    switches every organic cause off (a controlled run)."""
    scenario = generate(seed, index, version_sets=[version_set], case_type=case_type)
    if faults is not None:
        scenario = scenario.calm().model_copy(update={"active_faults": faults})
    return run(scenario)


def planted_fault_vocabulary() -> list[str]:
    """Phrases that name a planted fault (its id, spelled out): no grader message may contain one."""
    from evswarm.agents.faults import FAULTS

    return sorted({fault_id.replace("_", " ") for fault_id in FAULTS} | set(FAULTS))
