"""Grader validity: each rubric's verdict against the truth the simulator knows about planted faults.

On a 1000-run batch with faults (the default version-set schedule plants them), every run is graded through
the real `evswarm grade` path. Truth for a rubric: did a fault that fired in the run (the bundle's planted-
fault records, which only benchmarks read) derail that rubric's dimension? Each faulted run is re-executed
with its faults switched off (the same scenario, the baseline policy, which matches the oracle), and a
dimension counts as derailed when the faulty run departs from that fault-free twin on it (decision, status,
factory and substitutions; price, or releasing what the twin blocked; required specialists the twin consulted,
or a runaway loop; the treatment of dated signals; whether review was requested). Runs with no fault are "not
derailed" on every rubric. The older documented-dimension truth (each fault's always/may dimensions, "may"
runs left out) is reported beside it for comparison.

Per rubric: precision, recall and balanced accuracy of "rubric failed" vs "fault derailed".
Target: balanced accuracy >= 0.9 for every rubric.

    .venv/bin/python benchmarks/grader_validity.py [--runs 1000] [--seed 23] [--batch DIR]

Writes benchmarks/results/grader_validity.json and prints the table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evswarm.core.bundle import Bundle  # noqa: E402
from evswarm.core.io import read_bundle  # noqa: E402
from evswarm.core.layout import BatchLayout  # noqa: E402
from evswarm.evals.pipeline import grade  # noqa: E402
from evswarm.evals.rubrics import RUBRICS  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FD, PC, RS, MD, RA = RUBRICS

# fault id -> (dimensions it always derails when it fires, dimensions it may knock on to)
DIMENSIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "stale_incentive": (frozenset({PC, MD}), frozenset({FD})),
    "tariff_omitted": (frozenset({PC, MD}), frozenset({FD})),
    "missed_stockout": (frozenset({MD}), frozenset({FD, RS, RA})),
    "skip_regional_compliance": (frozenset({RS}), frozenset({FD, PC, RA, MD})),
    "review_escalates_clean": (frozenset({RA}), frozenset({FD})),
    "routing_loop": (frozenset({RS}), frozenset({FD, PC, MD, RA})),
    "capacity_ignored": (frozenset({FD}), frozenset({RS, MD, RA})),
    "rogue_shadow_veto": (frozenset({FD}), frozenset({PC, RA, RS})),
}


def simulated_batch(runs: int, seed: int) -> Path:
    out = Path(tempfile.gettempdir()) / f"evswarm-bench-batch-{runs}-{seed}"
    if len(list(BatchLayout(out).bundle_paths())) < runs:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "evswarm", "simulate", "--runs", str(runs), "--seed", str(seed)]
        subprocess.run([*command, "--out", str(out)], check=True, env=env, cwd=ROOT)
    return out


def fired_faults(path: Path) -> list[str]:
    """The planted faults that fired in one run (read straight from the bundle JSON: benchmarks only)."""
    data = orjson.loads(path.read_bytes())
    return sorted({fault["fault_id"] for fault in data.get("injected_faults") or []})


def truth(faults: list[str], rubric: str) -> bool | None:
    """True: a fault derailed this rubric's dimension; False: nothing did; None: cannot say (left out)."""
    unknown = [f for f in faults if f not in DIMENSIONS]
    if unknown:
        raise SystemExit(f"fault(s) {unknown} have no dimension mapping in benchmarks/grader_validity.py")
    if any(rubric in DIMENSIONS[f][0] for f in faults):
        return True
    if any(rubric in DIMENSIONS[f][1] for f in faults):
        return None
    return False


def _review_requested(bundle: Bundle) -> bool:
    decision = bundle.run.summary.final_decision
    return bundle.review_packet is not None or bool(decision and decision.review_required)


def _signal_actions(bundle: Bundle) -> dict[str, str]:
    wanted = {s.event_id for s in bundle.oracle.signals}
    return {d.event_id: d.action for d in bundle.snapshots.environment_decisions if d.event_id in wanted}


def derailed_dimensions(faulty: Bundle, baseline: Bundle) -> dict[str, bool]:
    """Which rubric dimensions the fault changed, judged against the same scenario re-run with no fault.

    The baseline policy reaches the oracle's answer on every case type (tests/simulator/test_swarm.py), so a
    dimension on which the faulty run departs from its own fault-free twin is one the fault derailed."""
    fd, bd = faulty.run.summary.final_decision, baseline.run.summary.final_decision

    def outcome(bundle: Bundle) -> tuple[object, ...]:
        d = bundle.run.summary.final_decision
        subs = sorted((s.component, s.to_supplier) for s in d.supplier_substitutions) if d else []
        return (d.decision if d else None, bundle.run.status, d.factory if d else None, subs)

    decision = outcome(faulty) != outcome(baseline)
    tolerance = faulty.oracle.price_tolerance
    priced = fd is not None and bd is not None and fd.quoted_price is not None and bd.quoted_price is not None
    price = priced and abs(fd.quoted_price - bd.quoted_price) > tolerance  # type: ignore[union-attr, operator]
    released_blocked = bool(bd and bd.decision == "block" and fd and fd.decision != "block")
    required = set(faulty.oracle.required_specialists)
    consulted = set(faulty.run.summary.specialist_activations)
    routing = bool((required & set(baseline.run.summary.specialist_activations)) - consulted) or (
        faulty.run.summary.loop_count > 3
    )
    return {
        FD: decision,
        PC: price or released_blocked,
        RS: routing,
        MD: _signal_actions(faulty) != _signal_actions(baseline),
        RA: _review_requested(faulty) != _review_requested(baseline),
    }


def counterfactual_truth(batch: Path) -> dict[str, dict[str, bool]]:
    """run_id -> rubric -> derailed, re-running every faulted run of the batch with its faults switched off."""
    import asyncio

    from evswarm.agents.runner import RunEnvironment, run_scenario
    from evswarm.core.manifest import read_manifest
    from evswarm.simulator.cases import generate
    from evswarm.world.oracle import oracle_for

    layout = BatchLayout(batch)
    manifest = read_manifest(layout.manifest)
    env = RunEnvironment.offline()
    truths: dict[str, dict[str, bool]] = {}
    for path in layout.bundle_paths():
        faulty = read_bundle(path)
        if not faulty.injected_faults:
            truths[faulty.run.run_id] = dict.fromkeys(RUBRICS, False)
            continue
        index = int(faulty.run.config_id.rsplit("_", 1)[1])
        scenario = generate(faulty.seed, index, version_sets=manifest.version_sets, batch_label=manifest.batch_label)
        clean = scenario.model_copy(update={"active_faults": []})
        baseline = asyncio.run(run_scenario(clean, oracle_for(clean), env))
        truths[faulty.run.run_id] = derailed_dimensions(faulty, baseline)
    return truths


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    left_out: int = 0

    def add(self, derailed: bool | None, failed: bool | None) -> None:
        if derailed is None or failed is None:
            self.left_out += 1
        elif derailed and failed:
            self.tp += 1
        elif derailed:
            self.fn += 1
        elif failed:
            self.fp += 1
        else:
            self.tn += 1

    def metrics(self) -> dict[str, float | int | None]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        recall, specificity = ratio(self.tp, self.tp + self.fn), ratio(self.tn, self.tn + self.fp)
        both = recall is not None and specificity is not None
        balanced = round((recall + specificity) / 2, 4) if both else None  # type: ignore[operator]
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn, "left_out": self.left_out,
            "precision": ratio(self.tp, self.tp + self.fp), "recall": recall, "specificity": specificity,
            "balanced_accuracy": balanced,
        }  # fmt: skip


def _meets(m: dict[str, float | int | None]) -> bool:
    value = m["balanced_accuracy"]
    return value is not None and float(value) >= 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--batch", type=Path, help="use this batch instead of simulating one")
    args = parser.parse_args()

    batch = args.batch or simulated_batch(args.runs, args.seed)
    layout = BatchLayout(batch)
    result = grade(batch, console=Console(file=io.StringIO()), progress=False)
    confusion = {rubric: Confusion() for rubric in RUBRICS}
    mapped = {rubric: Confusion() for rubric in RUBRICS}
    derailed = counterfactual_truth(batch)
    per_fault: dict[str, Counter[str]] = {}
    fault_runs: Counter[str] = Counter()
    faulty_runs = 0
    for row in result.rows:
        if row.grade_status == "error":
            continue
        faults = fired_faults(layout.bundle_path(row.run_id))
        faulty_runs += bool(faults)
        for fault in faults:
            fault_runs[fault] += 1
            per_fault.setdefault(fault, Counter()).update(row.promptfoo_failed_checks)
        for rubric in RUBRICS:
            passed = row.passed(rubric)
            failed = None if passed is None else not passed
            confusion[rubric].add(derailed[row.run_id][rubric], failed)
            mapped[rubric].add(truth(faults, rubric), failed)

    metrics = {rubric: c.metrics() for rubric, c in confusion.items()}
    table = Table(title=f"Grader validity on {len(result.rows)} runs ({batch})", title_justify="left")
    for column in ("rubric", "precision", "recall", "balanced acc.", "tp/fp/fn/tn", "left out"):
        table.add_column(column, justify="left" if column == "rubric" else "right", no_wrap=column == "rubric")
    for rubric, m in metrics.items():
        ok = _meets(m)
        table.add_row(
            rubric, f"{m['precision']}", f"{m['recall']}",
            f"[{'green' if ok else 'red'}]{m['balanced_accuracy']}[/]",
            f"{m['tp']}/{m['fp']}/{m['fn']}/{m['tn']}", str(m["left_out"]),
        )  # fmt: skip
    console = Console()
    console.print(table)

    report = {
        "benchmark": "grader_validity",
        "batch": str(batch),
        "runs": len(result.rows),
        "error_rows": sum(1 for row in result.rows if row.grade_status == "error"),
        "runs_with_faults": faulty_runs,
        "fault_runs": dict(sorted(fault_runs.items())),
        "failed_checks_by_fault": {f: dict(sorted(c.items())) for f, c in sorted(per_fault.items())},
        "truth": "counterfactual: the run re-executed with its faults switched off; a rubric dimension is derailed "
        "when the faulty run departs from that fault-free twin on it",
        "metrics": metrics,
        "documented_dimension_truth": {
            "truth": "fault fired and its documented dimensions; 'may' dimensions left out",
            "dimensions": {f: {"always": sorted(a), "may": sorted(m)} for f, (a, m) in DIMENSIONS.items()},
            "metrics": {rubric: c.metrics() for rubric, c in mapped.items()},
        },
        "target_balanced_accuracy": 0.9,
        "meets_target": all(_meets(m) for m in metrics.values()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "grader_validity.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
