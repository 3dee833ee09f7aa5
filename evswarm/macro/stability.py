"""How stable the patterns are: reduce and cluster bootstrap resamples of the analyzed traces again.

Each of `runs` resamples draws as many traces as were analyzed, with replacement (seeded by the analysis's
`random_state` and the resample's number, so the figures are deterministic), and runs the same reduction and
HDBSCAN (same dimensions, neighbours, minimum cluster size and min_samples) on their embeddings. A trace drawn
more than once takes the cluster of its first copy. On the traces a resample shares with the full run:

- overall: the adjusted Rand index between the full run's labels and the resample's (noise counts as one
  more label), one figure per resample, and their mean;
- per pattern: the Jaccard index of the pattern's shared traces and the resample cluster that overlaps them
  best, averaged over resamples (Hennig's cluster-wise bootstrap stability, 2007: about 0.75 or more reads as
  a stable pattern, 0.5 or less as one that dissolves when the data change a little).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evswarm.macro.cluster import cluster
from evswarm.macro.reduce import reduce


@dataclass(frozen=True)
class StabilitySettings:
    """The full run's reduction and clustering parameters, reused on every resample."""

    dims: int
    method: str
    n_neighbors: int
    random_state: int
    cache_root: Path | None
    min_cluster_size: int
    min_samples: int
    selection: str
    fit_limit: int | None = None
    """As in the full run: past this many traces, fit on a seeded sample (see `reduce`, `cluster`)."""


@dataclass(frozen=True)
class Stability:
    """Bootstrap stability of one analysis's clustering."""

    runs: int
    ari: list[float] = field(default_factory=list)
    """Adjusted Rand index of each resample against the full run (shared traces)."""
    by_cluster: dict[int, float] = field(default_factory=dict)
    """Pattern group (cluster id, or assignment group) -> mean best-match Jaccard over resamples."""

    @property
    def mean_ari(self) -> float | None:
        return round(float(np.mean(self.ari)), 4) if self.ari else None


def _first_labels(sample: np.ndarray, labels: np.ndarray) -> dict[int, int]:
    """Row index of the original -> resample label of its first copy."""
    out: dict[int, int] = {}
    for row, lab in zip(sample.tolist(), labels.tolist(), strict=True):
        out.setdefault(int(row), int(lab))
    return out


def _best_jaccard(members: set[int], resampled: dict[int, int]) -> float | None:
    shared = members & resampled.keys()
    if not shared:
        return None
    groups: dict[int, set[int]] = {}
    for row, lab in resampled.items():
        if lab >= 0:
            groups.setdefault(lab, set()).add(row)
    best = 0.0
    for group in groups.values():
        inter = len(shared & group)
        if inter:
            best = max(best, inter / len(shared | group))
    return best


def measure(
    vectors: np.ndarray, labels: np.ndarray, runs: int, s: StabilitySettings, groups: np.ndarray | None = None
) -> Stability:
    """Resample, re-reduce and re-cluster `runs` times; compare each with `labels` (the full run's clustering).

    The per-pattern figures are for the groups of `groups` when given (the patterns of an assignment to an
    earlier analysis's patterns, `evswarm.macro.assignment`), else for `labels`' clusters: for a pattern carried
    over by assignment, the figure says how well the clustering alone, on resampled data, finds its traces as one
    group. The adjusted Rand index is always the clustering's."""
    from sklearn.metrics import adjusted_rand_score

    n = vectors.shape[0]
    if runs <= 0 or n < 2:
        return Stability(runs=0)
    patterns = labels if groups is None else groups
    members = {int(c): set(np.flatnonzero(patterns == c).tolist()) for c in sorted(set(patterns.tolist())) if c >= 0}
    scores: dict[int, list[float]] = {c: [] for c in members}
    aris: list[float] = []
    for k in range(runs):
        rng = np.random.default_rng([s.random_state, k])
        sample = np.sort(rng.integers(0, n, size=n))
        reduced = reduce(vectors[sample], s.dims, s.method, s.n_neighbors, s.random_state, s.cache_root, s.fit_limit)
        again = cluster(
            reduced, s.min_cluster_size, s.min_samples, s.selection, fit_limit=s.fit_limit, random_state=s.random_state
        )
        resampled = _first_labels(sample, again.labels)
        shared = sorted(resampled)
        aris.append(round(float(adjusted_rand_score(labels[shared], [resampled[i] for i in shared])), 4))
        for c, rows in members.items():
            best = _best_jaccard(rows, resampled)
            if best is not None:
                scores[c].append(best)
    by_cluster = {c: round(float(np.mean(v)), 4) for c, v in scores.items() if v}
    return Stability(runs=runs, ari=aris, by_cluster=by_cluster)
