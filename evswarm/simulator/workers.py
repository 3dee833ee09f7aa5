"""Running simulation jobs on a compute backend (`evswarm.compute`: the local pool or Ray).

A job is a few run indices of one batch; a worker generates each scenario, runs the swarm on it and
writes its bundle atomically, so a stopped batch leaves no partial bundle and resumes where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evswarm.agents.providers import AgentModels, ModelChoice
from evswarm.compute import Backend, map_chunks
from evswarm.compute import Interrupted as ComputeInterrupted
from evswarm.core.io import atomic_write_bytes, bundle_bytes
from evswarm.core.versions import BatchVersions
from evswarm.simulator.cases import generate, run_id_for
from evswarm.world.intervention import Intervention
from evswarm.world.oracle import oracle_for

CHUNK = 4
"""Runs handed to a worker at a time: small enough for a smooth progress bar, big enough to amortize IPC."""

Outcome = tuple[int, str, str | None]
"""(run index, run id, runner error or None) for each run a job attempted."""


@dataclass(frozen=True)
class Job:
    """Some runs of one batch, and everything a worker needs to run them (picklable)."""

    seed: int
    indices: tuple[int, ...]
    version_sets: tuple[str, ...] | None
    batch_label: str
    model: ModelChoice
    """The model of every agent whose version names none (`--model`)."""
    bundles_dir: str
    versions: BatchVersions
    """The resolved version sets the batch may use, and its schedule."""
    agent_models: tuple[tuple[str, tuple[tuple[str, ModelChoice], ...]], ...] = ()
    """Per version set, the agents whose version names their own model, checked by the parent."""
    intervention: Intervention | None = None
    """A change to every scenario of the job before it runs (counterfactual re-runs)."""


def split(indices: list[int], template: Job, size: int = CHUNK) -> list[Job]:
    """The runs `indices` cut into jobs of `size` runs that share `template`'s settings."""
    return [replace(template, indices=tuple(indices[i : i + size])) for i in range(0, len(indices), size)]


_ENVIRONMENTS: dict[tuple[str, str, ModelChoice, frozenset[tuple[str, ModelChoice]]], Any] = {}
"""One run environment per version set (by content), default model and per-agent models in each process:
agents and providers are reusable."""
_PROVIDERS: dict[ModelChoice, Any] = {}
"""One model provider per model choice in each process, shared by every version set's environment (so a
live server's fail-fast breaker trips once for the whole batch)."""


def environment(job: Job, version_set: str) -> Any:
    """The run environment of `version_set` in this process (built on first use), made active. Under an
    `agent` intervention (alone or within a `combined` one) the target agent runs its version from the
    intervention's reference set (policy, instructions and model), every other agent its own."""
    from evswarm.agents.runner import RunEnvironment

    version = job.versions.version_sets[version_set]
    own = dict(dict(job.agent_models).get(version_set, ()))
    swaps = [p for p in job.intervention.leaves if p.kind == "agent" and p.reference] if job.intervention else []
    for swap in swaps:
        if swap.reference not in job.versions.version_sets:
            raise ValueError(f"the agent intervention's reference set {swap.reference!r} is not in the job's versions")
        reference = job.versions.version_sets[swap.reference]
        if swap.target not in reference.agents:
            continue
        mine = version.agents.get(swap.target)
        theirs_agent = reference.agents[swap.target]
        if mine is not None and mine.orchestrator_mode != theirs_agent.orchestrator_mode:
            # the run keeps its own orchestrator mode (it is part of the scenario), so record it as run
            theirs_agent = theirs_agent.model_copy(update={"orchestrator_mode": mine.orchestrator_mode}).hashed()
        version = version.model_copy(update={"agents": {**version.agents, swap.target: theirs_agent}})
        theirs = dict(dict(job.agent_models).get(swap.reference, ()))
        own.pop(swap.target, None)
        if swap.target in theirs:
            own[swap.target] = theirs[swap.target]
    key = (version_set, version.version, job.model, frozenset(own.items()))
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = RunEnvironment.create(AgentModels(own, job.model, _PROVIDERS), version)
    env = _ENVIRONMENTS[key]
    env.activate()
    return env


def run_job(job: Job) -> list[Outcome]:
    """Run each scenario of `job` and write its bundle; a crash becomes a runner error, not a lost batch."""
    from evswarm.agents.runner import run_scenario

    version_sets = list(job.version_sets or []) or None

    async def run_all() -> list[Outcome]:
        done: list[Outcome] = []
        for index in job.indices:
            run_id = run_id_for(job.seed, index)
            try:
                scenario = generate(
                    job.seed, index, version_sets=version_sets, batch_label=job.batch_label, versions=job.versions
                )
                if job.intervention is not None:
                    scenario = job.intervention.apply(scenario)
                env = environment(job, scenario.version_set)
                bundle = await run_scenario(scenario, oracle_for(scenario), env)
                atomic_write_bytes(Path(job.bundles_dir) / f"{run_id}.json", bundle_bytes(bundle))
                done.append((index, run_id, None))
            except Exception as exc:  # one bad run never sinks the batch
                done.append((index, run_id, f"{type(exc).__name__}: {exc}"))
        return done

    return asyncio.run(run_all())


Chunk = tuple[tuple[int, ...], Intervention | None, str]
"""What varies between the jobs of one `run_jobs` call: run indices, intervention, bundles directory."""


def _run_chunk(shared: Job, chunk: Chunk) -> list[Outcome]:
    """Worker task: one job, from the call's shared settings and what is its own."""
    indices, intervention, bundles_dir = chunk
    return run_job(replace(shared, indices=indices, intervention=intervention, bundles_dir=bundles_dir))


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) arrived while jobs were running; `done` holds what finished first."""

    def __init__(self, done: list[Outcome]) -> None:
        super().__init__("interrupted")
        self.done = done


def run_jobs(
    jobs: list[Job], workers: int, on_done: Callable[[list[Outcome]], None], backend: Backend | None = None
) -> list[Outcome]:
    """Run `jobs` on `backend` (default: the local pool with `workers` processes; in this process when 1),
    calling `on_done` per finished job. The jobs may differ in their run indices, intervention and bundles
    directory only (`split` makes jobs that differ in their indices): the rest is handed to each worker
    once, when it starts.

    Ctrl-C or SIGTERM stops everything within a second or two and raises `Interrupted` with the
    outcomes of the jobs that finished."""
    if not jobs:
        return []
    shared = replace(jobs[0], indices=(), intervention=None, bundles_dir="")
    if any(replace(job, indices=(), intervention=None, bundles_dir="") != shared for job in jobs):
        raise ValueError("run_jobs: the jobs of one call may differ only in their runs, intervention and bundles_dir")
    chunks: list[Chunk] = [(job.indices, job.intervention, job.bundles_dir) for job in jobs]
    backend = backend or Backend(workers=workers)
    try:
        results = map_chunks(_run_chunk, shared, chunks, backend=backend, on_done=lambda _, r: on_done(r))
    except ComputeInterrupted as stop:
        raise Interrupted([o for i in sorted(stop.done) for o in stop.done[i]]) from None
    return [outcome for result in results for outcome in result]
