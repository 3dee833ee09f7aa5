"""Time `evswarm analyze` per stage: 1,000 traces cold (no embedding cache) and warm (MiniLM), and
10,000 traces with the fast static embedder; peak RSS of each run (a fresh process each time).

Targets: 1000 cold <= 60 s, 1000 warm <= 15 s, 10,000 fast <= 180 s, peak RSS <= 4 GiB.
Usage: python benchmarks/analyze.py [--work DIR] [--skip-10k]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted_faults import RESULTS, ROOT, machine, simulate

_CHILD = """
import json, resource, sys, time
from evswarm.macro import AnalyzeConfig, analyze
args = json.loads(sys.argv[1])
start = time.perf_counter()
cfg = AnalyzeConfig(embedder=args["embedder"], cache_root=args["cache"], progress=False)
r = analyze(args["batch"], args["out"], config=cfg)
wall = time.perf_counter() - start
print(json.dumps({"wall_seconds": round(wall, 2), "timings": r.timings, "traces": len(r.traces),
                  "analyzed": len(r.assignments), "patterns": int((r.patterns.pattern_id > 0).sum()),
                  "embedding_computed": r.extra["embedding_computed"],
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def analyze_in_child(batch: Path, out: Path, embedder: str, cache: Path) -> dict:
    """Run analyze in a fresh interpreter (cold imports and JIT, honest peak RSS)."""
    args = json.dumps({"batch": str(batch), "out": str(out), "embedder": embedder, "cache": str(cache)})
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, args], cwd=ROOT, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit("analyze failed")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - start, 2)
    return result


TARGETS = {"1000_cold": 60.0, "1000_warm": 15.0, "10000_fast": 180.0}
RSS_LIMIT_MIB = 4096.0


def replicate(src: Path, dst: Path, copies: int) -> None:
    """A larger batch made of copies of `src`'s bundles (and labels) under new run ids."""
    import orjson

    if (dst / "bundles").is_dir() and len(list((dst / "bundles").glob("run_*.json"))) >= copies * 1000:
        return
    (dst / "bundles").mkdir(parents=True, exist_ok=True)
    labels = {}
    if (src / "eval_labels.jsonl").is_file():
        labels = {
            orjson.loads(line)["run_id"]: orjson.loads(line)
            for line in (src / "eval_labels.jsonl").read_bytes().splitlines()
            if line.strip()
        }
    out_labels = []
    for path in sorted((src / "bundles").glob("run_*.json")):
        raw = path.read_bytes()
        run_id = orjson.loads(raw)["run"]["run_id"]
        for k in range(copies):
            new_id = f"{run_id[:-4]}{k:04d}"
            (dst / "bundles" / f"{new_id}.json").write_bytes(raw.replace(run_id.encode(), new_id.encode()))
            if run_id in labels:
                out_labels.append(orjson.dumps({**labels[run_id], "run_id": new_id}))
    if out_labels:
        (dst / "eval_labels.jsonl").write_bytes(b"\n".join(out_labels) + b"\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evswarm-bench")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-10k", action="store_true")
    ap.add_argument(
        "--replicate-10k",
        action="store_true",
        help="build the 10k batch from 10 copies of the 1k batch (new run ids) instead of simulating "
        "10,000 runs (~1 h on 2 cores); labels are copied along",
    )
    args = ap.parse_args()
    runs: dict[str, dict] = {}
    b1k = args.work / f"batch-1000-s{args.seed}"
    sim = {"1000": round(simulate(b1k, 1000, args.seed), 1)}
    cache = args.work / "cache-bench"
    shutil.rmtree(cache, ignore_errors=True)
    runs["1000_cold"] = analyze_in_child(b1k, args.work / "out-1000-cold", "minilm", cache)
    runs["1000_warm"] = analyze_in_child(b1k, args.work / "out-1000-warm", "minilm", cache)
    if not args.skip_10k:
        if args.replicate_10k:
            b10k = args.work / f"batch-10000-s{args.seed}-replicated"
            replicate(b1k, b10k, 10)
            sim["10000"] = "replicated from the 1000-run batch (10 copies, new run ids)"
        else:
            b10k = args.work / f"batch-10000-s{args.seed}"
            sim["10000"] = round(simulate(b10k, 10000, args.seed), 1)
        fast_cache = args.work / "cache-bench-fast"
        shutil.rmtree(fast_cache, ignore_errors=True)
        runs["10000_fast"] = analyze_in_child(b10k, args.work / "out-10000-fast", "static", fast_cache)
    verdict = {}
    for name, r in runs.items():
        verdict[name] = {
            "seconds": r["process_seconds"],
            "target": TARGETS[name],
            "ok": r["process_seconds"] <= TARGETS[name] and r["peak_rss_mib"] <= RSS_LIMIT_MIB,
        }
    out = {"runs": runs, "verdict": verdict, "simulate_seconds": sim, "machine": machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "analyze.json").write_text(json.dumps(out, indent=2) + "\n")
    for name, r in runs.items():
        stages = " ".join(f"{k}={v:.1f}" for k, v in r["timings"].items())
        print(
            f"{name:<11} {r['process_seconds']:>7.1f}s (target {TARGETS[name]:.0f}s) "
            f"rss={r['peak_rss_mib']:.0f}MiB "
            f"traces={r['traces']} analyzed={r['analyzed']} patterns={r['patterns']} | {stages}"
        )
    print(" ".join(f"{k}={v['seconds']}s{'' if v['ok'] else '(MISS)'}" for k, v in verdict.items()))


if __name__ == "__main__":
    main()
