"""HDBSCAN (the `hdbscan` package, min_samples and cluster selection set explicitly) on the reduced embeddings;
-1 = noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray
    probabilities: np.ndarray
    min_cluster_size: int
    min_samples: int
    note: str


def default_min_cluster_size(n: int) -> int:
    return max(8, n // 40)


def cluster(
    x: np.ndarray, min_cluster_size: int | None, min_samples: int | None, selection: str = "leaf"
) -> Clustering:
    """Cluster rows of `x`. With fewer rows than two clusters need, everything is one group.

    `selection` is HDBSCAN's cluster selection: `leaf` (default) keeps the finest stable clusters, so two
    causes whose documents differ in one line stay apart; `eom` prefers fewer, larger clusters."""
    n = x.shape[0]
    mcs = min_cluster_size or default_min_cluster_size(n)
    if n < 2 * mcs:
        note = f"only {n} traces to cluster, fewer than two clusters of {mcs} need; they are reported as a single group"
        return Clustering(np.zeros(n, dtype=int), np.ones(n), mcs, 0, note)
    ms = min_samples or max(1, mcs // 2)
    import hdbscan

    model = hdbscan.HDBSCAN(
        min_cluster_size=mcs, min_samples=ms, metric="euclidean", cluster_selection_method=selection
    )
    labels = model.fit_predict(x.astype(np.float64))
    note = ""
    if labels.max() < 0:
        note = "HDBSCAN found no dense group; all traces are reported as a single group"
        labels = np.zeros(n, dtype=int)
    return Clustering(labels.astype(int), np.asarray(model.probabilities_), mcs, ms, note)
