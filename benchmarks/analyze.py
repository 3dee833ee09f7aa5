"""Time `evswarm analyze` per stage, with peak RSS, on a real 10,000-run batch and its first 1,000 and
5,000 runs; side by side, load + normalize as it was before the parallel loader against today's; and a
100,000-trace compute-scale run.

The 10k batch is simulated once (about an hour on 2 cores) and graded, then cached under
.cache/bench/batch-10000-s<seed>/ (re-running resumes it). Every figure is printed with the distinct
documents the run embedded, so nobody mistakes a cache hit or de-duplication for speed.

- sizes: 1k, 5k, 10k (each a prefix of the 10k batch by run index: distinct runs, no copies), each with the
  default embedder (MiniLM) and the static one, cold (empty caches) then warm (the caches it filled).
- load + normalize side by side on the 10k bundles, in fresh processes: the code of commit BASELINE
  (serial, pydantic per bundle) against today's loader with 1 worker and with 2.
- 100k: the 10k batch replicated ten times under new run ids, every cache and the document de-duplication
  switched off, static embedder: it measures time and memory, not pattern quality (the copies add no new
  behaviour). A watchdog stops it past --rss-limit-gib and reports that.

Usage: python benchmarks/analyze.py [--seed 7] [--skip-100k] [--only SIZE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from truth import ROOT, simulated_batch

RESULTS = ROOT / "benchmarks" / "results" / "analyze.json"
BASELINE = "93d0a3a"
"""The last commit whose load + normalize was serial (today's loader came after it)."""

_ANALYZE = """
import json, resource, sys, time
from evswarm.macro import AnalyzeConfig, analyze
a = json.loads(sys.argv[1])
start = time.perf_counter()
cfg = AnalyzeConfig(embedder=a["embedder"], cache_root=a["cache"], use_cache=a["use_cache"],
                    deduplicate=a["deduplicate"], workers=a["workers"], progress=False)
r = analyze(a["batch"], a["out"], config=cfg)
print(json.dumps({"wall_s": round(time.perf_counter() - start, 2), "timings": r.timings, "traces": len(r.traces),
                  "events": len(r.events), "analyzed": len(r.assignments),
                  "patterns": int((r.patterns.pattern_id > 0).sum()),
                  "distinct_documents": r.extra["distinct_documents"],
                  "embedded_documents": r.extra["embedding_computed"],
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""

_LOAD_NOW = """
import json, resource, sys, time
from evswarm.compute import Backend
from evswarm.macro.load import locate
from evswarm.macro.tables import load_tables
a = json.loads(sys.argv[1])
start = time.perf_counter()
skipped = []
t = load_tables(locate(a["batch"]), skipped, backend=Backend(workers=a["workers"]))
print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "traces": len(t.traces), "events": len(t.events),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""

_LOAD_BEFORE = """
import json, resource, sys, time
from evswarm.macro.load import locate
from evswarm.macro.normalize import normalize
a = json.loads(sys.argv[1])
start = time.perf_counter()
source = locate(a["batch"])
skipped = []
t = normalize(source.iter_bundles(skipped), source.run_rows)
print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "traces": len(t.traces), "events": len(t.events),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def child(code: str, args: dict, *, pythonpath: Path = ROOT, rss_limit_mib: float | None = None) -> dict:
    """Run `code` in a fresh interpreter (cold imports, honest peak RSS); its last stdout line is JSON.
    With `rss_limit_mib`, a watchdog kills it when its resident memory passes the limit."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(pythonpath))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(args)], cwd=pythonpath, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    killed: list[float] = []
    if rss_limit_mib is not None:

        def watch() -> None:
            status = Path(f"/proc/{proc.pid}/status")
            while proc.poll() is None:
                try:
                    rss = next(int(line.split()[1]) for line in status.read_text().splitlines()
                               if line.startswith("VmRSS:")) / 1024  # fmt: skip
                except (OSError, StopIteration):
                    return
                if rss > rss_limit_mib:
                    killed.append(rss)
                    proc.kill()
                    return
                threading.Event().wait(0.5)

        threading.Thread(target=watch, daemon=True).start()
    out, err = proc.communicate()
    seconds = round(time.perf_counter() - start, 2)
    if killed:
        return {"stopped": f"resident memory passed {rss_limit_mib:.0f} MiB after {seconds} s", "seconds": seconds}
    if proc.returncode != 0:
        sys.stderr.write(err[-4000:])
        raise SystemExit(f"child failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["process_s"] = seconds
    return result


def prefix_batch(src: Path, dst: Path, runs: int) -> Path:
    """The first `runs` runs of `src` (by run index) as a batch of their own: bundles linked, tables cut."""
    if (dst / "run_summary.json").is_file():
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    (dst / "bundles").mkdir(parents=True)
    rows = [orjson.loads(line) for line in (src / "results.jsonl").read_bytes().splitlines() if line.strip()]
    rows.sort(key=lambda r: r["batch_index"])
    keep = rows[:runs]
    ids = {r["run_id"] for r in keep}
    for r in keep:
        os.link(src / "bundles" / f"{r['run_id']}.json", dst / "bundles" / f"{r['run_id']}.json")
    (dst / "results.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in keep))
    labels = [line for line in (src / "eval_labels.jsonl").read_bytes().splitlines() if line.strip()]
    kept = [row + b"\n" for row in labels if orjson.loads(row)["run_id"] in ids]
    (dst / "eval_labels.jsonl").write_bytes(b"".join(kept))
    (dst / "run_summary.json").write_text(json.dumps({"runs": runs, "prefix_of": str(src)}))
    return dst


def replicate(src: Path, dst: Path, copies: int) -> Path:
    """`copies` copies of every bundle and label of `src` under new run ids (compute scale only)."""
    marker = dst / "run_summary.json"
    if marker.is_file():
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    (dst / "bundles").mkdir(parents=True)
    labels = {}
    for line in (src / "eval_labels.jsonl").read_bytes().splitlines():
        if line.strip():
            row = orjson.loads(line)
            labels[row["run_id"]] = row
    out_labels = []
    for path in sorted((src / "bundles").glob("run_*.json")):
        raw = path.read_bytes()
        run_id = path.stem
        for k in range(copies):
            new_id = f"{run_id[:-3]}{k:03d}" if k else run_id
            (dst / "bundles" / f"{new_id}.json").write_bytes(raw.replace(run_id.encode(), new_id.encode()))
            if run_id in labels:
                out_labels.append(orjson.dumps({**labels[run_id], "run_id": new_id}))
    (dst / "eval_labels.jsonl").write_bytes(b"\n".join(out_labels) + b"\n")
    marker.write_text(json.dumps({"replicated_from": str(src), "copies": copies}))
    return dst


def baseline_tree(work: Path) -> Path:
    """The package as it was at BASELINE, exported once (no checkout of the working tree is touched)."""
    tree = work / f"evswarm-{BASELINE}"
    if not (tree / "evswarm").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", BASELINE, "evswarm"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def show(name: str, r: dict) -> None:
    if "stopped" in r:
        print(f"{name:<22} STOPPED: {r['stopped']}")
        return
    stages = " ".join(f"{k}={v:.1f}" for k, v in r["timings"].items())
    print(f"{name:<22} {r['process_s']:>7.1f}s rss={r['peak_rss_mib']:>6.0f}MiB traces={r['traces']} "
          f"analyzed={r['analyzed']} distinct_docs={r['distinct_documents']} embedded={r['embedded_documents']} "
          f"patterns={r['patterns']} | {stages}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench")
    ap.add_argument("--skip-100k", action="store_true")
    ap.add_argument("--only", nargs="*", help="parts to run: 1000 5000 10000 load 100000 (default: all)")
    ap.add_argument("--rss-limit-gib", type=float, default=12.0, help="stop the 100k run past this (default 12)")
    args = ap.parse_args()
    parts = set(args.only or ["1000", "5000", "10000", "load", "100000"])
    if args.skip_100k:
        parts.discard("100000")
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if results.get("seed") != args.seed or "sizes" not in results:
        results = {"seed": args.seed, "sizes": {}}
    big = args.work / f"batch-10000-s{args.seed}"
    sim_s, grade_s = simulated_batch(big, 10_000, args.seed)
    if sim_s or grade_s:
        results["simulate_and_grade_s"] = {"simulate": round(sim_s, 1), "grade": round(grade_s, 1)}
    for size in (1000, 5000, 10000):
        if str(size) not in parts:
            continue
        batch = big if size == 10000 else prefix_batch(big, args.work / f"prefix-{size}-s{args.seed}", size)
        runs = {}
        for embedder in ("minilm", "static"):
            with tempfile.TemporaryDirectory(prefix="evswarm-bench-cache-") as cache:
                for state in ("cold", "warm"):
                    name = f"{size}_{embedder}_{state}"
                    spec = {"batch": str(batch), "out": str(args.work / "out" / name), "embedder": embedder,
                            "cache": cache, "use_cache": True, "deduplicate": True, "workers": None}  # fmt: skip
                    runs[f"{embedder}_{state}"] = r = child(_ANALYZE, spec)
                    show(name, r)
        results["sizes"][str(size)] = runs
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    if "load" in parts:
        spec = {"batch": str(big), "workers": 1}
        before = child(_LOAD_BEFORE, spec, pythonpath=baseline_tree(args.work))
        now_1 = child(_LOAD_NOW, spec)
        now_2 = child(_LOAD_NOW, {**spec, "workers": 2})
        results["load_normalize_10k"] = {
            "bundles": before["traces"],
            "events": before["events"],
            f"before_{BASELINE}_s": before["seconds"],
            "now_1_worker_s": now_1["seconds"],
            "now_2_workers_s": now_2["seconds"],
            "speedup_1_worker": round(before["seconds"] / now_1["seconds"], 2),
            "speedup_2_workers": round(before["seconds"] / now_2["seconds"], 2),
            "target_speedup": 4.0,
            "peak_rss_mib": {"before": before["peak_rss_mib"], "now_2_workers": now_2["peak_rss_mib"]},
            "same_rows": before["traces"] == now_2["traces"] and before["events"] == now_2["events"],
        }
        print("load + normalize 10k:", json.dumps(results["load_normalize_10k"]))
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    if "100000" in parts:
        batch = replicate(big, args.work / f"replicated-100000-s{args.seed}", 10)
        with tempfile.TemporaryDirectory(prefix="evswarm-bench-cache-") as cache:
            spec = {"batch": str(batch), "out": str(args.work / "out" / "100000_static"), "embedder": "static",
                    "cache": cache, "use_cache": False, "deduplicate": False, "workers": None}  # fmt: skip
            r = child(_ANALYZE, spec, rss_limit_mib=args.rss_limit_gib * 1024)
        show("100000_static_full", r)
        results["100000_compute_scale"] = {
            **r,
            "what_it_measures": "time and memory only: the real 10k batch replicated ten times under new run ids, "
            "with every cache and the document de-duplication off, so every stage does the work of 100k traces; "
            "the copies add no behaviour, so its patterns say nothing about quality",
            "targets": {"seconds": 900, "peak_rss_mib": 8192},
        }
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    results["machine"] = {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
