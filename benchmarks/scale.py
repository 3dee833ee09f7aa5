"""Benchmark scale (issue 16): where work runs and how analysis grows.

`simulate` half: simulate throughput (runs/s) of the same runs with the same seed on the local process
pool and on Ray (a local instance started by this script), both at `--workers` workers, alternating the
two `--rounds` times in ABBA order so that a load change on this shared machine hits both alike. Ray's start-up is timed
apart from its throughput (a batch on Ray pays it once per command). Every batch's files are checked
byte-identical to the first pool batch's. Target: Ray >= 0.9 x the pool's runs/s at 2 workers.

`analyze_growth` half: the growth of analyze time and peak memory with batch size (1k, 5k, 10k distinct runs
and the 100k compute-scale run), read from benchmarks/results/analyze.json, as exponents of a power law.

Figures are merged into benchmarks/results/scale.json under "simulate" and "analyze_growth" (other keys
are kept).

    python benchmarks/scale.py [--part simulate|analyze_growth|all] [--runs 300] [--seed 42] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from evswarm.compute import Backend, start_backend
from evswarm.core.layout import BatchLayout
from evswarm.simulator import simulate

RESULTS = Path(__file__).parent / "results" / "scale.json"
ANALYZE_RESULTS = Path(__file__).parent / "results" / "analyze.json"
TARGET_RATIO = 0.9
BATCH_FILES = ("results.jsonl", "run_summary.json", "trace_snapshot.sqlite")


def _digests(out: Path) -> dict[str, str]:
    """sha256 of every file the determinism tests compare: the bundles and the batch files."""
    layout = BatchLayout(out)
    paths = [*sorted(layout.bundle_paths()), *(out / name for name in BATCH_FILES)]
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _batch(kind: str, runs: int, seed: int, workers: int, root: Path, round_no: int) -> tuple[float, dict[str, str]]:
    out = root / f"{kind}-{round_no}"
    started = time.perf_counter()
    report = simulate(runs, seed, out, workers=workers, backend=kind, progress=False)
    wall = time.perf_counter() - started
    if report.ran != runs or report.runner_errors:
        raise SystemExit(f"{kind} round {round_no}: {report.ran} of {runs} runs ran, errors {report.runner_errors}")
    return wall, _digests(out)


def measure_simulate(runs: int, seed: int, workers: int, rounds: int) -> dict[str, Any]:
    """Pool and Ray throughput on the same runs, Ray's start-up apart, and whether the files agree."""
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory(prefix="evswarm-scale-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        start_backend(Backend("ray", workers=workers))
        ray_startup = time.perf_counter() - started
        reference: dict[str, str] | None = None
        identical = True
        for round_no in range(rounds):
            for kind in ("local", "ray") if round_no % 2 == 0 else ("ray", "local"):  # ABBA: a load trend hits both
                wall, digests = _batch(kind, runs, seed, workers, root, round_no)
                walls[kind].append(wall)
                reference = reference or digests
                identical = identical and digests == reference
                print(f"round {round_no + 1} {kind:5}: {runs} runs in {wall:.1f}s = {runs / wall:.2f} runs/s")
        distinct = len({digest for name, digest in (reference or {}).items() if name.startswith("bundles/")})
    rate = {kind: runs / statistics.fmean(w) for kind, w in walls.items()}
    ratio = rate["ray"] / rate["local"]
    return {
        "runs": runs,
        "distinct_bundles": distinct,
        "seed": seed,
        "workers": workers,
        "rounds": rounds,
        "local_wall_s": [round(w, 2) for w in walls["local"]],
        "ray_wall_s": [round(w, 2) for w in walls["ray"]],
        "local_runs_per_s": round(rate["local"], 3),
        "ray_runs_per_s": round(rate["ray"], 3),
        "ray_startup_s": round(ray_startup, 2),
        "ray_runs_per_s_with_startup": round(runs / (statistics.fmean(walls["ray"]) + ray_startup), 3),
        "ray_over_local": round(ratio, 3),
        "target_ray_over_local_min": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
        "byte_identical": identical,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _merge(key: str, figures: dict[str, Any]) -> None:
    """Write `figures` under `key` in RESULTS, keeping every other key already there."""
    current = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    current[key] = figures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")


def analyze_growth() -> dict[str, Any]:
    """How analyze time and memory grow with batch size, from benchmarks/results/analyze.json (run
    benchmarks/analyze.py first): the static embedder, cold, at 1k, 5k and 10k distinct runs and, when it
    finished, the 100k compute-scale run. The exponent is the least-squares slope of log(time) on log(traces)."""
    import numpy as np

    measured = json.loads(ANALYZE_RESULTS.read_text())
    points = [(int(size), runs["static_cold"]) for size, runs in measured.get("sizes", {}).items()]
    big = measured.get("100000_compute_scale", {})
    if "process_s" in big:
        points.append((100_000, big))
    points.sort(key=lambda p: p[0])
    if len(points) < 2:
        raise SystemExit("benchmarks/results/analyze.json has fewer than two sizes: run benchmarks/analyze.py first")
    sizes = np.array([p[0] for p in points], dtype=float)
    seconds = np.array([p[1]["process_s"] for p in points])
    rss = np.array([p[1]["peak_rss_mib"] for p in points])
    return {
        "points": [
            {"traces": size, **{k: run[k] for k in ("process_s", "peak_rss_mib", "analyzed", "distinct_documents")}}
            for size, run in points
        ],
        "time_exponent": round(float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]), 3),
        "memory_exponent": round(float(np.polyfit(np.log(sizes), np.log(rss), 1)[0]), 3),
        "source": "benchmarks/results/analyze.json (static embedder, cold caches, a fresh process per run)",
        "stopped_100k": big.get("stopped"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="pool/Ray alternations (each runs every run)")
    parser.add_argument(
        "--part", choices=("simulate", "analyze_growth", "all"), default="all", help="what to measure (default all)"
    )
    args = parser.parse_args()
    if args.part in ("analyze_growth", "all"):
        growth = analyze_growth()
        _merge("analyze_growth", growth)
        print(f"analyze growth: time ~ traces^{growth['time_exponent']}, peak RSS ~ traces^{growth['memory_exponent']} "
              f"over {[p['traces'] for p in growth['points']]}")  # fmt: skip
    if args.part == "analyze_growth":
        return
    figures = measure_simulate(args.runs, args.seed, args.workers, args.rounds)
    print(json.dumps(figures, indent=2))
    _merge("simulate", figures)
    print(
        f"simulate: pool {figures['local_runs_per_s']} runs/s, Ray {figures['ray_runs_per_s']} runs/s "
        f"(x{figures['ray_over_local']}, target >= {TARGET_RATIO}: {'met' if figures['target_met'] else 'MISSED'}), "
        f"Ray start-up {figures['ray_startup_s']} s, {figures['distinct_bundles']} distinct bundles, "
        f"byte-identical: {figures['byte_identical']}"
    )


if __name__ == "__main__":
    main()
