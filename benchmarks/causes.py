"""Cause recovery: does the analysis find the causes of failure (planted and organic) and blame the right
agent or component? Measured against the causal record, which the product never reads.

On a fresh default batch (simulated and graded; see `truth.py` for what counts as failing), the analysis
runs in three modes: with grades and their citations, with grades but no citations (anchors from the
trace alone), and with no grades at all. For each mode:

- `ari`: adjusted Rand index between the discovered patterns and the truth over every failing trace,
  each distinct set of causes a class (`none` for failing traces no cause explains: grader mistakes);
  traces the analysis did not pick as failing get the label `not analyzed`, unclustered ones `noise`;
- per cause (runs where it is the only cause): how many runs, how many were analyzed (`recall`), the
  pattern holding most of them with its `purity` (share of that pattern's traces with this cause), the
  share whose per-trace top suspect names the responsible agent or tool (for input and environment
  causes: names the side) (`top1`), the share whose predicted side is right (`side`), and the three
  baselines' agent accuracy on agent-side causes;
- `suspect_top1`: mean of per-cause `top1` over causes with at least `MIN_RUNS` single-cause failing runs;
- `distinct_documents`: how many different documents were embedded (a clustering of few documents
  cannot fail, so it says how much the figure means).

Targets (issue #11): with grades and without citations, ARI >= 0.75 and suspect top-1 >= 0.85; without
grades, ARI >= 0.5. The script prints what it reaches; it never adjusts the analysis to reach them.

Usage: python benchmarks/causes.py [--runs 1000] [--seed 7] [--work DIR] [--embedder minilm]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from truth import Truth, ground_truth, simulated_batch

RESULTS = Path(__file__).resolve().parent / "results"
MIN_RUNS = 10
MODES = {
    "grades_with_citations": {"use_grades": True, "use_citations": True},
    "grades_without_citations": {"use_grades": True, "use_citations": False},
    "no_grades": {"use_grades": False, "use_citations": False},
}
BASELINES = ("baseline_last_agent", "baseline_most_frequent_agent", "baseline_first_agent")


def _names(attribution: pd.DataFrame, run_id: str, component: str, side: str) -> bool:
    """Does the trace's top suspect name the cause? An agent or tool by name; the input or the environment
    by side (the analysis sees an environment event or the run's input, not which feed or field)."""
    if side in ("input", "environment"):
        return str(attribution.suspect_side[run_id]) == side
    return str(attribution.suspect_component[run_id]) == component


def score(result: object, truth: Truth) -> dict[str, object]:
    """The figures of one analysis against the truth (see the module docstring)."""
    assign = result.assignments.set_index("run_id")  # type: ignore[attr-defined]
    attribution = result.attribution.set_index("run_id")  # type: ignore[attr-defined]
    failing = truth.failing()
    predicted = [
        ("noise" if int(assign.pattern_id[r]) < 0 else f"P{int(assign.pattern_id[r])}")
        if r in assign.index
        else "not analyzed"
        for r in failing
    ]
    labels = [truth.runs[r].label for r in failing]
    ari = adjusted_rand_score(labels, predicted) if failing else float("nan")
    singles: dict[str, list[str]] = {}
    for run_id in failing:
        cause = truth.runs[run_id].single
        if cause is not None:
            singles.setdefault(str(cause["cause_id"]), []).append(run_id)
    per_cause = []
    for cause_id, runs in sorted(singles.items()):
        cause = truth.runs[runs[0]].single
        assert cause is not None
        analyzed = [r for r in runs if r in assign.index]
        patterns = Counter(int(assign.pattern_id[r]) for r in analyzed if int(assign.pattern_id[r]) >= 0)
        pid, held = patterns.most_common(1)[0] if patterns else (-1, 0)
        members = assign.index[assign.pattern_id == pid] if pid >= 0 else []
        purity = sum(1 for r in members if truth.runs[r].label == cause_id) / len(members) if len(members) else 0.0
        blamed = [r for r in analyzed if r in attribution.index]
        component, side = str(cause["component"]), str(cause["side"])
        top1 = sum(_names(attribution, r, component, side) for r in blamed) / len(runs)
        side_ok = sum(str(attribution.suspect_side[r]) == side for r in blamed) / len(runs)
        row: dict[str, object] = {
            "cause": cause_id,
            "origin": cause["origin"],
            "side": side,
            "component": component,
            "runs": len(runs),
            "recall": round(len(analyzed) / len(runs), 3),
            "pattern": f"P{pid}" if pid >= 0 else None,
            "pattern_share": round(held / len(runs), 3),
            "purity": round(purity, 3),
            "top1": round(top1, 3),
            "side_accuracy": round(side_ok, 3),
            "blamed": dict(Counter(str(attribution.suspect_component[r]) for r in blamed).most_common(3)),
        }
        if side == "agent":
            for base in BASELINES:
                row[base] = round(sum(str(attribution[base][r]) == component for r in blamed) / len(runs), 3)
        per_cause.append(row)
    scored = [c for c in per_cause if int(c["runs"]) >= MIN_RUNS]
    top1 = sum(float(c["top1"]) for c in scored) / len(scored) if scored else float("nan")
    sides = sum(float(c["side_accuracy"]) * int(c["runs"]) for c in per_cause) / max(
        sum(int(c["runs"]) for c in per_cause), 1
    )
    return {
        "ari": round(float(ari), 4),
        "suspect_top1": round(float(top1), 4),
        "side_accuracy": round(float(sides), 4),
        "causes_scored": len(scored),
        "failing_traces": len(failing),
        "analyzed": len(assign),
        "failing_analyzed": sum(1 for r in failing if r in assign.index),
        "distinct_documents": int(result.documents.document.nunique()),  # type: ignore[attr-defined]
        "patterns": int((result.patterns.pattern_id > 0).sum()),  # type: ignore[attr-defined]
        "per_cause": per_cause,
    }


def composition(truth: Truth) -> dict[str, object]:
    failing = truth.failing()
    organic_only = [r for r in failing if truth.runs[r].causes and
                    all(c["origin"] == "organic" for c in truth.runs[r].causes)]  # fmt: skip
    planted = [r for r in failing if any(c["origin"] == "planted" for c in truth.runs[r].causes)]
    baseline = [r for r in failing if truth.runs[r].version_set == "v1.0"]
    return {
        "runs": len(truth.runs),
        "failing": len(failing),
        "failing_with_no_planted_fault": len(failing) - len(planted),
        "share_failing_without_planted_fault": round((len(failing) - len(planted)) / max(len(failing), 1), 3),
        "failing_organic_only": len(organic_only),
        "failing_no_cause": sum(1 for r in failing if not truth.runs[r].causes),
        "failing_in_baseline_v1.0": len(baseline),
        "planted_in_baseline_v1.0": sum(
            1
            for t in truth.runs.values()
            if t.version_set == "v1.0" and any(c["origin"] == "planted" for c in t.causes)
        ),
        "caused_but_not_failing_rubric": sum(
            1 for t in truth.runs.values() if t.failing and t.causes and not t.failed_rubric
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evswarm-bench")
    parser.add_argument("--embedder", default="minilm")
    args = parser.parse_args()
    from evswarm.macro import AnalyzeConfig, analyze

    batch = args.work / f"batch-{args.runs}-s{args.seed}"
    sim_seconds, grade_seconds = simulated_batch(batch, args.runs, args.seed)
    started = time.perf_counter()
    truth = ground_truth(batch)
    truth_seconds = time.perf_counter() - started
    out: dict[str, object] = {
        "runs": args.runs,
        "seed": args.seed,
        "embedder": args.embedder,
        "composition": composition(truth),
        "seconds": {
            "simulate": round(sim_seconds, 1),
            "grade": round(grade_seconds, 1),
            "calm_twins": round(truth_seconds, 1),
        },
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
        "targets": {"grades_without_citations": {"ari": 0.75, "suspect_top1": 0.85}, "no_grades": {"ari": 0.5}},
    }
    for mode, switches in MODES.items():
        config = AnalyzeConfig(embedder=args.embedder, cache_root=args.work / "cache", progress=False, **switches)
        start = time.perf_counter()
        result = analyze(batch, args.work / f"analysis-{mode}", config=config)
        figures = score(result, truth)
        figures["analyze_seconds"] = round(time.perf_counter() - start, 1)
        out[mode] = figures
        print(f"\n== {mode}: ari={figures['ari']} suspect_top1={figures['suspect_top1']} "
              f"side_accuracy={figures['side_accuracy']} failing={figures['failing_traces']} "
              f"analyzed={figures['analyzed']} distinct_documents={figures['distinct_documents']}")  # fmt: skip
        table = pd.DataFrame(figures["per_cause"])  # type: ignore[arg-type]
        if not table.empty:
            cols = ["cause", "side", "runs", "recall", "pattern", "purity", "top1", "side_accuracy"]
            print(table[cols].to_string(index=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "causes.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    print("\ncomposition:", json.dumps(out["composition"]))


if __name__ == "__main__":
    main()
