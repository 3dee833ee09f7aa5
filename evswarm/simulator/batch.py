"""`evswarm simulate`: generate scenarios, run the swarm on each in worker processes, write the batch.

A batch directory is resumable: bundles are written atomically one by one, a re-run with the same
arguments skips every complete bundle and runs only what is missing, and the batch-level files
(results, summary, SQLite snapshot) are rebuilt from the bundles at the end.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from evswarm import __version__
from evswarm.agents.versions import VERSION_SETS
from evswarm.core.bundle import Bundle
from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.io import atomic_write_bytes, atomic_write_json, atomic_write_jsonl, bundle_bytes, read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.core.store import write_snapshot
from evswarm.simulator.cases import generate, run_id_for
from evswarm.simulator.models import MODEL_ERROR_CODES, ModelChoice, parse_model
from evswarm.simulator.oracle import oracle_for
from evswarm.simulator.results import RunFacts, batch_summary, results_row, run_facts, runner_error_row

MANIFEST_FORMAT = "evswarm.batch.v1"
CHUNK = 4
"""Runs handed to a worker at a time: small enough for a smooth progress bar, big enough to amortize IPC."""


class Manifest(BaseModel):
    """What defines a batch: re-running with a different seed, version sets or model is refused."""

    model_config = ConfigDict(extra="forbid")

    format: str = MANIFEST_FORMAT
    seed: int
    version_sets: list[str] | None
    model: str
    base_url: str | None
    batch_label: str
    evswarm_version: str


@dataclass
class BatchReport:
    out: Path
    requested: int
    skipped: int
    ran: int
    runner_errors: dict[str, str] = field(default_factory=dict)
    status_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Job:
    seed: int
    indices: tuple[int, ...]
    version_sets: tuple[str, ...] | None
    batch_label: str
    model: ModelChoice
    bundles_dir: str


def _check_arguments(runs: int, version_sets: list[str] | None, workers: int | None) -> None:
    if runs < 1:
        raise EvswarmError(f"--runs must be at least 1 (got {runs})")
    if workers is not None and workers < 1:
        raise EvswarmError(f"--workers must be at least 1 (got {workers})")
    unknown = [v for v in version_sets or [] if v not in VERSION_SETS]
    if unknown:
        raise EvswarmError(
            f"unknown version set(s): {', '.join(unknown)}",
            hint=f"known version sets: {', '.join(VERSION_SETS)} (see `evswarm faults`)",
        )


def _prepare_directory(layout: BatchLayout) -> None:
    try:
        layout.bundles_dir.mkdir(parents=True, exist_ok=True)
        probe = layout.root / ".evswarm-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EvswarmError(f"cannot write to output directory {layout.root}: {exc.strerror or exc}") from exc


def _check_manifest(layout: BatchLayout, wanted: Manifest) -> None:
    if layout.manifest.exists():
        try:
            found = Manifest.model_validate_json(layout.manifest.read_bytes())
        except ValueError as exc:
            raise EvswarmError(f"{layout.manifest} is not a valid batch manifest: {exc}") from exc
        differs = [k for k in ("seed", "version_sets", "model", "base_url") if getattr(found, k) != getattr(wanted, k)]
        if differs:
            was = ", ".join(f"{k}={getattr(found, k)!r}" for k in differs)
            raise EvswarmError(
                f"{layout.root} holds a batch made with {was}; this command asks for "
                + ", ".join(f"{k}={getattr(wanted, k)!r}" for k in differs),
                hint="use another --out directory, or repeat the original arguments to resume",
            )
        return
    atomic_write_json(layout.manifest, wanted.model_dump(mode="json"))


def _complete_runs(layout: BatchLayout, run_ids: list[str]) -> set[str]:
    """Runs whose bundle is already on disk and valid; a corrupt one stops the batch (nothing is deleted)."""
    complete = set()
    for run_id in run_ids:
        path = layout.bundle_path(run_id)
        if not path.exists():
            continue
        try:
            bundle = read_bundle(path)
        except BundleError as exc:
            raise EvswarmError(
                f"corrupt bundle found on resume: {exc}",
                hint=f"move or delete {path} and run the same command again to regenerate it",
            ) from exc
        if bundle.run.summary.error_code not in MODEL_ERROR_CODES:  # the model server failed it: run it again
            complete.add(run_id)
    return complete


def _write_batch_files(
    layout: BatchLayout, run_ids: list[str], errors: dict[str, str], *, label: str, seed: int
) -> dict[str, Any]:
    """Rebuild results.jsonl, run_summary.json and the SQLite snapshot in one streaming pass over the bundles."""
    rows: list[dict[str, Any]] = []
    facts: list[RunFacts] = []

    def bundles() -> Iterator[Bundle]:
        for index, run_id in enumerate(run_ids):
            if run_id in errors:
                rows.append(
                    runner_error_row(run_id, index, batch_label=label, batch_size=len(run_ids), error=errors[run_id])
                )
                continue
            bundle = read_bundle(layout.bundle_path(run_id))
            rows.append(results_row(bundle, batch_label=label, batch_size=len(run_ids), index=index))
            facts.append(run_facts(bundle))
            yield bundle

    write_snapshot(layout.sqlite, bundles())
    atomic_write_jsonl(layout.results, rows)
    summary = batch_summary(facts, batch_label=label, seed=seed, requested=len(run_ids), runner_errors=len(errors))
    atomic_write_json(layout.summary, summary)
    return summary


_WORKER_ENVS: dict[ModelChoice, Any] = {}
"""One run environment per model choice in each worker process (agents and providers are reusable)."""


def _run_job(job: _Job) -> list[tuple[int, str, str | None]]:
    """Worker entry: run each scenario and write its bundle; a crash becomes a runner error, not a lost batch."""
    from evswarm.agents.runner import RunEnvironment, run_scenario

    if job.model not in _WORKER_ENVS:
        _WORKER_ENVS[job.model] = RunEnvironment.create(job.model.provider())
    env = _WORKER_ENVS[job.model]
    env.activate()

    async def run_all() -> list[tuple[int, str, str | None]]:
        done: list[tuple[int, str, str | None]] = []
        for index in job.indices:
            run_id = run_id_for(job.seed, index)
            try:
                scenario = generate(
                    job.seed, index, version_sets=list(job.version_sets or []) or None, batch_label=job.batch_label
                )
                bundle = await run_scenario(scenario, oracle_for(scenario), env)
                atomic_write_bytes(Path(job.bundles_dir) / f"{run_id}.json", bundle_bytes(bundle))
                done.append((index, run_id, None))
            except Exception as exc:  # one bad run never sinks the batch
                done.append((index, run_id, f"{type(exc).__name__}: {exc}"))
        return done

    return asyncio.run(run_all())


def _jobs(indices: list[int], template: _Job) -> Iterator[_Job]:
    for start in range(0, len(indices), CHUNK):
        yield _Job(
            template.seed,
            tuple(indices[start : start + CHUNK]),
            template.version_sets,
            template.batch_label,
            template.model,
            template.bundles_dir,
        )


def _execute(jobs: list[_Job], workers: int, total: int, progress: bool) -> list[tuple[int, str, str | None]]:
    results: list[tuple[int, str, str | None]] = []
    bar = tqdm(total=total, unit="run", desc="simulate", disable=not progress, dynamic_ncols=True)
    with bar:
        if workers == 1:
            for job in jobs:
                results += _run_job(job)
                bar.update(len(job.indices))
            return results
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run_job, job) for job in jobs]
            for future in as_completed(futures):
                chunk = future.result()
                results += chunk
                bar.update(len(chunk))
    return results


def simulate(
    runs: int,
    seed: int,
    out: Path,
    *,
    version_sets: list[str] | None = None,
    workers: int | None = None,
    model: str = "offline",
    base_url: str | None = None,
    progress: bool = True,
) -> BatchReport:
    """Run `runs` scenarios of batch `seed` into `out`, finishing whatever an earlier attempt left undone."""
    started = time.perf_counter()
    _check_arguments(runs, version_sets, workers)
    choice = parse_model(model, base_url)
    layout = BatchLayout(out)
    _prepare_directory(layout)
    label = f"evswarm-{seed}"
    _check_manifest(
        layout,
        Manifest(
            seed=seed,
            version_sets=version_sets or None,
            model=model,
            base_url=base_url,
            batch_label=label,
            evswarm_version=__version__,
        ),
    )
    run_ids = [run_id_for(seed, i) for i in range(runs)]
    complete = _complete_runs(layout, run_ids)
    todo = [i for i, rid in enumerate(run_ids) if rid not in complete]
    template = _Job(seed, (), tuple(version_sets) if version_sets else None, label, choice, str(layout.bundles_dir))
    worker_count = min(workers or os.cpu_count() or 1, max(len(todo), 1))
    outcomes = _execute(list(_jobs(todo, template)), worker_count, len(todo), progress) if todo else []
    errors = {rid: err for _, rid, err in outcomes if err}
    summary = _write_batch_files(layout, run_ids, errors, label=label, seed=seed)
    return BatchReport(
        out=out,
        requested=runs,
        skipped=runs - len(todo),
        ran=len(todo) - len(errors),
        runner_errors=errors,
        status_counts=summary["status_counts"],
        seconds=time.perf_counter() - started,
    )
