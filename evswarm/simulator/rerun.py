"""Re-executing some runs of a batch under an intervention each (the counterfactual stage's engine).

Each run is regenerated from the batch manifest exactly as it was simulated (same scenario, world,
seeds and random streams), the intervention is applied, and the swarm runs again in worker processes;
the bundles land in their own directory, under the same run ids, so each pairs with its original. A
bundle already there is kept, so a second re-run of the same runs is free.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from tqdm import tqdm

from evswarm.agents.providers import parse_model
from evswarm.compute import Backend, start_backend
from evswarm.core.bundle import Bundle
from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_json, parse_bundle
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest
from evswarm.core.versions import BatchVersions, content_hash
from evswarm.simulator.batch import SimulationInterrupted
from evswarm.simulator.plan import recorded_models, versions_of
from evswarm.simulator.workers import Interrupted, Job, run_jobs, split
from evswarm.world.intervention import Intervention


def run_index(config_id: str) -> int:
    """The index of a run in its batch, from its `cfg_<seed>_<index>` config id."""
    try:
        return int(config_id.rsplit("_", 1)[1])
    except (IndexError, ValueError) as exc:
        raise EvswarmError(f"config_id {config_id!r} does not name a run index") from exc


def saved_bytes(layout: BatchLayout, run_id: str) -> bytes | None:
    """Run `run_id`'s saved bundle (from `bundles/` or `bundles.zip`), or None when the batch lacks it."""
    try:
        return layout.saved_bundle(run_id)
    except (OSError, zipfile.BadZipFile) as exc:
        raise EvswarmError(f"cannot read {run_id} from {layout.root}: {exc}") from exc


def saved_bundle(layout: BatchLayout, run_id: str) -> Bundle:
    """Run `run_id`'s saved bundle, parsed; EvswarmError naming it when it is missing or unreadable."""
    raw = saved_bytes(layout, run_id)
    if raw is None:
        raise EvswarmError(f"{layout.root} has no bundle for {run_id}")
    return parse_bundle(raw, source=f"{layout.root}:{run_id}")


def rerun_each(
    source: Path,
    manifest: BatchManifest,
    tests: dict[str, Intervention],
    out: Path,
    *,
    workers: int | None = None,
    progress: bool = True,
    model: str | None = None,
    versions: BatchVersions | None = None,
    backend: Backend | None = None,
    desc: str = "re-runs",
) -> dict[str, str | None]:
    """Re-run each run of `tests` (run id -> its intervention) of the batch in `source` into `out`/bundles.

    `out/counterfactual.json` records what each bundle there was made from: the intervention, a digest of
    the original bundle, the model and the version sets. A bundle is kept when all of these match, and
    made again otherwise (its grade then no longer stands, so `out`'s labels are dropped): a directory
    reused by another batch, model or reference version never passes off its old twins. The runs use
    `versions` (default: the batch's recorded `versions.json`), each agent on the model it ran on.
    Returns run id -> None (its bundle is in `out`) or the runner error. `model` overrides every agent's
    model (a live batch can only be re-run on a model). `backend` (default: the local pool with `workers`
    processes) says where they run; a Ray backend's own `workers` bounds its concurrent tasks."""
    layout, target = BatchLayout(source), BatchLayout(out)
    choice = parse_model(model or manifest.model, manifest.base_url if model is None else None)
    versions = versions or versions_of(layout, manifest)
    target.bundles_dir.mkdir(parents=True, exist_ok=True)
    recorded = _recorded(out)
    setting = {"model": model or "", "versions": content_hash({n: v.version for n, v in versions.version_sets.items()})}
    originals: dict[str, bytes] = {}
    wanted = {}
    for run_id, test in tests.items():
        original = saved_bytes(layout, run_id)
        if original is None:
            raise EvswarmError(f"{source} has no bundle for {run_id}")
        originals[run_id] = original
        digest = hashlib.sha256(original).hexdigest()
        wanted[run_id] = {"intervention": test.model_dump(mode="json"), "original": digest, **setting}
    stale = [r for r in tests if target.bundle_path(r).exists() and recorded.get(r) != wanted[r]]
    for run_id in stale:
        target.bundle_path(run_id).unlink()
    if stale:
        target.labels.unlink(missing_ok=True)
    atomic_write_json(out / "counterfactual.json", {"source": str(source), "runs": {**recorded, **wanted}})
    indices: dict[int, str] = {}
    for run_id in tests:
        if target.bundle_path(run_id).exists():
            continue
        bundle = parse_bundle(originals[run_id], source=f"{source}:{run_id}")
        indices[run_index(bundle.run.config_id)] = run_id
    template = Job(
        manifest.seed,
        (),
        tuple(manifest.version_sets) if manifest.version_sets else None,
        manifest.batch_label,
        choice,
        str(target.bundles_dir),
        versions=versions,
        agent_models=recorded_models(versions, choice) if model is None else (),
    )
    done: dict[str, str | None] = {r: None for r in tests if r not in indices.values()}
    if not indices:
        return done
    by_test: dict[str, list[int]] = {}  # by content: two interventions may share a slug
    for index, run_id in sorted(indices.items()):
        by_test.setdefault(tests[run_id].model_dump_json(), []).append(index)
    jobs = [
        job
        for group in by_test.values()
        for job in split(group, replace(template, intervention=tests[indices[group[0]]]))
    ]
    count = min(workers or os.cpu_count() or 1, len(indices))
    engine = backend if backend is not None and backend.kind == "ray" else Backend(workers=count)
    start_backend(engine)
    bar = tqdm(total=len(indices), unit="run", desc=desc, disable=not progress, dynamic_ncols=True)
    with bar:
        try:
            outcomes = run_jobs(jobs, count, lambda chunk: bar.update(len(chunk)), backend=engine)
        except Interrupted:
            raise SimulationInterrupted("interrupted: re-runs stopped", hint="run the same command again") from None
    done.update({run_id: error for _, run_id, error in outcomes})
    return done


def _recorded(out: Path) -> dict[str, Any]:
    """Run id -> what its bundle in `out` was made from (see `rerun_each`), from `counterfactual.json`; an
    unreadable file, or one from an evswarm that recorded less, makes every bundle there count as stale."""
    path = out / "counterfactual.json"
    try:
        saved = orjson.loads(path.read_bytes()) if path.is_file() else {}
    except (OSError, orjson.JSONDecodeError):
        return {}
    runs = saved.get("runs") if isinstance(saved, dict) else None
    return dict(runs) if isinstance(runs, dict) else {}
