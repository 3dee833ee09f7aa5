"""Ground truth for the benchmarks (and only for them): what caused each run's failure.

A run's *causes* are the entries of its bundle's causal record (`injected_faults`): planted faults and
organic causes, each with its side and responsible component. A run is *failing* when a rubric failed
it, or when a cause acted and the run departs from its *calm twin*: the same scenario re-executed with
every planted fault and organic cause switched off, in the same process (outcome: decision, status,
price beyond tolerance, factory, review; or path: the agents that ran and the number of model calls).
So a cause that acted but changed nothing (a rounding that stayed within tolerance) is not a failure,
and one that no rubric sees (a redundant confirmation) still is.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunTruth:
    run_id: str
    causes: list[dict[str, object]]
    failed_rubric: bool | None = None
    departs: bool = False
    """The run departs from its calm twin (only computed for runs with a cause)."""
    case_type: str = ""
    version_set: str = ""

    @property
    def label(self) -> str:
        """The run's class: its causes' ids joined (`none` without a cause)."""
        return "+".join(sorted(str(c["cause_id"]) for c in self.causes)) or "none"

    @property
    def failing(self) -> bool:
        return bool(self.failed_rubric) or (bool(self.causes) and self.departs)

    @property
    def single(self) -> dict[str, object] | None:
        return self.causes[0] if len(self.causes) == 1 else None


@dataclass
class Truth:
    runs: dict[str, RunTruth] = field(default_factory=dict)

    def failing(self) -> list[str]:
        return sorted(r for r, t in self.runs.items() if t.failing)


def run_command(args: list[str]) -> float:
    """Run `python -m evswarm ...` in the repository; raise with its output on failure. Returns seconds."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "evswarm", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"evswarm {' '.join(args)} failed with exit code {proc.returncode}")
    return time.perf_counter() - start


def simulated_batch(out: Path, runs: int, seed: int, workers: int = 2) -> tuple[float, float]:
    """Simulate and grade a default batch into `out` unless it is already there. Returns seconds."""
    simulate = grade = 0.0
    if not (out / "run_summary.json").is_file():
        simulate = run_command(["simulate", "--runs", str(runs), "--seed", str(seed), "--out", str(out),
                                "--workers", str(workers), "--quiet"])  # fmt: skip
    if not (out / "eval_labels.jsonl").is_file():
        grade = run_command(["grade", str(out), "--no-progress"])
    return simulate, grade


def _outcome(bundle: object) -> tuple[object, ...]:
    summary = bundle.run.summary  # type: ignore[attr-defined]
    decision = summary.final_decision
    price = round(decision.quoted_price / 100) if decision and decision.quoted_price is not None else None
    return (
        decision.decision.value if decision else None,
        bundle.run.status.value,  # type: ignore[attr-defined]
        price,
        decision.factory if decision else None,
        decision.review_required if decision else None,
    )


def _path(bundle: object) -> tuple[object, ...]:
    summary = bundle.run.summary  # type: ignore[attr-defined]
    return (tuple(summary.specialist_activations), len(bundle.model_calls))  # type: ignore[attr-defined]


def calm_twin_bundles(batch: Path, run_ids: list[str]) -> dict[str, object]:
    """Each run's calm twin: its scenario re-executed with every planted fault and organic cause off."""
    from evswarm.agents.runner import RunEnvironment, run_scenario
    from evswarm.core.io import read_bundle
    from evswarm.core.manifest import read_manifest
    from evswarm.simulator.cases import generate
    from evswarm.world.oracle import oracle_for

    manifest = read_manifest(batch / "batch.json")
    env = RunEnvironment.offline()
    out: dict[str, object] = {}

    async def go() -> None:
        for run_id in run_ids:
            saved = read_bundle(batch / "bundles" / f"{run_id}.json")
            index = int(saved.run.config_id.rsplit("_", 1)[1])
            assert saved.seed is not None
            scenario = generate(saved.seed, index, version_sets=manifest.version_sets, batch_label=manifest.batch_label)
            calm = scenario.calm().model_copy(update={"active_faults": []})
            out[run_id] = await run_scenario(calm, oracle_for(calm), env)

    env.activate()
    asyncio.run(go())
    return out


def calm_twins(batch: Path, run_ids: list[str]) -> dict[str, bool]:
    """For each run: does it depart from its calm twin (outcome or path)?"""
    from evswarm.core.io import read_bundle

    twins = calm_twin_bundles(batch, run_ids)
    out: dict[str, bool] = {}
    for run_id in run_ids:
        saved = read_bundle(batch / "bundles" / f"{run_id}.json")
        out[run_id] = _outcome(saved) != _outcome(twins[run_id]) or _path(saved) != _path(twins[run_id])
    return out


def ground_truth(batch: Path, *, twins: bool = True) -> Truth:
    """Every run's causes, rubric verdict and (with `twins`) departure from its calm twin."""
    truth = Truth()
    for path in sorted((batch / "bundles").glob("run_*.json")):
        data = orjson.loads(path.read_bytes())
        summary = data["run"]["summary"]
        truth.runs[data["run"]["run_id"]] = RunTruth(
            run_id=data["run"]["run_id"],
            causes=list(data.get("injected_faults") or []),
            case_type=str(summary.get("scenario_family")),
            version_set=str(summary.get("agent_version_set")),
        )
    labels = batch / "eval_labels.jsonl"
    if labels.is_file():
        for line in labels.read_bytes().splitlines():
            row = orjson.loads(line)
            if row["run_id"] in truth.runs and row.get("promptfoo_pass") is not None:
                truth.runs[row["run_id"]].failed_rubric = not row["promptfoo_pass"]
    if twins:
        cache = batch / ".calm_twins.json"  # the twins of a batch never change: compute them once
        known: dict[str, bool] = orjson.loads(cache.read_bytes()) if cache.is_file() else {}
        caused = [r for r, t in truth.runs.items() if t.causes]
        missing = [r for r in caused if r not in known]
        if missing:
            known.update(calm_twins(batch, missing))
            cache.write_bytes(orjson.dumps(known, option=orjson.OPT_SORT_KEYS))
        for run_id in caused:
            truth.runs[run_id].departs = known[run_id]
    return truth
