"""`evswarm simulate`: generate scenarios, run the swarm on each in worker processes, write the batch.

A batch directory is resumable: bundles are written atomically one by one, a re-run with the same
arguments skips every complete bundle and runs only what is missing, and the batch-level files
(results, summary, SQLite snapshot) are rebuilt from the bundles at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from evswarm import __version__
from evswarm.agents.live import MODEL_ERROR_CODES, NOT_ATTEMPTED_NOTE
from evswarm.agents.providers import parse_model
from evswarm.compute import Backend, check_backend, start_backend
from evswarm.core.bundle import Bundle
from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.io import atomic_write_json, atomic_write_jsonl, read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest, read_manifest
from evswarm.core.results import ResultsRow
from evswarm.core.store import write_snapshot
from evswarm.core.summary import BatchSummary
from evswarm.simulator.cases import run_id_for
from evswarm.simulator.plan import batch_versions, load_catalog, model_table, record_batch_versions
from evswarm.simulator.results import RunFacts, batch_summary, results_row, run_facts, runner_error_row
from evswarm.simulator.workers import Interrupted, Job, Outcome, run_jobs, split


@dataclass
class BatchReport:
    """What `simulate` did: runs requested, found complete, run now, and how they ended."""

    out: Path
    requested: int
    skipped: int
    ran: int
    runner_errors: dict[str, str] = field(default_factory=dict)
    status_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    model_trouble: str | None = None
    """One line on a live model server that failed runs (None offline or when it served every run)."""


class SimulationInterrupted(EvswarmError):
    """Ctrl-C or SIGTERM stopped the batch: complete bundles are kept, re-running finishes it."""

    exit_code = 130


def _check_arguments(runs: int, workers: int | None) -> None:
    if runs < 1:
        raise EvswarmError(f"--runs must be at least 1 (got {runs})")
    if workers is not None and workers < 1:
        raise EvswarmError(f"--workers must be at least 1 (got {workers})")


def _prepare_directory(layout: BatchLayout) -> None:
    """Create the batch directory, check it is writable, and drop temp files an interrupted run left."""
    if layout.root.exists() and not layout.root.is_dir():
        raise EvswarmError(f"--out {layout.root} is a file, not a directory")
    try:
        layout.bundles_dir.mkdir(parents=True, exist_ok=True)
        probe = layout.root / ".evswarm-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EvswarmError(f"cannot write to output directory {layout.root}: {exc.strerror or exc}") from exc
    for stale in layout.bundles_dir.glob(".run_*.tmp"):
        stale.unlink(missing_ok=True)


def _check_manifest(layout: BatchLayout, wanted: BatchManifest) -> None:
    if layout.manifest.exists():
        found = read_manifest(layout.manifest)
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
) -> tuple[BatchSummary, list[ResultsRow]]:
    """Rebuild results.jsonl, run_summary.json and the SQLite snapshot in one streaming pass over the bundles."""
    rows: list[ResultsRow] = []
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
    atomic_write_jsonl(layout.results, (row.model_dump(mode="json") for row in rows))
    summary = batch_summary(facts, batch_label=label, seed=seed, requested=len(run_ids), runner_errors=len(errors))
    atomic_write_json(layout.summary, summary.model_dump(mode="json"))
    return summary, rows


def model_trouble(rows: list[ResultsRow]) -> str | None:
    """One line saying what went wrong with the model server in a batch, or None.

    Names the first failed run's cause (when the server cannot serve the batch at all, every run shares
    it) and how many runs it cost.
    """
    failed = sorted((r for r in rows if r.error_code in MODEL_ERROR_CODES), key=lambda r: r.batch_index)
    if not failed:
        return None
    message = str(failed[0].error_message or failed[0].error_code).removesuffix(NOT_ATTEMPTED_NOTE)
    return f"{len(failed)} of {len(rows)} runs failed because {message}"


def simulate(
    runs: int,
    seed: int,
    out: Path,
    *,
    version_sets: list[str] | None = None,
    versions: Path | None = None,
    workers: int | None = None,
    model: str = "offline",
    base_url: str | None = None,
    progress: bool = True,
    backend: str = "local",
    address: str | None = None,
) -> BatchReport:
    """Run `runs` scenarios of batch `seed` into `out`, finishing whatever an earlier attempt left undone.

    Runs spread over `version_sets` (uniformly), else over the schedule; `versions` is a version file whose
    sets stand beside the built-in ones. Every agent whose version names no model runs on `model`.
    Ctrl-C (or SIGTERM) stops within seconds, keeps every complete bundle and raises
    `SimulationInterrupted`; running the same call again finishes the batch.

    `backend` runs the runs on the local process pool (`local`, `workers` processes) or on Ray (`ray`, at
    most `workers` tasks at once, on the cluster at `address` or a local instance); the files are the same
    byte for byte either way."""
    started = time.perf_counter()
    _check_arguments(runs, workers)
    engine = Backend(backend, workers, address)  # type: ignore[arg-type]  # checked in Backend
    check_backend(engine)
    choice = parse_model(model, base_url)
    catalog = load_catalog(versions)
    plan = batch_versions(catalog, version_sets, model, base_url)
    models = model_table(catalog, plan, choice)
    layout = BatchLayout(out)
    _prepare_directory(layout)
    label = f"evswarm-{seed}"
    _check_manifest(
        layout,
        BatchManifest(
            seed=seed,
            version_sets=version_sets or None,
            model=model,
            base_url=base_url,
            versions_file=str(versions) if versions else None,
            batch_label=label,
            evswarm_version=__version__,
        ),
    )
    record_batch_versions(layout, plan)
    run_ids = [run_id_for(seed, i) for i in range(runs)]
    complete = _complete_runs(layout, run_ids)
    todo = [i for i, rid in enumerate(run_ids) if rid not in complete]
    template = Job(
        seed,
        (),
        tuple(version_sets) if version_sets else None,
        label,
        choice,
        str(layout.bundles_dir),
        versions=plan,
        agent_models=models,
    )
    worker_count = min(workers or os.cpu_count() or 1, max(len(todo), 1))
    if engine.kind == "local":
        engine = Backend(workers=worker_count)
    outcomes: list[Outcome] = []
    if todo:
        start_backend(engine)
        bar = tqdm(total=len(todo), unit="run", desc="simulate", disable=not progress, dynamic_ncols=True)
        with bar:
            try:
                outcomes = run_jobs(
                    split(todo, template), worker_count, lambda chunk: bar.update(len(chunk)), backend=engine
                )
            except Interrupted as stop:
                done = len(complete) + sum(1 for *_, error in stop.done if error is None)
                raise SimulationInterrupted(
                    f"interrupted: {done} of {runs} runs are complete in {out}",
                    hint="run the same command again to finish the batch",
                ) from None
    errors = {rid: err for _, rid, err in outcomes if err}
    summary, rows = _write_batch_files(layout, run_ids, errors, label=label, seed=seed)
    return BatchReport(
        out=out,
        requested=runs,
        skipped=runs - len(todo),
        ran=len(todo) - len(errors),
        runner_errors=errors,
        status_counts=summary.status_counts,
        seconds=time.perf_counter() - started,
        model_trouble=model_trouble(rows),
    )
