"""Planted-fault recovery: simulate a seeded batch with faults, analyze it, score against the ground truth.

The pipeline never reads `injected_faults`; only this script does, to score it:
- ari: adjusted Rand index between discovered patterns (unclustered = its own label) and fault classes
  (the sorted fault ids that fired in a trace, or "no_fault") over the analyzed failing traces;
- suspect_top1: for each fault, the pattern holding most of its traces; correct when that pattern's top
  suspect that is a step (not a finding/review/status signal) belongs to the fault's responsible agent.
  `trace_share` adds, per fault, the share of its traces whose own top step suspect names that agent.

The batch is graded first (`evswarm grade`, offline rubrics) unless --no-grade: the grader's verdicts
are what makes silent faults (a wrong price on a completed run) visible as failures.

Usage: python benchmarks/planted_faults.py [--runs 1000] [--seed 7] [--work DIR] [--embedder minilm] [--no-grade]
Last line printed: `ari=<x> suspect_top1=<y>`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
import pandas as pd
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def simulate(out: Path, runs: int, seed: int, workers: int = 2) -> float:
    """Run `evswarm simulate` (resumable: a complete batch is left as is). Returns wall seconds."""
    start = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "evswarm",
        "simulate",
        "--runs",
        str(runs),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"simulate failed with exit code {proc.returncode}: {' '.join(cmd)}")
    return time.perf_counter() - start


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
    }


def grade(batch: Path) -> float:
    """Grade the batch with `evswarm grade` unless labels exist. Returns wall seconds."""
    if (batch / "eval_labels.jsonl").is_file():
        return 0.0
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "evswarm", "grade", str(batch)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"grade failed with exit code {proc.returncode}")
    return time.perf_counter() - start


def ground_truth(batch: Path) -> tuple[dict[str, str], dict[str, str]]:
    """run_id -> fault class, and fault_id -> responsible agent (read from the bundles)."""
    classes: dict[str, str] = {}
    agents: dict[str, str] = {}
    for path in sorted((batch / "bundles").glob("run_*.json")):
        b = orjson.loads(path.read_bytes())
        faults = b.get("injected_faults") or []
        for f in faults:
            agents[f["fault_id"]] = f["agent_name"]
        classes[b["run"]["run_id"]] = "+".join(sorted({f["fault_id"] for f in faults})) or "no_fault"
    return classes, agents


def score(result: object, classes: dict[str, str], agents: dict[str, str]) -> dict:
    a = result.assignments.assign(truth=lambda d: d.run_id.map(classes))  # type: ignore[attr-defined]
    ari = adjusted_rand_score(a.truth, a.pattern_id)
    faulty = a[a.truth != "no_fault"]
    ari_faulty = adjusted_rand_score(faulty.truth, faulty.pattern_id) if len(faulty) else float("nan")
    suspects = result.suspects  # type: ignore[attr-defined]
    steps = result.suspect_steps  # type: ignore[attr-defined]
    ops = suspects[~suspects.is_signal] if not suspects.empty else suspects
    per_fault = []
    for fault, agent in sorted(agents.items()):
        members = a[a.truth.str.split("+").map(lambda parts, f=fault: f in parts)]
        if members.empty:
            per_fault.append({"fault": fault, "agent": agent, "traces_analyzed": 0, "correct": False})
            continue
        pid = Counter(members.pattern_id[members.pattern_id > 0]).most_common(1)
        pid = pid[0][0] if pid else -1
        top = ops[ops.pattern_id == pid].head(1)
        top_agent = str(top.agent_name.iloc[0]) if not top.empty else None
        mine = steps[
            (steps.pattern_id == pid)
            & steps.run_id.isin(set(members.run_id))
            & ~steps.node_kind.isin(["finding", "review", "status", "log"])
        ]
        best = mine.sort_values("score", ascending=False).drop_duplicates("run_id")
        share = float((best.agent_name == agent).mean()) if len(best) else 0.0
        per_fault.append(
            {
                "fault": fault,
                "agent": agent,
                "traces_analyzed": len(members),
                "pattern_id": int(pid),
                "pattern": str(result.patterns.set_index("pattern_id").label.get(pid, "")),  # type: ignore[attr-defined]
                "pattern_purity": float((members.pattern_id == pid).mean()),
                "top_suspect_agent": top_agent,
                "correct": top_agent == agent,
                "trace_share": share,
            }
        )
    scored = [f for f in per_fault if f["traces_analyzed"]]
    top1 = sum(f["correct"] for f in scored) / len(scored) if scored else 0.0
    return {
        "ari": round(float(ari), 4),
        "ari_faulty_only": round(float(ari_faulty), 4),
        "suspect_top1": round(top1, 4),
        "faults": per_fault,
        "analyzed": len(a),
        "faulty_analyzed": len(faulty),
        "crosstab": pd.crosstab(a.truth, a.pattern_id).to_dict(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evswarm-bench")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument(
        "--no-grade",
        dest="grade",
        action="store_false",
        help="analyze without grading labels (patterns then come from outcomes and findings only)",
    )
    args = ap.parse_args()
    batch = args.work / f"batch-{args.runs}-s{args.seed}"
    sim_seconds = simulate(batch, args.runs, args.seed)
    grade_seconds = grade(batch) if args.grade else 0.0
    from evswarm.macro import AnalyzeConfig, analyze

    result = analyze(
        batch,
        args.work / f"analysis-{args.runs}-s{args.seed}",
        config=AnalyzeConfig(embedder=args.embedder, cache_root=args.work / "cache", progress=False),
    )
    classes, agents = ground_truth(batch)
    out = score(result, classes, agents)
    out.update(
        {
            "runs": args.runs,
            "seed": args.seed,
            "embedder": args.embedder,
            "simulate_seconds": round(sim_seconds, 1),
            "grade_seconds": round(grade_seconds, 1),
            "graded": bool(args.grade),
            "analyze_timings": result.timings,
            "patterns": result.patterns[["pattern_id", "label", "trace_count", "owner", "top_suspect"]].to_dict(
                "records"
            ),
            "machine": machine(),
        }
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "planted_faults.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    for f in out["faults"]:
        print(
            f"{f['fault']:<26} agent={f['agent']:<24} traces={f['traces_analyzed']:<4} "
            f"pattern=P{f.get('pattern_id', '-')} top={f.get('top_suspect_agent')} "
            f"{'OK' if f['correct'] else 'MISS'} share={f.get('trace_share', 0):.2f}"
        )
    print(f"ari_faulty_only={out['ari_faulty_only']} analyzed={out['analyzed']} faulty={out['faulty_analyzed']}")
    print(f"ari={out['ari']} suspect_top1={out['suspect_top1']}")


if __name__ == "__main__":
    main()
