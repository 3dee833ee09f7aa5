"""`analyze()`: run every stage over a batch directory and write the report and tables."""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_json
from evswarm.macro import anchors as anchor_mod
from evswarm.macro import documents, population, tables
from evswarm.macro import labels as label_mod
from evswarm.macro.cluster import cluster
from evswarm.macro.config import AnalyzeConfig
from evswarm.macro.embed import EmbeddingCache, embed
from evswarm.macro.label import label_patterns
from evswarm.macro.lift import lift_table
from evswarm.macro.load import Skipped, locate
from evswarm.macro.normalize import normalize
from evswarm.macro.progress import Progress
from evswarm.macro.rank import rank_patterns
from evswarm.macro.reduce import picture_coordinates, reduce
from evswarm.macro.suspects import Diagnosis, diagnose, top_operational
from evswarm.macro.versions import compare_versions, prevalence_by_version


@dataclass
class AnalysisResult:
    """Everything `analyze` computed, plus where it wrote it."""

    out_dir: Path
    report_path: Path
    table_paths: dict[str, list[Path]]
    traces: pd.DataFrame
    events: pd.DataFrame
    assignments: pd.DataFrame
    patterns: pd.DataFrame
    lift: pd.DataFrame
    version_prevalence: pd.DataFrame
    version_compare: pd.DataFrame
    suspects: pd.DataFrame
    suspect_steps: pd.DataFrame
    diagnosis: Diagnosis | None
    skipped: list[Skipped]
    notes: list[str]
    timings: dict[str, float]
    config: AnalyzeConfig
    embedding_method: str
    population: population.Population
    documents: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)


class _Timer:
    def __init__(self, progress: Progress) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.progress.stage(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 3)


def _representatives(coords: np.ndarray, labels: np.ndarray, run_ids: np.ndarray, pid: int, k: int) -> list[str]:
    """Up to k members nearest the cluster centroid (ties by run id), deterministic."""
    idx = np.flatnonzero(labels == pid)
    centre = coords[idx].mean(axis=0)
    dist = np.linalg.norm(coords[idx] - centre, axis=1)
    order = np.lexsort((run_ids[idx], dist))
    return [str(run_ids[idx[i]]) for i in order[:k]]


def analyze(
    batch_dir: Path | str,
    out_dir: Path | str,
    embedder: str = "minilm",
    *,
    config: AnalyzeConfig | None = None,
) -> AnalysisResult:
    """Analyze the batch in `batch_dir`; write `out_dir/report.html` and the tables beside it."""
    cfg = config or AnalyzeConfig.model_validate({"embedder": embedder})
    if config is not None and embedder != cfg.embedder and embedder != "minilm":
        cfg = cfg.model_copy(update={"embedder": embedder})
    out = Path(out_dir)
    progress = Progress(enabled=cfg.progress)
    timer = _Timer(progress)
    notes: list[str] = []
    skipped: list[Skipped] = []
    with progress:
        with timer.stage("load + normalize"):
            source = locate(Path(batch_dir), validate=cfg.strict)
            bundles = progress.track(source.iter_bundles(skipped), total=source.bundle_count, what="bundles")
            norm = normalize(bundles, source.run_rows)
            if source.missing_bundles:
                notes.append(
                    f"{len(source.missing_bundles)} runs in the run table have no bundle "
                    "(runner errors in the reference layout); they are not analyzed."
                )
        if norm.traces.empty:
            first = "; ".join(f"{Path(s.source).name}: {s.reason}" for s in skipped[:3])
            raise EvswarmError(
                f"no readable bundles in {batch_dir} ({len(skipped)} skipped: {first})",
                hint="check the bundles with `evswarm replay DIR` or re-run the simulator",
            )
        traces, events = norm.traces, norm.events
        if skipped:
            notes.append(f"{len(skipped)} bundle(s) could not be read and were skipped (listed at the end).")
        with timer.stage("labels"):
            labels = label_mod.read_labels(source.labels_path, set(traces.run_id))
            traces = label_mod.attach(traces, labels)
            if labels.unknown_runs:
                notes.append(f"{labels.unknown_runs} label row(s) name runs that are not in this batch; ignored.")
            if labels.bad_rows:
                notes.append(f"{len(labels.bad_rows)} label row(s) were unreadable: {labels.bad_rows[0]}")
            if not labels.present:
                notes.append(
                    "No grading labels (eval_labels.jsonl) were found: patterns use trace content only. "
                    "Run `evswarm grade DIR` to add rubric verdicts."
                )
        pop = population.choose(traces)
        notes.insert(0, pop.note)
        sub = traces[traces.run_id.isin(set(pop.run_ids))].reset_index(drop=True)
        with timer.stage("documents"):
            anchors = anchor_mod.pick_anchors(sub, events, norm.aliases)
            sub = sub.merge(anchors, on="run_id", how="left")
            docs = documents.build(sub, events, anchors)
        with timer.stage("embed"):
            cache = EmbeddingCache(cfg.resolved_cache() / "embeddings.sqlite") if cfg.use_cache else None
            emb = embed(docs.doc_summary.tolist(), cfg.embedder, cache, cfg.random_state)
        cache_root = cfg.resolved_cache() if cfg.use_cache else None
        with timer.stage("reduce"):
            reduced = reduce(emb.vectors, cfg.cluster_dims, cfg.reducer, cfg.n_neighbors, cfg.random_state, cache_root)
            coords = picture_coordinates(reduced, cfg.random_state)
        with timer.stage("cluster"):
            clus = cluster(reduced, cfg.min_cluster_size, cfg.min_samples)
            if clus.note:
                notes.append(clus.note.capitalize() + ".")
        with timer.stage("label + rank"):
            named = label_patterns(sub, docs.doc_summary.tolist(), clus.labels, cfg.top_terms).table
            assign = pd.DataFrame({"run_id": sub.run_id, "cluster_id": clus.labels})
            ranked = rank_patterns(assign, traces)
            to_pattern = {
                int(c): (int(r) if c >= 0 else -1) for c, r in zip(ranked.cluster_id, ranked["rank"], strict=True)
            }
            assign["pattern_id"] = assign.cluster_id.map(to_pattern)
            patterns = ranked.merge(named, on="cluster_id", how="left")
            patterns["pattern_id"] = patterns.cluster_id.map(to_pattern)
            labels_by_id = dict(zip(patterns.pattern_id, patterns.label, strict=True))
            run_ids = sub.run_id.to_numpy()
            pattern_labels = assign.pattern_id.to_numpy()
            patterns["representatives"] = [
                _representatives(reduced, pattern_labels, run_ids, pid, 3) if pid >= 0 else []
                for pid in patterns.pattern_id
            ]
        pa = assign[["run_id", "pattern_id"]].rename(columns={"pattern_id": "cluster_id"})
        with timer.stage("lift + versions"):
            lift = lift_table(pa, traces, labels_by_id, cfg.alpha, cfg.min_slice_support)
            prev = prevalence_by_version(pa, traces, labels_by_id)
            vcomp = compare_versions(prev, cfg.alpha, cfg.min_slice_support)
        with timer.stage("graph + suspects"):
            top_ids = [int(p) for p in patterns.sort_values("rank").pattern_id if p > 0][: cfg.top_patterns]
            members = []
            for pid in top_ids:
                ordered = _representatives(reduced, pattern_labels, run_ids, pid, cfg.max_diagnosed_traces)
                members.append(pd.DataFrame({"run_id": ordered, "pattern_id": pid}))
            member_df = (
                pd.concat(members, ignore_index=True) if members else pd.DataFrame(columns=["run_id", "pattern_id"])
            )
            member_df = member_df.merge(anchors[["run_id", "anchor_event_id", "anchor_reason"]], on="run_id")
            clean = traces.loc[~population.failing_mask(traces), "run_id"].tolist()
            if not clean:
                notes.append("No run went fine, so suspect frequency counts recurrence without a clean baseline.")
            diag = diagnose(
                member_df,
                events,
                clean,
                cfg.max_hops,
                dict(zip(traces.run_id, traces.case_type, strict=True)),
            )
            suspects = diag.rollup.copy()
            if not suspects.empty:
                suspects["pattern"] = suspects.pattern_id.map(labels_by_id)
                top = top_operational(suspects).set_index("pattern_id")
                has = patterns.pattern_id.isin(top.index)
                patterns.loc[has, "owner"] = patterns.loc[has, "pattern_id"].map(top.agent_name)
                patterns.loc[has, "owner_basis"] = "top upstream suspect on the execution graph"
                patterns["top_suspect"] = patterns.pattern_id.map(top.suspect)
                patterns["top_suspect_coverage"] = patterns.pattern_id.map(top.coverage)
            else:
                patterns["top_suspect"] = None
                patterns["top_suspect_coverage"] = None
        assignments = assign.drop(columns="cluster_id").merge(
            sub[
                [
                    "run_id",
                    "case_type",
                    "run_outcome",
                    "agent_version_set",
                    "anchor_event_id",
                    "anchor_reason",
                ]
            ],
            on="run_id",
        )
        assignments["pattern"] = assignments.pattern_id.map(labels_by_id)
        assignments["probability"] = clus.probabilities
        assignments["map_x"], assignments["map_y"] = coords[:, 0], coords[:, 1]
        patterns = patterns.sort_values(["rank"]).reset_index(drop=True)
        patterns = pd.concat([patterns[patterns.pattern_id > 0], patterns[patterns.pattern_id < 0]], ignore_index=True)
        result = AnalysisResult(
            out_dir=out,
            report_path=out / "report.html",
            table_paths={},
            traces=traces,
            events=events,
            assignments=assignments,
            patterns=patterns,
            lift=lift,
            version_prevalence=prev,
            version_compare=vcomp,
            suspects=suspects,
            suspect_steps=diag.per_trace,
            diagnosis=diag,
            skipped=skipped,
            notes=notes,
            timings=timer.timings,
            config=cfg,
            embedding_method=emb.method,
            population=pop,
            documents=docs,
            extra={
                "embedding_cached": emb.cached,
                "embedding_computed": emb.computed,
                "min_cluster_size": clus.min_cluster_size,
                "min_samples": clus.min_samples,
                "layout": source.layout,
                "batch_dir": str(batch_dir),
                "labels_path": str(source.labels_path or ""),
                "clean_runs": len(clean),
            },
        )
        with timer.stage("report + tables"):
            from evswarm.macro.report.html import write_report

            out.mkdir(parents=True, exist_ok=True)
            result.table_paths = _write_tables(result)
            write_report(result)
            _write_manifest(result)
    progress.summary(timer.timings)
    return result


_PATTERN_COLS = [
    "pattern_id",
    "label",
    "label_basis",
    "owner",
    "owner_basis",
    "trace_count",
    "prevalence",
    "share_of_analyzed",
    "severity",
    "severity_weighted_prevalence",
    "impact",
    "dominant_case_type",
    "dominant_outcome",
    "top_suspect",
    "top_suspect_coverage",
    "keywords",
    "representatives",
]


def _write_tables(r: AnalysisResult) -> dict[str, list[Path]]:
    sus_cols = [
        "pattern_id",
        "pattern",
        "rank",
        "suspect",
        "agent_name",
        "node_kind",
        "tool_name",
        "pattern_score",
        "mean_score",
        "coverage",
        "traces_covered",
        "drilled_traces",
        "mean_hop",
        "proximity",
        "frequency",
        "bridge",
        "role",
        "is_signal",
        "example_text",
    ]
    frames = {
        "patterns": r.patterns[[c for c in _PATTERN_COLS if c in r.patterns.columns]],
        "trace_patterns": r.assignments,
        "lift": r.lift,
        "version_compare": r.version_compare,
        "suspects": r.suspects[[c for c in sus_cols if c in r.suspects.columns]]
        if not r.suspects.empty
        else r.suspects,
    }
    return {name: tables.write_table(r.out_dir, name, df) for name, df in frames.items()}


def _write_manifest(r: AnalysisResult) -> None:
    import importlib.metadata as md

    versions: dict[str, str | None] = {}
    for pkg in (
        "numpy",
        "pandas",
        "scikit-learn",
        "umap-learn",
        "hdbscan",
        "sentence-transformers",
        "plotly",
        "networkx",
    ):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    atomic_write_json(
        r.out_dir / "analysis.json",
        {
            "config": r.config.model_dump(mode="json"),
            "embedding_method": r.embedding_method,
            "timings_seconds": r.timings,
            "traces": len(r.traces),
            "analyzed": len(r.assignments),
            "scope": r.population.scope,
            "patterns": int((r.patterns.pattern_id > 0).sum()),
            "skipped": [{"source": s.source, "reason": s.reason} for s in r.skipped],
            "notes": r.notes,
            "python": platform.python_version(),
            "packages": versions,
            **r.extra,
        },
    )
