"""The A/B gate's sensitivity and false-alarm rate, and the cost of `evswarm ab`.

Sensitivity: every built-in version set with a planted fault (or a rogue window) against the clean baseline
v1.0, paired, at N = 100, 300 and 1000 runs (one 1000-run batch per set with the same seed; N runs are its
first N, so the three sizes are nested). For each: whether the gate flags it, which checks it names, the
fault's effect (the largest regression of any gating check over all 1000 pairs, and the share of candidate
runs in which the planted fault fired, from the causal record, which only benchmarks read), and the behavior
changes it lists outside the gate. Target: every fault whose effect is >= 5 points is flagged at N = 300.
The gate sees what the graders see: a fault no rubric judges (v1.6, a redundant confirmation) can only show
as a behavior change.

False alarms: the baseline against itself over 20 seeds at N = 300, two ways. Paired: the same scenarios with
every agent's own random stream re-drawn (a re-run of the same version, as a live model's re-run would be;
identical arms are trivially tied). Unpaired: seed k against seed k + 1 (`compare --unpaired`). Target: share
flagged <= 5%.

Cost: wall time of `run_ab` at N = 300 (v1.0 vs v1.4) against simulating and grading the two arms one after
the other with the same public functions, measured in the same run. Target: ratio <= 1.1.

    .venv/bin/python benchmarks/ab_gate.py [--seed 11] [--workers 2] [--work .cache/ab_gate] [--quick]
        [--sizes 100,300,1000] [--null-seeds 20] [--null-runs 300]

Writes benchmarks/results/ab_gate.json and prints the figures. Batches are kept in --work and reused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from copy import copy
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evswarm.ab.arms import Arm, load_arm  # noqa: E402
from evswarm.ab.compare import compare_arms  # noqa: E402
from evswarm.ab.run import run_ab  # noqa: E402
from evswarm.agents.versions import builtin_catalog  # noqa: E402
from evswarm.core.ab import ABReport  # noqa: E402
from evswarm.core.io import atomic_write_bytes, bundle_bytes  # noqa: E402
from evswarm.core.layout import BatchLayout  # noqa: E402
from evswarm.evals.pipeline import grade  # noqa: E402
from evswarm.simulator import simulate  # noqa: E402
from evswarm.simulator.cases import run_id_for  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "ab_gate.json"
QUIET = Console(quiet=True)
FD, PC, RS, MD, RA = (
    "final_decision_quality",
    "policy_compliance_correctness",
    "routing_specialist_activation",
    "market_drift_awareness",
    "review_appropriateness",
)
RIGHT_RUBRICS: dict[str, set[str]] = {
    "stale_incentive": {PC, MD},
    "tariff_omitted": {PC, MD},
    "compliance_tariff_exemption": {PC, MD},
    "missed_stockout": {MD},
    "skip_regional_compliance": {RS},
    "review_escalates_clean": {RA},
    "routing_loop": {RS},
    "capacity_ignored": {FD},
    "rogue_shadow_veto": {FD},
    "redundant_confirmation": set(),
}
"""The rubrics whose dimension each fault always derails when it fires (see benchmarks/grader_validity.py):
naming one of them is naming the right rubric. No rubric judges a redundant confirmation."""


def graded_batch(out: Path, runs: int, seed: int, version_set: str, workers: int) -> Path:
    """A graded batch of `runs` runs of one version set (reused when already complete)."""
    layout = BatchLayout(out)
    if len(list(layout.bundle_paths())) < runs or not layout.labels.is_file():
        simulate(runs, seed, out, version_sets=[version_set], workers=workers, progress=False)
        grade(out, progress=False, console=QUIET)
    return out


def first(arm: Arm, runs: int, seed: int) -> Arm:
    """The arm restricted to its first `runs` runs (by batch index)."""
    keep = {run_id_for(seed, i) for i in range(runs)}
    part = copy(arm)
    part.runs = {k: v for k, v in arm.runs.items() if k in keep}
    return part


def fired_share(batch: Path, faults: set[str]) -> float:
    """Share of the batch's runs in which one of `faults` fired (the causal record: benchmarks only)."""
    paths = list(BatchLayout(batch).bundle_paths())
    fired = 0
    for path in paths:
        causes = orjson.loads(path.read_bytes()).get("injected_faults") or []
        fired += any(c.get("cause_id") in faults for c in causes)
    return fired / len(paths)


def largest_regression(report: ABReport) -> tuple[str, float]:
    """The gating check that got worst, and by how many points (the fault's effect at this N)."""
    worst = ("none", 0.0)
    for check in report.checks:
        if not check.gates:
            continue
        harm = -check.difference if check.higher_is_better else check.difference
        if 100 * harm > worst[1]:
            worst = (check.name, 100 * harm)
    return worst


def sensitivity(work: Path, seed: int, sizes: list[int], workers: int, console: Console) -> list[dict[str, Any]]:
    catalog = builtin_catalog()
    top = max(sizes)
    base_dir = graded_batch(work / f"sens-{seed}-v1.0", top, seed, "v1.0", workers)
    base = load_arm("base", base_dir)
    rows = []
    for name, vs in catalog.sets.items():
        faults = set(vs.faults) | {w.fault for w in vs.rogue_windows}
        if name == "v1.0" or not faults:
            continue
        started = time.perf_counter()
        cand_dir = graded_batch(work / f"sens-{seed}-{name}", top, seed, name, workers)
        candidate = load_arm("candidate", cand_dir)
        full = compare_arms(base, candidate)
        effect_check, effect = largest_regression(full)
        right = set().union(*(RIGHT_RUBRICS[f] for f in faults))
        row: dict[str, Any] = {
            "version_set": name,
            "faults": sorted(faults),
            "right_rubrics": sorted(right),
            "fired_share": round(fired_share(cand_dir, faults), 4),
            "effect_points": round(effect, 2),
            "effect_check": effect_check,
            "by_runs": {},
        }
        for n in sizes:
            report = full if n == top else compare_arms(first(base, n, seed), first(candidate, n, seed))
            behaviors = [c.name for c in report.checks if c.kind == "behavior" and c.status == "changed"]
            row["by_runs"][str(n)] = {
                "detected": report.verdict.exit_code == 1,
                "outcome": report.verdict.outcome,
                "named": report.verdict.regressions,
                "names_effect_check": effect_check in report.verdict.regressions,
                "names_a_right_rubric": bool(right & set(report.verdict.regressions)),
                "detectable_points": round(100 * report.verdict.detectable_difference, 2),
                "behavior_changes": len(behaviors),
                "top_behavior_change": behaviors[0] if behaviors else None,
            }
        rows.append(row)
        at = {n: "flagged" if row["by_runs"][str(n)]["detected"] else "-" for n in sizes}
        console.print(
            f"{name:<13} effect {effect:5.1f} pts ({effect_check}), fault fired in {100 * row['fired_share']:.1f}% "
            f"of runs; "
            + ", ".join(f"N={n}: {v}" for n, v in at.items())
            + f"  [{time.perf_counter() - started:.0f}s]",
            highlight=False,
        )
    return rows


def _resalted_runs(args: tuple[int, list[int], str, str]) -> list[str]:
    """Run `indices` of a v1.0 batch with every agent's random stream re-drawn (salt), writing bundles."""
    from evswarm.agents.providers import AgentModels, ModelChoice
    from evswarm.agents.runner import RunEnvironment, run_scenario
    from evswarm.simulator.cases import generate
    from evswarm.world.oracle import oracle_for

    seed, indices, salt, bundles = args
    version = builtin_catalog().sets["v1.0"].with_default_model("offline", None)
    env = RunEnvironment.create(AgentModels({}, ModelChoice("offline")), version)

    async def run_all() -> list[str]:
        done = []
        for index in indices:
            scenario = generate(seed, index, version_sets=["v1.0"], batch_label=f"evswarm-{seed}")
            scenario = scenario.model_copy(update={"slip_salt": dict.fromkeys(version.agents, salt)})
            bundle = await run_scenario(scenario, oracle_for(scenario), env)
            atomic_write_bytes(Path(bundles) / f"{bundle.run.run_id}.json", bundle_bytes(bundle))
            done.append(bundle.run.run_id)
        return done

    return asyncio.run(run_all())


def resalted_batch(base: Path, out: Path, runs: int, seed: int, workers: int) -> Path:
    """The base batch's scenarios re-run with fresh agent streams (same manifest: same seed), graded."""
    layout = BatchLayout(out)
    if len(list(layout.bundle_paths())) < runs or not layout.labels.is_file():
        layout.bundles_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BatchLayout(base).manifest, layout.manifest)
        chunks = [list(range(i, min(i + 10, runs))) for i in range(0, runs, 10)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_resalted_runs, [(seed, c, "rerun", str(layout.bundles_dir)) for c in chunks]))
        grade(out, progress=False, console=QUIET)
    return out


def false_alarms(work: Path, seeds: list[int], runs: int, workers: int, console: Console) -> dict[str, Any]:
    paired, unpaired = [], []
    bases = {s: graded_batch(work / f"null-{s}", runs, s, "v1.0", workers) for s in [*seeds, seeds[-1] + 1]}
    for s in seeds:
        started = time.perf_counter()
        base = first(load_arm("base", bases[s]), runs, s)
        rerun = load_arm("candidate", resalted_batch(bases[s], work / f"null-{s}-rerun", runs, s, workers))
        report = compare_arms(base, rerun)
        other = first(load_arm("candidate", bases[s + 1]), runs, s + 1)
        loose = compare_arms(base, other, unpaired=True)
        paired.append({"seed": s, "flagged": report.verdict.exit_code == 1, "named": report.verdict.regressions,
                       "discordant_runs": report.verdict.changed_behavior_runs})  # fmt: skip
        unpaired.append({"seed": s, "against": s + 1, "flagged": loose.verdict.exit_code == 1,
                         "named": loose.verdict.regressions})  # fmt: skip
        said = [f"FLAGGED {r.verdict.regressions}" if r.verdict.exit_code else "not flagged" for r in (report, loose)]
        console.print(
            f"null seed {s}: paired re-run {said[0]}; unpaired vs {s + 1}: {said[1]}  "
            f"[{time.perf_counter() - started:.0f}s]",
            highlight=False,
        )
    return {
        "runs": runs,
        "seeds": len(seeds),
        "paired_rerun_share_flagged": sum(r["flagged"] for r in paired) / len(paired),
        "unpaired_share_flagged": sum(r["flagged"] for r in unpaired) / len(unpaired),
        "paired_rerun": paired,
        "unpaired": unpaired,
    }


def _separately(out: Path, runs: int, seed: int, workers: int) -> float:
    started = time.perf_counter()
    for role, version_set in (("base", "v1.0"), ("candidate", "v1.4")):
        simulate(runs, seed, out / role, version_sets=[version_set], workers=workers, progress=False)
        grade(out / role, progress=False, console=QUIET)
    return time.perf_counter() - started


def _together(out: Path, runs: int, seed: int, workers: int) -> float:
    started = time.perf_counter()
    run_ab(
        "v1.0", "v1.4", runs=runs, seed=seed, out=out, workers=workers, progress=False,
        grade=lambda d: grade(d, progress=False, console=QUIET),
    )  # fmt: skip
    return time.perf_counter() - started


def wall_time(work: Path, runs: int, seed: int, workers: int, rounds: int, console: Console) -> dict[str, Any]:
    """`run_ab` against simulate + grade of each arm one after the other, in fresh directories, alternating
    which goes first each round (the machine is shared, so its load drifts)."""
    separate, together = [], []
    for k in range(rounds):
        for name in ("separate", "ab") if k % 2 == 0 else ("ab", "separate"):
            out = work / f"time-{name}"
            shutil.rmtree(out, ignore_errors=True)
            if name == "separate":
                separate.append(_separately(out, runs, seed, workers))
            else:
                together.append(_together(out, runs, seed, workers))
        console.print(f"wall time round {k + 1} at N={runs}: ab {together[-1]:.1f}s, separately {separate[-1]:.1f}s")
    ratio = sum(together) / sum(separate)
    console.print(f"wall time ratio (ab / separately, {rounds} rounds): {ratio:.3f}")
    return {
        "runs_per_arm": runs,
        "distinct_runs": 2 * runs,
        "rounds": rounds,
        "separate_s": [round(x, 2) for x in separate],
        "ab_s": [round(x, 2) for x in together],
        "ratio": round(ratio, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "ab_gate")
    parser.add_argument("--null-seeds", type=int, default=20)
    parser.add_argument(
        "--sizes",
        default="100,300,1000",
        help="paired runs per sensitivity check, comma-separated (the second "
        "is the size the targets are judged at and the size of the wall-time run)",
    )
    parser.add_argument("--null-runs", type=int, default=300, help="runs per arm of each false-alarm check")
    parser.add_argument("--quick", action="store_true", help="N = 30, 60; 3 null seeds of 60 runs (a smoke run)")
    parser.add_argument(
        "--reuse-timing", action="store_true", help="keep the wall-time figures of the last results file"
    )
    args = parser.parse_args()
    console = Console()
    full = ([int(n) for n in args.sizes.split(",")], args.null_runs, args.null_seeds)
    sizes, null_runs, null_seeds = ([30, 60], 60, 3) if args.quick else full
    args.work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    started = time.perf_counter()
    rows = sensitivity(args.work, args.seed, sizes, args.workers, console)
    nulls = false_alarms(args.work, [args.seed + 100 + k for k in range(null_seeds)], null_runs, args.workers, console)
    if args.reuse_timing and RESULTS.is_file():
        timing = json.loads(RESULTS.read_text(encoding="utf-8"))["wall_time"]
    else:
        timing = wall_time(args.work, sizes[1], args.seed + 7, args.workers, 1 if args.quick else 2, console)
    at = str(sizes[1])
    big = [r for r in rows if r["effect_points"] >= 5]
    results = {
        "benchmark": "ab_gate",
        "sizes": sizes,
        "null_runs": null_runs,
        "null_seeds": null_seeds,
        "seed": args.seed,
        "alpha": 0.05,
        "correction": "holm over every gating check that can reach significance",
        "sensitivity": rows,
        "false_alarms": nulls,
        "wall_time": timing,
        "targets": {
            f"detected_at_{at}_for_effect_ge_5_points": all(r["by_runs"][at]["detected"] for r in big),
            f"names_a_right_rubric_at_{at}": {
                r["version_set"]: r["by_runs"][at]["names_a_right_rubric"] for r in rows if r["right_rubrics"]
            },
            "effect_ge_5_points": [r["version_set"] for r in big],
            "missed_at_" + at: [r["version_set"] for r in rows if not r["by_runs"][at]["detected"]],
            "false_alarm_share_max": 0.05,
            "paired_rerun_false_alarms_ok": nulls["paired_rerun_share_flagged"] <= 0.05,
            "unpaired_false_alarms_ok": nulls["unpaired_share_flagged"] <= 0.05,
            "wall_ratio_max": 1.1,
            "wall_ratio_ok": timing["ratio"] <= 1.1,
        },
        "total_s": round(time.perf_counter() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load],
            "python": platform.python_version(),
        },
    }
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    console.print_json(json.dumps(results["targets"]))


if __name__ == "__main__":
    main()
