"""HDBSCAN (the `hdbscan` package, min_samples and cluster selection set explicitly) on the reduced embeddings;
-1 = noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evswarm.macro.reduce import fit_sample


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
    x: np.ndarray,
    min_cluster_size: int | None,
    min_samples: int | None,
    selection: str = "leaf",
    *,
    fit_limit: int | None = None,
    random_state: int = 42,
) -> Clustering:
    """Cluster rows of `x`. With fewer rows than two clusters need, everything is one group.

    `selection` is HDBSCAN's cluster selection: `leaf` (default) keeps the finest stable clusters, so two
    causes whose documents differ in one line stay apart; `eom` prefers fewer, larger clusters. With more
    than `fit_limit` rows, HDBSCAN is fitted on a seeded sample of that size, exactly as a batch of that
    many traces would be clustered, and every other row joins the cluster it falls in (HDBSCAN's
    approximate prediction); the note says so."""
    sample = fit_sample(x.shape[0], fit_limit, random_state)
    if sample is not None:
        return _cluster_sampled(x, sample, min_cluster_size, min_samples, selection)
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


def _cluster_sampled(
    x: np.ndarray, sample: np.ndarray, min_cluster_size: int | None, min_samples: int | None, selection: str
) -> Clustering:
    import hdbscan

    n, k = x.shape[0], sample.size
    mcs = min_cluster_size or default_min_cluster_size(k)
    ms = min_samples or max(1, mcs // 2)
    model = hdbscan.HDBSCAN(
        min_cluster_size=mcs,
        min_samples=ms,
        metric="euclidean",
        cluster_selection_method=selection,
        prediction_data=True,
    )
    model.fit(x[sample].astype(np.float64))
    labels = np.empty(n, dtype=int)
    probabilities = np.empty(n)
    labels[sample], probabilities[sample] = model.labels_, model.probabilities_
    rest = np.setdiff1d(np.arange(n), sample)
    if rest.size:
        predicted, strength = hdbscan.approximate_predict(model, x[rest].astype(np.float64))
        labels[rest], probabilities[rest] = predicted, strength
    note = (
        f"clustered on a seeded sample of {k:,} of the {n:,} traces (minimum cluster size {mcs}); the other "
        f"{n - k:,} joined the pattern they fall in"
    )
    if labels.max() < 0:
        note += "; HDBSCAN found no dense group, so all traces are reported as a single group"
        labels[:] = 0
    return Clustering(labels, probabilities, mcs, ms, note)
