"""Pattern lineage: give this analysis's patterns the ids and names of the earlier analysis's patterns they
continue, and extend the chain's history (`evswarm.core.lineage`).

Without an earlier analysis, ids are impact ranks (1 = highest) and every pattern is `new`: the chain starts.

With one (`--previous OLD_OUT`), every analyzed trace is tested against the centres of the earlier patterns
that are still alive or gone (not those split or merged away), by the fit rule of `centroids`. Then, for
each of this batch's clusters C and each earlier pattern P, n = the traces of C that fit P. C and P are
*linked* when n is at least `min_link` traces (the clustering's `min_samples`: the smallest dense
neighbourhood it recognises) and n is at least half of one side: half of C's traces, or half of the batch's
traces that fit P. Links group patterns into connected components:

- a component of one earlier pattern and one cluster: the cluster continues it (`continuing`, or
  `returned` when it was gone);
- larger components: a cluster continues an earlier pattern when each holds at least half of the other
  (C's traces that fit P are at least half of C and at least half of P's fits; the largest such pairs are
  taken first); every other cluster is `split` from its one linked pattern or `merged` from its several;
  every earlier pattern left over is `split` into its several linked clusters or `merged` into its one;
- an earlier pattern with no link is `gone`; a cluster with none is `new`.

A continuing pattern keeps its id and name; every other pattern gets a fresh id (`Lineage.next_id` on, never
an old one) and its own name, made unique against every name in the chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evswarm.core.errors import EvswarmError
from evswarm.core.lineage import (
    Lineage,
    LineageStep,
    PatternLineage,
    PatternState,
    Status,
    lineage_path,
    read_lineage,
)
from evswarm.macro.centroids import FIT_QUANTILE, Centre, centres, fit, ties
from evswarm.macro.stability import Stability

LINK_SHARE = 0.5
"""A link needs at least this share of one side's traces."""


@dataclass(frozen=True)
class BatchPatterns:
    """This analysis's clustering, as the lineage needs it."""

    vectors: np.ndarray
    """Document embeddings of the analyzed traces (unit rows)."""
    labels: np.ndarray
    """Cluster id per analyzed trace (-1: noise)."""
    ranked: pd.DataFrame
    """One row per cluster: cluster_id, rank (0 for noise), trace_count, prevalence."""
    names: dict[int, str]
    """Cluster id -> the name `naming` gave it."""
    embedder: str
    batch: str
    traces: int
    min_link: int


@dataclass(frozen=True)
class LineageResult:
    """What the lineage decided for this analysis."""

    to_pattern: dict[int, int]
    """Cluster id -> pattern id (-1 -> -1)."""
    labels: dict[int, str]
    """Pattern id -> name."""
    lineage: Lineage
    """The chain, this analysis included."""


def _ordered_clusters(ranked: pd.DataFrame) -> list[tuple[int, int, float]]:
    """(cluster id, trace count, prevalence) of the real clusters, in rank order."""
    rows = ranked[ranked.cluster_id >= 0].sort_values("rank")
    return [
        (int(c), int(n), float(p)) for c, n, p in zip(rows.cluster_id, rows.trace_count, rows.prevalence, strict=True)
    ]


def _centre_fields(centre: Centre) -> dict[str, object]:
    return {"centroid": [float(v) for v in centre.centroid], "radius": float(centre.radius)}


def start(batch: BatchPatterns) -> LineageResult:
    """The first analysis of a chain: ids are ranks, every pattern is new."""
    found = centres(batch.vectors, batch.labels)
    to_pattern = {-1: -1}
    patterns = []
    for rank, (cid, count, prevalence) in enumerate(_ordered_clusters(batch.ranked), start=1):
        to_pattern[cid] = rank
        state = PatternState(
            step=1, status="new", label=batch.names[cid], trace_count=count, prevalence=prevalence, fitted=0, related=[]
        )
        patterns.append(
            PatternLineage.model_validate(
                {"pattern_id": rank, "label": batch.names[cid], **_centre_fields(found[cid]), "history": [state]}
            )
        )
    step = LineageStep(
        step=1, batch=batch.batch, previous=None, traces=batch.traces, analyzed=len(batch.labels), fitted=0
    )
    lineage = Lineage(
        embedder=batch.embedder,
        dimensions=int(batch.vectors.shape[1]) if batch.vectors.ndim == 2 else 1,
        fit_quantile=FIT_QUANTILE,
        steps=[step],
        next_id=len(patterns) + 1,
        patterns=patterns,
    )
    return LineageResult(to_pattern, {p.pattern_id: p.label for p in patterns}, lineage)


def load_previous(previous: Path | None, embedder: str) -> Lineage | None:
    """The lineage of the earlier analysis (None without one), checked against this analysis's embedder before
    any work is done: centres made in another embedding space cannot be compared."""
    if previous is None:
        return None
    from evswarm.macro.embed import MODELS

    if embedder not in MODELS:
        raise EvswarmError(
            f"--previous needs a model embedder: --embedder {embedder} is fit on each batch, so its vectors cannot "
            "be compared across batches",
            hint="analyze both batches with --embedder minilm (the default) or --embedder static",
        )
    found = read_lineage(previous)
    key = MODELS[embedder][0]
    if found.embedder != key:
        raise EvswarmError(
            f"{lineage_path(previous)}: field `embedder`: the earlier analysis used {found.embedder!r}, this one "
            f"{key!r}; pattern centres from different embedders cannot be compared",
            hint="analyze with the same --embedder as the earlier analysis",
        )
    return found


def follow(previous: Lineage | None, batch: BatchPatterns, previous_dir: Path | None) -> LineageResult:
    """Start a chain (no earlier analysis) or extend `previous`'s."""
    if previous is None:
        return start(batch)
    if batch.vectors.shape[1] != previous.dimensions:
        raise EvswarmError(
            f"{lineage_path(previous_dir or Path('.'))}: field `dimensions`: {previous.dimensions}, but this "
            f"analysis's embeddings have {batch.vectors.shape[1]}"
        )
    return extend(previous, batch, str(previous_dir))


def _links(n: np.ndarray, sizes: np.ndarray, fits: np.ndarray, min_link: int) -> np.ndarray:
    """Boolean (old, cluster) matrix: enough traces, and at least half of one side."""
    return (n >= max(min_link, 1)) & ((n >= LINK_SHARE * sizes[None, :]) | (n >= LINK_SHARE * fits[:, None]))


def _pairs(n: np.ndarray, links: np.ndarray, sizes: np.ndarray, fits: np.ndarray) -> dict[int, int]:
    """Cluster index -> old index for the clusters that continue an old pattern."""
    olds_of = [set(np.flatnonzero(links[:, j]).tolist()) for j in range(links.shape[1])]
    news_of = [set(np.flatnonzero(links[i, :]).tolist()) for i in range(links.shape[0])]
    pairs: dict[int, int] = {}
    for j, olds in enumerate(olds_of):  # one old, one cluster, linked only to each other
        if len(olds) == 1 and len(news_of[next(iter(olds))]) == 1:
            pairs[j] = next(iter(olds))
    mutual = [
        (-int(n[i, j]), i, j)
        for i, j in zip(*np.nonzero(links), strict=True)
        if n[i, j] >= LINK_SHARE * sizes[j] and n[i, j] >= LINK_SHARE * fits[i]
    ]
    taken_old = set(pairs.values())
    for _, i, j in sorted(mutual):
        if j not in pairs and i not in taken_old:
            pairs[int(j)] = int(i)
            taken_old.add(int(i))
    return pairs


def _untie(
    fitted: np.ndarray,
    tied: list[tuple[int, ...]],
    labels: np.ndarray,
    clusters: list[tuple[int, int, float]],
    last: list[PatternState],
) -> None:
    """Traces equally near several earlier centres (patterns the embedding cannot tell apart, e.g. two clusters
    of one document) are sent, cluster by cluster, to the one of those patterns whose last size is nearest the
    cluster's size (largest clusters first, each earlier pattern taken once per group); in place."""
    used: dict[tuple[int, ...], set[int]] = defaultdict(set)
    for cid, size, _ in sorted(clusters, key=lambda c: (-c[1], c[0])):
        rows = [r for r in np.flatnonzero(labels == cid).tolist() if len(tied[r]) > 1]
        if not rows:
            continue
        group = max(sorted({tied[r] for r in rows}), key=lambda g: sum(1 for r in rows if tied[r] == g))
        free = [k for k in group if k not in used[group]] or list(group)
        choice = min(free, key=lambda k: (abs(last[k].trace_count - size), k))
        used[group].add(choice)
        for r in rows:
            if tied[r] == group:
                fitted[r] = choice


def _unique_name(name: str, pid: int, taken: set[str]) -> str:
    return name if name not in taken else f"{name} (P{pid})"


def extend(previous: Lineage, batch: BatchPatterns, previous_dir: str) -> LineageResult:
    """This analysis as the next step of `previous`'s chain (see the module docstring for the rules)."""
    step_no = previous.step + 1
    last = previous.step
    candidates = [p for p in previous.patterns if not p.retired]
    found = [Centre(np.asarray(p.centroid), p.radius) for p in candidates]
    fitted = fit(batch.vectors, found)
    clusters = _ordered_clusters(batch.ranked)
    _untie(fitted, ties(batch.vectors, found, fitted), batch.labels, clusters, [p.latest for p in candidates])
    index = {cid: j for j, (cid, _, _) in enumerate(clusters)}
    n = np.zeros((len(candidates), len(clusters)), dtype=int)
    for old, lab in zip(fitted, batch.labels, strict=True):
        if old >= 0 and lab >= 0:
            n[old, index[int(lab)]] += 1
    sizes = np.asarray([c[1] for c in clusters], dtype=float)
    fits = np.bincount(fitted[fitted >= 0], minlength=len(candidates)).astype(float)
    links = _links(n, sizes, fits, batch.min_link)
    pairs = _pairs(n, links, sizes, fits)

    def alive(p: PatternLineage) -> bool:
        return p.latest.step == last and p.latest.status != "gone"

    next_id = previous.next_id
    new_ids: dict[int, int] = {}
    for j in range(len(clusters)):
        if j in pairs:
            new_ids[j] = candidates[pairs[j]].pattern_id
        else:
            new_ids[j] = next_id
            next_id += 1
    taken = {p.label for p in previous.patterns}
    current = centres(batch.vectors, batch.labels)
    rows: dict[int, PatternLineage] = {p.pattern_id: p for p in previous.patterns}
    labels: dict[int, str] = {}
    for j, (cid, count, prevalence) in enumerate(clusters):
        pid = new_ids[j]
        linked = sorted(int(i) for i in np.flatnonzero(links[:, j]))
        status: Status
        if j in pairs:
            old = candidates[pairs[j]]
            status = "continuing" if alive(old) else "returned"
            label = old.label
            related = sorted(candidates[i].pattern_id for i in linked if i != pairs[j])
            fit_count = int(fits[pairs[j]])
        else:
            status = "new" if not linked else ("split" if len(linked) == 1 else "merged")
            label = _unique_name(batch.names[cid], pid, taken)
            related = sorted(candidates[i].pattern_id for i in linked)
            fit_count = 0
        taken.add(label)
        labels[pid] = label
        state = PatternState(
            step=step_no, status=status, label=label, trace_count=count, prevalence=prevalence,
            fitted=fit_count, related=related,
        )  # fmt: skip
        history = rows[pid].history if pid in rows else []
        rows[pid] = PatternLineage.model_validate(
            {"pattern_id": pid, "label": label, **_centre_fields(current[cid]), "history": [*history, state]}
        )
    paired_olds = set(pairs.values())
    for i, old in enumerate(candidates):
        if i in paired_olds:
            continue
        linked_new = sorted(new_ids[int(j)] for j in np.flatnonzero(links[i, :]))
        left: Status = "gone" if not linked_new else ("merged" if len(linked_new) == 1 else "split")
        state = PatternState(
            step=step_no, status=left, label=old.label, trace_count=0, prevalence=0.0, fitted=int(fits[i]),
            related=linked_new,
        )  # fmt: skip
        rows[old.pattern_id] = old.model_copy(update={"history": [*old.history, state]})
    step = LineageStep(
        step=step_no,
        batch=batch.batch,
        previous=previous_dir,
        traces=batch.traces,
        analyzed=len(batch.labels),
        fitted=int((fitted >= 0).sum()),
    )
    lineage = Lineage(
        embedder=previous.embedder,
        dimensions=previous.dimensions,
        fit_quantile=previous.fit_quantile,
        steps=[*previous.steps, step],
        next_id=next_id,
        patterns=[rows[pid] for pid in sorted(rows)],
    )
    to_pattern = {-1: -1, **{cid: new_ids[j] for j, (cid, _, _) in enumerate(clusters)}}
    return LineageResult(to_pattern, labels, lineage)


def then_prevalence(lineage: Lineage, pattern: PatternLineage) -> float | None:
    """The pattern's prevalence in the analysis before the latest (for a new part: its parents' together);
    None at the chain's first step."""
    if lineage.step < 2:
        return None
    before = lineage.step - 1
    latest = pattern.latest
    by_id = lineage.by_id()

    def at(p: PatternLineage) -> float:
        return next((s.prevalence for s in p.history if s.step == before), 0.0)

    if latest.step == lineage.step and latest.status in ("split", "merged", "new") and pattern.history[0] is latest:
        return sum(at(by_id[r]) for r in latest.related if r in by_id)
    return at(pattern)


def history_table(lineage: Lineage) -> pd.DataFrame:
    """One row per (pattern, step) with its status and prevalence: what the report plots."""
    rows: dict[str, list[object]] = defaultdict(list)
    for p in lineage.patterns:
        for s in p.history:
            rows["pattern_id"].append(p.pattern_id)
            rows["step"].append(s.step)
            rows["status"].append(s.status)
            rows["prevalence"].append(s.prevalence)
            rows["trace_count"].append(s.trace_count)
    return pd.DataFrame(rows)


def annotate(patterns: pd.DataFrame, chain: Lineage, labels: dict[int, str], stability: Stability | None) -> None:
    """Fill the patterns table's lineage and stability columns in place (names of continuing patterns too).

    `patterns` has one row per cluster with `cluster_id` and `pattern_id`."""
    by_id = chain.by_id()
    real = patterns.pattern_id > 0
    patterns.loc[real, "label"] = patterns.loc[real, "pattern_id"].map(labels)
    patterns["status"] = [by_id[int(p)].latest.status if p > 0 else None for p in patterns.pattern_id]
    patterns["prevalence_then"] = [
        then_prevalence(chain, by_id[int(p)]) if p > 0 else None for p in patterns.pattern_id
    ]
    by_cluster = stability.by_cluster if stability is not None else {}
    patterns["stability"] = [by_cluster.get(int(c)) if p > 0 else None for c, p in zip(
        patterns.cluster_id, patterns.pattern_id, strict=True)]  # fmt: skip


def manifest_fields(chain: Lineage, stability: Stability | None) -> dict[str, object]:
    """What `analysis.json` records about the lineage step and the stability measurement."""
    step = chain.steps[-1]
    return {
        "lineage_step": step.step,
        "previous": step.previous,
        "stability_runs": stability.runs if stability else 0,
        "stability_ari": stability.ari if stability else [],
        "stability_mean_ari": stability.mean_ari if stability else None,
    }
