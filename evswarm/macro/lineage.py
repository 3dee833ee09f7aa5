"""Pattern lineage: give this analysis's patterns the ids and names of the earlier analysis's patterns they
continue, and extend the chain's history (`evswarm.core.lineage`).

Without an earlier analysis, ids are impact ranks (1 = highest) and every pattern is `new`: the chain starts.

With one (`--previous OLD_OUT`), `plan` assigns the analyzed traces to the earlier patterns first and finds
patterns among the rest (`evswarm.macro.assignment`: the rules); the pipeline names and ranks the patterns of
that assignment, and `extend` writes the chain's next step: a continuing pattern keeps its id and name (status
`continuing`, or `returned` when it was gone, `basis` "assignment"); every other pattern gets a fresh id
(`Lineage.next_id` on, never an old one) and its own name, made unique against every name in the chain; each
earlier pattern that does not continue is recorded as gone, split or merged. Fresh ids follow impact rank.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evswarm.core.errors import EvswarmError
from evswarm.core.lineage import (
    Basis,
    Lineage,
    LineageStep,
    PatternLineage,
    PatternState,
    Status,
    lineage_path,
    read_lineage,
)
from evswarm.macro.assignment import Assignment, assign, fit_candidates
from evswarm.macro.centroids import FIT_QUANTILE, Centre, centres
from evswarm.macro.stability import Stability


@dataclass(frozen=True)
class BatchPatterns:
    """This analysis's clustering, as the lineage needs it."""

    vectors: np.ndarray
    """Document embeddings of the analyzed traces (unit rows)."""
    labels: np.ndarray
    """Pattern group per analyzed trace (-1: none): the clustering's labels, or with `--previous` the
    assignment's (`Assignment.labels`)."""
    ranked: pd.DataFrame
    """One row per group: cluster_id (the group), rank (0 for noise), trace_count, prevalence."""
    names: dict[int, str]
    """Group id -> the name `naming` gave it."""
    embedder: str
    batch: str
    traces: int


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


def _with_own_fits(lineage: Lineage, vectors: np.ndarray, labels: np.ndarray) -> Lineage:
    """`lineage` with `fits_own` on each pattern found in its last step: how many of this batch's traces fit its
    centre by the rule a later batch's traces will be counted by (`assignment.fit_candidates`: against every
    candidate, gone ones included, ties sent cluster by cluster)."""
    candidates, fitted = fit_candidates(lineage, vectors, labels)
    counts = np.bincount(fitted[fitted >= 0], minlength=len(candidates))
    own = {p.pattern_id: int(counts[k]) for k, p in enumerate(candidates)}
    patterns = []
    for p in lineage.patterns:
        latest = p.latest
        if latest.step == lineage.step and latest.trace_count > 0 and p.pattern_id in own:
            latest = latest.model_copy(update={"fits_own": own[p.pattern_id]})
            p = p.model_copy(update={"history": [*p.history[:-1], latest]})
        patterns.append(p)
    return lineage.model_copy(update={"patterns": patterns})


def start(batch: BatchPatterns) -> LineageResult:
    """The first analysis of a chain: ids are ranks, every pattern is new."""
    found = centres(batch.vectors, batch.labels)
    to_pattern = {-1: -1}
    patterns = []
    for rank, (cid, count, prevalence) in enumerate(_ordered_clusters(batch.ranked), start=1):
        to_pattern[cid] = rank
        state = PatternState(
            step=1, status="new", label=batch.names[cid], trace_count=count, prevalence=prevalence, fitted=0,
            related=[],
        )  # fmt: skip
        patterns.append(
            PatternLineage.model_validate(
                {"pattern_id": rank, "label": batch.names[cid], **_centre_fields(found[cid]), "history": [state]}
            )
        )
    step = LineageStep(
        step=1,
        batch=batch.batch,
        previous=None,
        traces=batch.traces,
        analyzed=len(batch.labels),
        fitted=0,
        clustered=int((batch.labels >= 0).sum()),
    )
    lineage = Lineage(
        embedder=batch.embedder,
        dimensions=int(batch.vectors.shape[1]) if batch.vectors.ndim == 2 else 1,
        fit_quantile=FIT_QUANTILE,
        steps=[step],
        next_id=len(patterns) + 1,
        patterns=patterns,
    )
    lineage = _with_own_fits(lineage, batch.vectors, batch.labels)
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


def follow(
    previous: Lineage | None, batch: BatchPatterns, planned: Assignment | None, previous_dir: Path | None
) -> LineageResult:
    """Start a chain (no earlier analysis) or extend `previous`'s with the assignment `plan` made."""
    if previous is None or planned is None:
        return start(batch)
    if batch.vectors.shape[1] != previous.dimensions:
        raise EvswarmError(
            f"{lineage_path(previous_dir or Path('.'))}: field `dimensions`: {previous.dimensions}, but this "
            f"analysis's embeddings have {batch.vectors.shape[1]}"
        )
    return extend(previous, batch, planned, str(previous_dir))


def plan(previous: Lineage | None, vectors: np.ndarray, labels: np.ndarray, min_size: int) -> Assignment | None:
    """Assignment first against `previous` (None without an earlier analysis: the clustering's labels stand)."""
    if previous is None:
        return None
    return assign(previous, vectors, labels, min_size)


def _unique_name(name: str, pid: int, taken: set[str]) -> str:
    return name if name not in taken else f"{name} (P{pid})"


def extend(previous: Lineage, batch: BatchPatterns, planned: Assignment, previous_dir: str) -> LineageResult:
    """This analysis as the next step of `previous`'s chain. `batch.labels` are `planned.labels` (its groups are
    the patterns), ranked and named by the pipeline."""
    step_no = previous.step + 1
    last = previous.step
    candidates = planned.candidates
    groups = _ordered_clusters(batch.ranked)

    def alive(p: PatternLineage) -> bool:
        return p.latest.step == last and p.latest.status != "gone"

    next_id = previous.next_id
    new_ids: dict[int, int] = {}
    for gid, _, _ in groups:
        group = planned.groups[gid]
        if group.kind == "continuing" and group.old is not None:
            new_ids[gid] = candidates[group.old].pattern_id
        else:
            new_ids[gid] = next_id
            next_id += 1
    taken = {p.label for p in previous.patterns}
    current = centres(batch.vectors, batch.labels)
    rows: dict[int, PatternLineage] = {p.pattern_id: p for p in previous.patterns}
    labels: dict[int, str] = {}
    for gid, count, prevalence in groups:
        group = planned.groups[gid]
        pid = new_ids[gid]
        related = sorted(candidates[i].pattern_id for i in group.related)
        status: Status
        if group.kind == "continuing" and group.old is not None:
            old = candidates[group.old]
            status = "continuing" if alive(old) else "returned"
            label = old.label
            fit_count = int(planned.fits[group.old])
        else:
            status = group.kind
            label = _unique_name(batch.names[gid], pid, taken)
            fit_count = 0
        taken.add(label)
        labels[pid] = label
        basis: Basis = "assignment" if group.kind == "continuing" else "clustering"
        state = PatternState(
            step=step_no, status=status, label=label, trace_count=count, prevalence=prevalence,
            fitted=fit_count, related=related, basis=basis,
        )  # fmt: skip
        history = rows[pid].history if pid in rows else []
        rows[pid] = PatternLineage.model_validate(
            {"pattern_id": pid, "label": label, **_centre_fields(current[gid]), "history": [*history, state]}
        )
    for i, ending in sorted(planned.endings.items()):
        old = candidates[i]
        state = PatternState(
            step=step_no, status=ending.fate, label=old.label, trace_count=0, prevalence=0.0,
            fitted=int(planned.fits[i]), related=sorted(new_ids[g] for g in ending.groups if g in new_ids),
        )  # fmt: skip
        rows[old.pattern_id] = old.model_copy(update={"history": [*old.history, state]})
    step = LineageStep(
        step=step_no,
        batch=batch.batch,
        previous=previous_dir,
        traces=batch.traces,
        analyzed=len(batch.labels),
        fitted=planned.fitted,
        assigned=planned.traces_of({"continuing"}),
        clustered=planned.traces_of({"new", "split", "merged"}),
    )
    lineage = Lineage(
        embedder=previous.embedder,
        dimensions=previous.dimensions,
        fit_quantile=previous.fit_quantile,
        steps=[*previous.steps, step],
        next_id=next_id,
        patterns=[rows[pid] for pid in sorted(rows)],
    )
    to_pattern = {-1: -1, **{gid: new_ids[gid] for gid, _, _ in groups}}
    return LineageResult(to_pattern, labels, _with_own_fits(lineage, batch.vectors, batch.labels))


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
    carried = patterns.status.isin(["continuing", "returned"])
    patterns.loc[carried, "label_basis"] = "its name in the earlier analysis, kept while the pattern continues"
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
