"""Planted-fault recovery: simulate a seeded batch with faults, analyze it, score against the ground truth.

The pipeline never reads `injected_faults`; only this script does, to score it. Scores are over the
analyzed (failing) traces:
- ari: adjusted Rand index between discovered patterns (noise = its own label) and fault classes over
  the failing traces where exactly one planted fault fired (or none: class "no_fault"). Traces where
  two faults fired (possible within one version set, e.g. v1.1's stale_incentive + missed_stockout)
  have no single true class, so they are left out of this headline number and counted
  (`multi_fault_traces`). For transparency two more ARIs are reported over *all* failing traces:
  `ari_first_acting` (a multi-fault trace's class is the fault whose responsible agent acts first in the
  trace: the earliest cause) and `ari_combined` (class = the sorted fault ids joined with '+').
- suspect_top1: for each fault, the pattern holding most of its single-fault traces (all its traces if it
  never fires alone); correct when that pattern's top suspect that is a step (not a finding/review/status
  signal) belongs to the fault's responsible agent. `trace_share` adds, per fault, the share of its
  traces whose own top step suspect names that agent.

The batch is graded first (`evswarm grade`, offline rubrics) unless --no-grade: the grader's verdicts
are what makes silent faults (a wrong price on a completed run) visible as failures. A batch directory
that already holds a complete batch (e.g. copied in) is analyzed as is, not re-simulated.

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
    if (out / "run_summary.json").is_file():
        return 0.0
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


def ground_truth(batch: Path) -> tuple[dict[str, list[str]], dict[str, str], dict[str, str]]:
    """run_id -> faults that fired, fault_id -> responsible agent, run_id -> first-acting fault."""
    faults_of: dict[str, list[str]] = {}
    agents: dict[str, str] = {}
    first: dict[str, str] = {}
    for path in sorted((batch / "bundles").glob("run_*.json")):
        b = orjson.loads(path.read_bytes())
        faults = b.get("injected_faults") or []
        for f in faults:
            agents[f["fault_id"]] = f["agent_name"]
        rid = b["run"]["run_id"]
        faults_of[rid] = sorted({f["fault_id"] for f in faults})
        if len(faults_of[rid]) > 1:
            order = {f["fault_id"]: _first_span(b, f["agent_name"]) for f in faults}
            first[rid] = min(sorted(order), key=lambda fid: order[fid])
        else:
            first[rid] = faults_of[rid][0] if faults_of[rid] else "no_fault"
    return faults_of, agents, first


def _first_span(bundle: dict, agent: str) -> int:
    """Index of the first span of `agent` in the trace (the fault's agent acting)."""
    for i, span in enumerate(bundle.get("spans") or []):
        if span.get("agent_name") == agent:
            return i
    return 10**9


def score(result: object, faults_of: dict[str, list[str]], agents: dict[str, str], first: dict[str, str]) -> dict:
    a = result.assignments.assign(  # type: ignore[attr-defined]
        nfaults=lambda d: d.run_id.map(lambda r: len(faults_of.get(r, []))),
        combined=lambda d: d.run_id.map(lambda r: "+".join(faults_of.get(r, [])) or "no_fault"),
        first=lambda d: d.run_id.map(first),
    )
    single = a[a.nfaults <= 1]
    ari = adjusted_rand_score(single.combined, single.pattern_id) if len(single) else float("nan")
    ari_first = adjusted_rand_score(a["first"], a.pattern_id)
    ari_combined = adjusted_rand_score(a.combined, a.pattern_id)
    suspects = result.suspects  # type: ignore[attr-defined]
    steps = result.suspect_steps  # type: ignore[attr-defined]
    ops = suspects[~suspects.is_signal] if not suspects.empty else suspects
    per_fault = []
    for fault, agent in sorted(agents.items()):
        members = a[a.run_id.map(lambda r, f=fault: f in faults_of.get(r, []))]
        alone = members[members.nfaults == 1]
        basis = alone if len(alone) else members
        if members.empty:
            per_fault.append({"fault": fault, "agent": agent, "traces_analyzed": 0, "correct": False})
            continue
        pid = Counter(basis.pattern_id[basis.pattern_id > 0]).most_common(1)
        pid = pid[0][0] if pid else -1
        top = ops[ops.pattern_id == pid].head(1)
        top_agent = str(top.agent_name.iloc[0]) if not top.empty else None
        mine = (
            steps[
                (steps.pattern_id == pid)
                & steps.run_id.isin(set(members.run_id))
                & ~steps.node_kind.isin(["finding", "review", "status", "log"])
            ]
            if not steps.empty
            else steps
        )
        best = mine.sort_values("score", ascending=False).drop_duplicates("run_id") if len(mine) else mine
        share = float((best.agent_name == agent).mean()) if len(best) else 0.0
        per_fault.append(
            {
                "fault": fault,
                "agent": agent,
                "traces_analyzed": len(members),
                "single_fault_traces": len(alone),
                "pattern_id": int(pid),
                "pattern": str(result.patterns.set_index("pattern_id").label.get(pid, "")),  # type: ignore[attr-defined]
                "pattern_purity": float((basis.pattern_id == pid).mean()),
                "top_suspect_agent": top_agent,
                "correct": top_agent == agent,
                "trace_share": share,
            }
        )
    scored = [f for f in per_fault if f["traces_analyzed"]]
    top1 = sum(f["correct"] for f in scored) / len(scored) if scored else 0.0
    return {
        "ari": round(float(ari), 4),
        "ari_first_acting": round(float(ari_first), 4),
        "ari_combined": round(float(ari_combined), 4),
        "suspect_top1": round(top1, 4),
        "faults": per_fault,
        "analyzed": len(a),
        "faulty_analyzed": int((a.nfaults > 0).sum()),
        "single_fault_traces": int((a.nfaults == 1).sum()),
        "no_fault_traces": int((a.nfaults == 0).sum()),
        "multi_fault_traces": int((a.nfaults > 1).sum()),
        "crosstab": {
            str(k): {str(c): int(n) for c, n in v.items() if n}
            for k, v in pd.crosstab(a.combined, a.pattern_id).to_dict().items()
        },
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
    faults_of, agents, first = ground_truth(batch)
    out = score(result, faults_of, agents, first)
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
    print(
        f"analyzed={out['analyzed']} single_fault={out['single_fault_traces']} "
        f"multi_fault={out['multi_fault_traces']} (left out of ari) no_fault={out['no_fault_traces']} "
        f"ari_first_acting={out['ari_first_acting']} ari_combined={out['ari_combined']}"
    )
    print(f"ari={out['ari']} suspect_top1={out['suspect_top1']}")


if __name__ == "__main__":
    main()
