"""`analyze()`: run every stage over a batch directory and write the report and tables.

Stages: load + normalize → grades → behavior (step features, contrast with peers) → population → anchors →
documents → embed → reduce → cluster → name + rank → lift + versions → attribution → tables + report.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from evswarm.core.batch_speakers import read_named
from evswarm.core.errors import EvswarmError
from evswarm.macro import behavior, documents, grades, lineage, population
from evswarm.macro.anchors import pick_anchors
from evswarm.macro.attribution import attribute, pattern_suspects, step_deviation
from evswarm.macro.cluster import cluster
from evswarm.macro.config import AnalyzeConfig
from evswarm.macro.embed import EmbeddingCache, embed
from evswarm.macro.lift import lift_table
from evswarm.macro.load import Skipped, locate
from evswarm.macro.naming import label_patterns
from evswarm.macro.outputs import write_outputs
from evswarm.macro.progress import Progress
from evswarm.macro.rank import rank_patterns
from evswarm.macro.reduce import picture_coordinates, reduce
from evswarm.macro.result import AnalysisResult
from evswarm.macro.stability import StabilitySettings, measure
from evswarm.macro.tables import load_tables
from evswarm.macro.versions import compare_versions, prevalence_by_version


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


def _sides(traces: pd.DataFrame, features: pd.DataFrame) -> tuple[pd.DataFrame, set[str], set[str]]:
    """Mark each trace `odd` (it has a rare step feature) and return the failing and passing runs.

    With grades, failing and passing come from the rubrics; runs without a usable grade are failing when
    odd, crashed or marked (see `population`), and passing otherwise."""
    structural = behavior.structural(features)
    odd = behavior.odd_runs(structural, traces)
    errors = set(structural.run_id[structural.feature.str.contains("error", regex=False)])
    marked = traces.run_id.isin(errors) | traces.has_error_finding.astype(bool)
    outcome_share = traces.groupby(["case_type", "run_outcome"]).run_id.transform("size") / traces.groupby(
        "case_type"
    ).run_id.transform("size")
    odd_outcome = outcome_share < population.RARE_OUTCOME
    traces = traces.assign(odd=traces.run_id.isin(odd) | odd_outcome, marked=marked)
    failing = set(traces.loc[population.failing_mask(traces), "run_id"])
    graded_pass = traces.promptfoo_pass.eq(True) if "promptfoo_pass" in traces.columns else False
    passing = set(traces.loc[graded_pass | ~traces.run_id.isin(failing), "run_id"]) - failing
    return traces, failing, passing


def analyze(
    batch_dir: Path | str,
    out_dir: Path | str,
    embedder: str = "minilm",
    *,
    config: AnalyzeConfig | None = None,
) -> AnalysisResult:
    """Analyze the batch in `batch_dir`; write `out_dir/report.html` and the tables beside it.

    One unreadable bundle or label row is skipped and reported (`result.skipped`, `result.notes`),
    never fatal; a batch with no readable bundle raises an EvswarmError."""
    cfg = config or AnalyzeConfig.model_validate({"embedder": embedder})
    if config is not None and embedder != cfg.embedder and embedder != "minilm":
        cfg = cfg.model_copy(update={"embedder": embedder})
    named = read_named(Path(batch_dir))
    if named.agents or named.people:  # the import's names: blamed and spared as if given on the command line
        cfg = cfg.model_copy(
            update={"blame": [*cfg.blame, *named.agents], "never_blame": [*cfg.never_blame, *named.people]}
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EvswarmError(f"--out {out} is a file, not a directory")
    previous = lineage.load_previous(cfg.previous, cfg.embedder)  # a bad --previous fails before any work
    progress = Progress(enabled=cfg.progress)
    timer = _Timer(progress)
    notes: list[str] = []
    skipped: list[Skipped] = []
    with progress:
        with timer.stage("load + normalize"):
            source = locate(Path(batch_dir))
            with progress.counter(source.bundle_count, "bundles") as advance:
                rendered = cfg.resolved_cache() / "rendered.sqlite" if cfg.use_cache else None
                norm = load_tables(source, skipped, backend=cfg.compute_backend(), on_bundles=advance, cache=rendered)
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
        with timer.stage("grades"):
            graded = grades.read_grades(source.labels_path if cfg.use_grades else None, set(traces.run_id))
            traces = grades.attach(traces, graded)
            if graded.unknown_runs:
                notes.append(f"{graded.unknown_runs} label row(s) name runs that are not in this batch; ignored.")
            if graded.bad_rows:
                notes.append(f"{len(graded.bad_rows)} label row(s) were unreadable: {graded.bad_rows[0]}")
            if not graded.present:
                notes.append(
                    "No grades (eval_labels.jsonl) were found: failing traces are the ones that behaved unlike "
                    "their peers. Run `evswarm grade DIR` to add rubric verdicts."
                )
        with timer.stage("behavior"):
            features = behavior.step_features(events)
            traces, failing, passing = _sides(traces, features)
            features = features.join(behavior.association(features, traces, failing, passing))
        pop = population.choose(traces)
        notes.insert(0, pop.note)
        sub = traces[traces.run_id.isin(set(pop.run_ids))].reset_index(drop=True)
        with timer.stage("documents"):
            cited = sub if cfg.use_citations else sub.drop(columns=["cited_ids"], errors="ignore")
            anchors = pick_anchors(cited, events, norm.aliases)
            sub = sub.merge(anchors, on="run_id", how="left")
            docs = documents.build(sub, features)
            features = features[["run_id", "seq", "feature"]]  # association columns are the documents' alone
        with timer.stage("embed"):
            cache = EmbeddingCache(cfg.resolved_cache() / "embeddings.sqlite") if cfg.use_cache else None
            emb = embed(docs.document.tolist(), cfg.embedder, cache, cfg.random_state, deduplicate=cfg.deduplicate)
        cache_root = cfg.resolved_cache() if cfg.use_cache else None
        with timer.stage("reduce"):
            reduced = reduce(
                emb.vectors, cfg.cluster_dims, cfg.reducer, cfg.n_neighbors, cfg.random_state, cache_root, cfg.fit_limit
            )
            coords = picture_coordinates(reduced, cfg.random_state)
        with timer.stage("cluster"):
            clus = cluster(
                reduced,
                cfg.min_cluster_size,
                cfg.min_samples,
                cfg.cluster_selection,
                fit_limit=cfg.fit_limit,
                random_state=cfg.random_state,
            )
            if clus.note:
                notes.append(clus.note.capitalize() + ".")
        planned = None
        if previous is not None:
            with timer.stage("assign to earlier patterns"):
                planned = lineage.plan(previous, emb.vectors, clus.labels, clus.min_cluster_size)
        groups = planned.labels if planned is not None else clus.labels
        stability = None
        if cfg.stability_runs:
            with timer.stage("stability"):
                settings = StabilitySettings(
                    cfg.cluster_dims, cfg.reducer, cfg.n_neighbors, cfg.random_state, cache_root,
                    clus.min_cluster_size, clus.min_samples, cfg.cluster_selection, cfg.fit_limit,
                )  # fmt: skip
                stability = measure(
                    emb.vectors, clus.labels, cfg.stability_runs, settings, groups if planned is not None else None
                )
        with timer.stage("label + rank"):
            named = label_patterns(sub, docs.document.tolist(), groups, cfg.top_terms).table
            assign = pd.DataFrame({"run_id": sub.run_id, "cluster_id": groups})
            ranked = rank_patterns(assign, traces)
            chain = lineage.follow(
                previous,
                lineage.BatchPatterns(
                    emb.vectors, groups, ranked, dict(zip(named.cluster_id, named.label, strict=True)),
                    emb.method, str(batch_dir), len(traces),
                ),
                planned,
                cfg.previous,
            )  # fmt: skip
            to_pattern = chain.to_pattern
            assign["pattern_id"] = assign.cluster_id.map(to_pattern)
            patterns = ranked.merge(named, on="cluster_id", how="left")
            patterns["pattern_id"] = patterns.cluster_id.map(to_pattern)
            lineage.annotate(patterns, chain.lineage, chain.labels, stability)
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
            vcomp = compare_versions(prev, cfg.alpha, cfg.min_slice_support, cfg.baseline)
        with timer.stage("attribution"):
            groups = assign.set_index("run_id").pattern_id
            groups = groups[groups >= 0]
            analyzed = set(sub.run_id)
            deviation = step_deviation(features, traces, groups, analyzed, passing)
            novelty = behavior.input_novelty(traces, analyzed, passing)
            blame = cfg.blameable()
            steps, attribution = attribute(events, anchors, novelty, blame, deviation)
            if not passing:
                notes.append("No trace passed, so no step could be contrasted with peers: each failing trace's "
                             "suspect is the agent step nearest its anchor, or the input when no agent acted "
                             "before it (compare with the baselines).")  # fmt: skip
            spared = blame.left_out(events.agent_name.unique())
            if spared:
                notes.append(f"Not blamed, as people or terminals by their names: {', '.join(spared[:12])}"
                             f"{' and more' if len(spared) > 12 else ''} (--also-blame people|terminals, or "
                             "--blame NAME, to blame them).")  # fmt: skip
            assignments = assign.drop(columns="cluster_id").merge(
                sub[["run_id", "case_type", "run_outcome", "agent_version_set", "anchor_event_id", "anchor_reason"]],
                on="run_id",
            )
            assignments["pattern"] = assignments.pattern_id.map(labels_by_id)
            assignments["probability"] = clus.probabilities
            assignments["map_x"], assignments["map_y"] = coords[:, 0], coords[:, 1]
            suspects = pattern_suspects(attribution, assignments)
            suspects["pattern"] = suspects.pattern_id.map(labels_by_id)
            top = suspects[suspects["rank"] == 1].set_index("pattern_id")
            patterns["top_suspect"] = patterns.pattern_id.map(top.component)
            patterns["top_suspect_side"] = patterns.pattern_id.map(top.side)
            patterns["top_suspect_share"] = patterns.pattern_id.map(top.share)
            patterns["owner"] = patterns.top_suspect
            patterns["owner_basis"] = "the component most often blamed in its traces"
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
            suspect_steps=steps,
            attribution=attribution,
            skipped=skipped,
            bad_label_rows=graded.bad_rows,
            notes=notes,
            timings=timer.timings,
            config=cfg,
            embedding_method=emb.method,
            population=pop,
            documents=docs,
            lineage=chain.lineage,
            stability=stability,
            source=source,
            render_cache=rendered,
            extra={
                "embedding_cached": emb.cached,
                "embedding_computed": emb.computed,
                "distinct_documents": int(docs.document.nunique()),
                "min_cluster_size": clus.min_cluster_size,
                "min_samples": clus.min_samples,
                "layout": source.layout,
                "batch_dir": str(batch_dir),
                "labels_path": str(source.labels_path or ""),
                "passing_runs": len(passing),
                **({"clustering_noise": int((clus.labels < 0).sum())} if planned is not None else {}),
                **lineage.manifest_fields(chain.lineage, stability),
            },
        )
        with timer.stage("report + tables"):
            write_outputs(result)
    progress.summary(timer.timings)
    return result
