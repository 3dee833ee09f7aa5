"""Pattern lineage across batches: do patterns keep their identity, and is a new version's pattern new?

Three batches of `--runs` runs each, simulated once, graded and cached under `--work`:

- `first`: the version sets `--versions` (default v1.0 v1.1 v1.3 v1.4), seed `--seed`;
- `second`: the same version sets, seed `--seed + 1` (the same mix, other orders);
- `added`: the same version sets plus `--added` (default v1.2), seed `--seed + 1`.

`first` is analyzed alone (a chain's first step), then `second` and `added` each with `--previous` pointing at
it. Figures:

- matched share: of the first analysis's patterns, the share that continue in the second (same id), and the
  share with any counterpart (continuing, or split or merged into a second-batch pattern). Target: the
  continuing share >= 0.9.
- added version: the patterns of the `added` analysis whose traces are mostly runs in which the added version
  set's planted faults acted (ground truth, `injected_faults`, read here only), and their statuses. Target:
  each is reported `new` (not continuing an earlier pattern).
- stable patterns: the continuing share among the first analysis's patterns whose bootstrap stability is at
  least 0.75 (a pattern the clustering itself does not reproduce cannot be expected to come back);
- sensitivity: the same figures with fit radii reaching the whole median gap between centres instead of half
  of it (reported beside, never the default);
- carry threshold: the same figures when an earlier pattern needs the whole minimum cluster size of fitting
  traces to continue (`assignment.CARRY_FLOOR` 1: no binomial test; the rule before the test was added),
  reported beside the default (half of it, with the test);
- gone patterns, explained with ground truth: each gone first pattern's dominant set of planted faults that
  acted (read here only), how many first patterns share that set (sub-patterns of one cause), and how many of
  the second batch's runs carry it;
- granularity: the same with `--min-cluster-size 20` (coarser patterns), to show how much the default's fine
  patterns (8 traces and up at this size) limit the matching;
- stability cost: the stability stage without any cache against one uncached reduce + cluster of the same
  traces, measured in the same run;
- stability: the adjusted Rand index of each analysis's bootstrap resamples, and the per-pattern figures.
- assignment: how many of the second analysis's traces were assigned to earlier patterns' centres (the
  continuing patterns, carried over by assignment first) and how many are in patterns the clustering found;
- time: each analysis's stage timings (the `stability` stage is the cost of measuring stability; `assign to
  earlier patterns` is the assignment, `label + rank` names the patterns and writes the chain), beside the
  distinct documents it embedded.

    .venv/bin/python benchmarks/lineage.py [--runs 600] [--seed 61] [--workers 2] [--work .cache/bench/lineage]
        [--embedder minilm] [--stability-runs 3] [--default-only] [--results FILE]

Writes benchmarks/results/lineage.json and prints the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evswarm.core.analysis import PatternRow, TracePatternRow, read_table  # noqa: E402
from evswarm.core.io import atomic_write_bytes  # noqa: E402
from evswarm.core.lineage import read_lineage  # noqa: E402
from evswarm.evals.pipeline import grade  # noqa: E402
from evswarm.macro import AnalyzeConfig, analyze, assignment, centroids  # noqa: E402
from evswarm.simulator import simulate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "lineage.json"
QUIET = Console(quiet=True)
OWNED = 0.5
"""A pattern belongs to the added version set when at least this share of its traces carry its faults."""


def _batch(work: Path, name: str, runs: int, seed: int, version_sets: list[str], workers: int) -> Path:
    out = work / name
    if not (out / "eval_labels.jsonl").is_file():
        print(f"simulating {name}: {runs} runs, seed {seed}, {' '.join(version_sets)}", flush=True)
        simulate(runs, seed, out, version_sets=version_sets, workers=workers, progress=False)
        grade(out, progress=False, console=QUIET)
    return out


def _planted(batch: Path) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Run id -> the planted faults that acted in it, and run id -> its version set (ground truth: read by
    benchmarks only)."""
    bundles = batch / "bundles"
    raws: list[bytes]
    if bundles.is_dir():
        raws = [p.read_bytes() for p in sorted(bundles.glob("*.json"))]
    else:
        with zipfile.ZipFile(batch / "bundles.zip") as z:
            raws = [z.read(n) for n in sorted(z.namelist()) if n.endswith(".json")]
    acted: dict[str, set[str]] = {}
    version: dict[str, str] = {}
    for raw in raws:
        data = orjson.loads(raw)
        run_id = data["run"]["run_id"]
        acted[run_id] = {str(f["cause_id"]) for f in data["injected_faults"] if f.get("origin") == "planted"}
        version[run_id] = str(data["run"]["summary"]["agent_version_set"])
    return acted, version


DOCUMENTS: dict[str, list[str]] = {}
"""Output directory -> the documents its analysis clustered (for the stability-cost measurement)."""


def _analyze(batch: Path, out: Path, cfg: AnalyzeConfig, previous: Path | None) -> dict[str, Any]:
    result = analyze(batch, out, config=cfg.model_copy(update={"previous": previous}))
    DOCUMENTS[str(out)] = result.documents.document.tolist()
    return {
        "out": str(out),
        "patterns": int((result.patterns.pattern_id > 0).sum()),
        "analyzed": len(result.assignments),
        "in_no_pattern": int((result.assignments.pattern_id < 0).sum()),
        "clustering_noise": result.extra.get("clustering_noise"),
        "distinct_documents": result.extra["distinct_documents"],
        "timings_seconds": result.timings,
        "stability_ari": result.extra["stability_ari"],
        "stability_mean_ari": result.extra["stability_mean_ari"],
        "pattern_stability": {
            f"P{int(p.pattern_id)}": p.stability for p in result.patterns.itertuples() if p.pattern_id > 0
        },
    }


def _stability_cost(first_out: Path, documents: list[str], cfg: AnalyzeConfig, runs: int) -> dict[str, Any]:
    """The stability stage without any cache, against one uncached reduce + cluster of the same traces (the
    baseline, measured in the same process right before it, after a warm-up fit that compiles numba's JIT)."""
    from evswarm.macro.cluster import cluster
    from evswarm.macro.embed import EmbeddingCache, embed
    from evswarm.macro.reduce import reduce
    from evswarm.macro.stability import StabilitySettings, measure

    manifest = json.loads((first_out / "analysis.json").read_text())
    vectors = embed(documents, cfg.embedder, EmbeddingCache(cfg.resolved_cache() / "embeddings.sqlite")).vectors
    mcs, ms = int(manifest["min_cluster_size"]), int(manifest["min_samples"])
    reduce(vectors, cfg.cluster_dims, cfg.reducer, cfg.n_neighbors, cfg.random_state, None)  # compiles numba's JIT
    started = time.perf_counter()
    reduced = reduce(vectors, cfg.cluster_dims, cfg.reducer, cfg.n_neighbors, cfg.random_state, None)
    labels = cluster(reduced, mcs, ms, cfg.cluster_selection).labels
    one = time.perf_counter() - started
    settings = StabilitySettings(
        cfg.cluster_dims, cfg.reducer, cfg.n_neighbors, cfg.random_state, None, mcs, ms, cfg.cluster_selection
    )
    started = time.perf_counter()
    measure(vectors, labels, runs, settings)
    took = time.perf_counter() - started
    return {
        "runs": runs,
        "traces": len(documents),
        "distinct_documents": len(set(documents)),
        "one_fit_seconds": round(one, 2),
        "stability_seconds": round(took, 2),
        "ratio": round(took / one, 2) if one else None,
    }


def _matched(first: Path, second: Path) -> dict[str, Any]:
    chain = read_lineage(second)
    step = chain.step
    firsts = [p for p in chain.patterns if p.history[0].step == step - 1]
    status_of = {p.pattern_id: next(s.status for s in p.history if s.step == step) for p in firsts}
    statuses = Counter(status_of.values())
    continuing = statuses["continuing"]
    counterpart = continuing + statuses["split"] + statuses["merged"]
    n = len(firsts)
    present = [p for p in chain.patterns if p.latest.step == step and p.latest.trace_count > 0]
    now = Counter(p.latest.status for p in present)
    stable = [p.pattern_id for p in read_table(first, PatternRow) if p.pattern_id > 0 and (p.stability or 0) >= 0.75]
    stable_continuing = sum(1 for pid in stable if status_of.get(pid) == "continuing")
    return {
        "first_patterns": n,
        "continuing": continuing,
        "continuing_share": round(continuing / n, 3) if n else None,
        "with_counterpart_share": round(counterpart / n, 3) if n else None,
        "first_statuses": dict(statuses),
        "second_statuses": dict(now),
        "fitted": f"{chain.steps[-1].fitted} of {chain.steps[-1].analyzed}",
        "assigned": chain.steps[-1].assigned,
        "clustered": chain.steps[-1].clustered,
        "carried_by_assignment": sum(1 for p in present if p.latest.basis == "assignment"),
        "stable_first_patterns": len(stable),
        "stable_continuing_share": round(stable_continuing / len(stable), 3) if stable else None,
        "gone_first_patterns": {
            f"P{p.pattern_id}": {"prevalence_then": round(p.history[0].prevalence, 4), "fitted_now": p.latest.fitted}
            for p in firsts
            if status_of[p.pattern_id] == "gone"
        },
    }


def _chain(batches: dict[str, Path], out: Path, cfg: AnalyzeConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Analyze first, then second and added each continuing first; the figures of both comparisons."""
    runs = {
        "first": _analyze(batches["first"], out / "first", cfg, None),
        "second": _analyze(batches["second"], out / "second", cfg, out / "first"),
        "added": _analyze(batches["added"], out / "added", cfg, out / "first"),
    }
    return runs, _matched(out / "first", out / "second")


def _gone_explained(batches: dict[str, Path], out: Path, matched: dict[str, Any]) -> dict[str, Any]:
    """Ground truth (read here only) beside each gone first pattern: its members' dominant set of planted faults
    that acted, how many first patterns share it, and how many second-batch runs carry it."""
    first, _ = _planted(batches["first"])
    second, _ = _planted(batches["second"])
    members: dict[int, list[str]] = {}
    for row in read_table(out / "first", TracePatternRow):
        if row.pattern_id > 0:
            members.setdefault(row.pattern_id, []).append(row.run_id)
    dominant = {
        pid: Counter(tuple(sorted(first.get(r, set()))) for r in runs).most_common(1)[0]
        for pid, runs in members.items()
    }
    explained = {}
    for name in matched["gone_first_patterns"]:
        pid = int(name[1:])
        faults, count = dominant[pid]
        explained[name] = {
            "faults": list(faults) or ["none planted (organic)"],
            "share_of_its_traces": round(count / len(members[pid]), 3),
            "first_patterns_with_these_faults": sum(1 for f, _ in dominant.values() if f == faults),
            "second_runs_with_these_faults": sum(1 for f in second.values() if tuple(sorted(f)) == faults),
        }
    return explained


def _added_version(batch: Path, out: Path, version_set: str) -> dict[str, Any]:
    acted, version = _planted(batch)
    faults = {f for run_id, found in acted.items() if version[run_id] == version_set for f in found}
    members: dict[int, list[str]] = {}
    for row in read_table(out, TracePatternRow):
        members.setdefault(row.pattern_id, []).append(row.run_id)
    rows = {p.pattern_id: p for p in read_table(out, PatternRow)}
    owned = []
    for pid, runs in sorted(members.items()):
        if pid < 0:
            continue
        share = sum(1 for r in runs if acted.get(r, set()) & faults) / len(runs)
        if share >= OWNED:
            p = rows[pid]
            found = {"pattern": f"P{pid}", "label": p.label, "status": p.status, "traces": len(runs)}
            owned.append({**found, "share": round(share, 3)})
    carrying = sum(1 for f in acted.values() if f & faults)
    return {
        "version_set": version_set,
        "faults": sorted(faults),
        "runs_where_they_acted": carrying,
        "its_patterns": owned,
        "reported_new": bool(owned) and all(o["status"] == "new" for o in owned),
    }


def _variant(matched: dict[str, Any], version: dict[str, Any], **head: Any) -> dict[str, Any]:
    """The figures of one variant of the chain (a setting changed, reported beside the default)."""
    return {
        **head,
        "continuing_share": matched["continuing_share"],
        "with_counterpart_share": matched["with_counterpart_share"],
        "first_statuses": matched["first_statuses"],
        "added_version_patterns": version["its_patterns"],
        "added_reported_new": version["reported_new"],
    }


@contextmanager
def _setting(module: Any, name: str, value: float) -> Iterator[None]:
    """A module constant set to `value` for a sensitivity run (reported beside, never the default)."""
    default = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, default)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=600)
    ap.add_argument("--seed", type=int, default=61)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench" / "lineage")
    ap.add_argument("--versions", nargs="+", default=["v1.0", "v1.1", "v1.3", "v1.4"])
    ap.add_argument("--added", default="v1.2")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--stability-runs", type=int, default=3)
    ap.add_argument(
        "--default-only", action="store_true", help="only the default settings: no sensitivity, carry, granularity"
    )
    ap.add_argument("--results", type=Path, default=RESULTS, help=f"where to write the figures (default {RESULTS})")
    args = ap.parse_args()
    if args.default_only and args.results == RESULTS:
        ap.error(f"--default-only writes fewer figures: give --results another file than {RESULTS}")
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    first = _batch(work, "first", args.runs, args.seed, args.versions, args.workers)
    second = _batch(work, "second", args.runs, args.seed + 1, args.versions, args.workers)
    added = _batch(work, "added", args.runs, args.seed + 1, [*args.versions, args.added], args.workers)
    cfg = AnalyzeConfig(
        embedder=args.embedder, progress=False, stability_runs=args.stability_runs, cache_root=work / "cache"
    )
    out = work / "analysis"
    batches = {"first": first, "second": second, "added": added}
    runs, matched = _chain(batches, out, cfg)
    new_version = _added_version(added, out / "added", args.added)
    sensitivity: dict[str, Any] = {"skipped": "--default-only"}
    carry: dict[str, Any] = {"skipped": "--default-only"}
    granularity: dict[str, Any] = {"skipped": "--default-only"}
    cost: dict[str, Any] = {"skipped": "--default-only"}
    if not args.default_only:
        # sensitivity of the fit rule (reported beside, never the default): radii reaching the whole median gap
        # between centres instead of half of it
        with _setting(centroids, "GAP_SHARE", 1.0):
            wide_runs, wide_matched = _chain(batches, work / "analysis-wide", cfg)
            wide_version = _added_version(added, work / "analysis-wide" / "added", args.added)
        with _setting(assignment, "CARRY_FLOOR", 1.0):
            _, full_matched = _chain(batches, work / "analysis-carry-full", cfg)
            full_version = _added_version(added, work / "analysis-carry-full" / "added", args.added)
        carry = _variant(
            full_matched,
            full_version,
            carry_floor=1.0,
            assigned=full_matched["assigned"],
            clustered=full_matched["clustered"],
        )
        coarse = cfg.model_copy(update={"min_cluster_size": 20})
        coarse_runs, coarse_matched = _chain(batches, work / "analysis-coarse", coarse)
        coarse_version = _added_version(added, work / "analysis-coarse" / "added", args.added)
        granularity = {
            **_variant(
                coarse_matched, coarse_version, min_cluster_size=20, first_patterns=coarse_matched["first_patterns"]
            ),
            "stability_mean_ari": {k: v["stability_mean_ari"] for k, v in coarse_runs.items()},
        }
        cost = _stability_cost(out / "first", DOCUMENTS[str(out / "first")], cfg, args.stability_runs)
        sensitivity = {
            **_variant(wide_matched, wide_version, gap_share=1.0),
            "fitted": wide_matched["fitted"],
            "label_rank_seconds": wide_runs["second"]["timings_seconds"].get("label + rank"),
        }
    results = {
        "what": "pattern lineage between two batches of the same version mix, and with one version set added",
        "runs_per_batch": args.runs,
        "seeds": {"first": args.seed, "second": args.seed + 1, "added": args.seed + 1},
        "version_sets": args.versions,
        "added_version_set": args.added,
        "embedder": args.embedder,
        "matched": matched,
        "target_continuing_share": 0.9,
        "continuing_target_met": (matched["continuing_share"] or 0) >= 0.9,
        "added_version": new_version,
        "fit_rule": "nearest earlier centre, within max(own 95% spread, GAP_SHARE x median gap between centres)",
        "matching": "assignment first: an earlier pattern that at least min_cluster_size traces fit, or at least "
        "CARRY_FLOOR of that many when the count is not significantly below its earlier share (binomial, "
        "GONE_ALPHA), is carried over with those traces (continuing), unless the clustering of all traces splits "
        "or merges it; the clustering finds new patterns among the traces left over (evswarm/macro/assignment.py)",
        "gap_share": centroids.GAP_SHARE,
        "carry_floor": assignment.CARRY_FLOOR,
        "gone_alpha": assignment.GONE_ALPHA,
        "gone_explained": _gone_explained(batches, out, matched),
        "sensitivity": sensitivity,
        "carry_threshold": carry,
        "granularity": granularity,
        "stability_cost": cost,
        "analyses": runs,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.results, json.dumps(results, indent=2).encode() + b"\n")
    print(f"first analysis: {runs['first']['patterns']} patterns from {runs['first']['analyzed']} traces "
          f"({runs['first']['distinct_documents']} distinct documents)")  # fmt: skip
    print(f"second (same mix, other seed): {matched['continuing']} of {matched['first_patterns']} first patterns "
          f"continue (share {matched['continuing_share']}, target >= 0.9); with any counterpart "
          f"{matched['with_counterpart_share']}; statuses {matched['first_statuses']}; "
          f"fitted {matched['fitted']}; {matched['assigned']} traces assigned to "
          f"{matched['carried_by_assignment']} patterns carried over, {matched['clustered']} in patterns the "
          "clustering found")  # fmt: skip
    print(f"stable first patterns (stability >= 0.75): {matched['stable_first_patterns']}, of which continue "
          f"{matched['stable_continuing_share']}")  # fmt: skip
    print(f"added {args.added}: its patterns {new_version['its_patterns']} -> reported new: "
          f"{new_version['reported_new']}")  # fmt: skip
    for name, why in results["gone_explained"].items():
        print(f"gone {name}: {why}")
    if not args.default_only:
        print(f"sensitivity (radius up to the whole median gap): continuing {sensitivity['continuing_share']}, "
              f"with counterpart {sensitivity['with_counterpart_share']}; added version's patterns "
              f"{sensitivity['added_version_patterns']} -> reported new: "
              f"{sensitivity['added_reported_new']}")  # fmt: skip
        print(f"carry threshold (the whole minimum cluster size, no test): continuing {carry['continuing_share']}, "
              f"with counterpart {carry['with_counterpart_share']}; added version's patterns "
              f"{carry['added_version_patterns']} -> reported new: {carry['added_reported_new']}")  # fmt: skip
        print(f"granularity (--min-cluster-size 20): {granularity['first_patterns']} first patterns, continuing "
              f"{granularity['continuing_share']}, with counterpart {granularity['with_counterpart_share']}; added "
              f"version reported new: {granularity['added_reported_new']}")  # fmt: skip
        print(f"stability cost, no cache: {cost['stability_seconds']:.1f} s for {cost['runs']} resamples against "
              f"{cost['one_fit_seconds']:.1f} s for one reduce + cluster of the same {cost['traces']} traces "
              f"({cost['distinct_documents']} distinct documents): ratio {cost['ratio']}")  # fmt: skip
    for name, r in runs.items():
        t = r["timings_seconds"]
        print(f"{name}: stability ARI {r['stability_ari']} (mean {r['stability_mean_ari']}); stability stage "
              f"{t.get('stability', 0):.1f} s of {sum(t.values()):.1f} s; "
              f"{r['distinct_documents']} distinct documents")  # fmt: skip
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
