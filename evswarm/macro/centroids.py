"""Pattern centres in the embedding space, and which traces fit them.

A pattern's centre is the unit-length mean of its members' document embeddings (the embedders' vectors are
unit length, so cosine distance is `1 - x·c`). A trace is compared with the centre nearest to it and fits
that pattern when it lies within the pattern's fit radius, the larger of:

- its own spread: the `FIT_QUANTILE` (95%) quantile of its members' distances to the centre, i.e. no farther
  than 95% of the pattern's own members were;
- half the typical gap between patterns: half the median distance between the centres of the analysis's
  patterns, i.e. closer to this centre than halfway to where a typical other pattern sits.

The second term is there because documents describe a trace partly against its own batch (its unusual steps
are the steps its peers rarely take), so the same pattern moves a little from batch to batch, often farther
than a tight pattern's own spread. Both terms come from the earlier analysis alone (its patterns' spread and
spacing), not from the batch it is later compared with, and not from any planted fault. `TOLERANCE` absorbs
float rounding. Ties between centres go to the lower index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIT_QUANTILE = 0.95
GAP_SHARE = 0.5
"""The share of the median gap between centres a radius reaches at least (one half: the midpoint)."""
TOLERANCE = 1e-5
"""Cosine distance below which two vectors count as the same (float32 rounding of a mean of unit vectors)."""


@dataclass(frozen=True)
class Centre:
    """One pattern's centre and fit radius."""

    centroid: np.ndarray
    radius: float


def _unit(x: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(x))
    return x / norm if norm > 0 else x


def _centre_and_spread(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    x = np.asarray(vectors, dtype=np.float64)
    centroid = _unit(x.mean(axis=0))
    distances = np.clip(1.0 - x @ centroid, 0.0, 2.0)
    return centroid, float(np.quantile(distances, FIT_QUANTILE))


def half_gap(centroids: list[np.ndarray]) -> float:
    """`GAP_SHARE` (one half) of the median cosine distance between two different centres (0 with fewer than
    two)."""
    if len(centroids) < 2:
        return 0.0
    c = np.stack(centroids)
    d = 1.0 - c @ c.T
    return float(np.median(d[np.triu_indices(len(centroids), k=1)])) * GAP_SHARE


def centres(vectors: np.ndarray, labels: np.ndarray) -> dict[int, Centre]:
    """One centre, with its fit radius, per label >= 0 (noise, -1, has none)."""
    found = {int(lab): _centre_and_spread(vectors[labels == lab]) for lab in sorted(set(labels.tolist())) if lab >= 0}
    gap = half_gap([c for c, _ in found.values()])
    return {
        lab: Centre(np.round(c, 7), round(min(max(spread, gap) + TOLERANCE, 2.0), 7))
        for lab, (c, spread) in found.items()
    }


def distances(vectors: np.ndarray, found: list[Centre]) -> np.ndarray:
    """Cosine distance of each row of `vectors` (unit rows) to each centre: shape (rows, centres)."""
    if not found:
        return np.zeros((vectors.shape[0], 0))
    c = np.stack([np.asarray(f.centroid, dtype=np.float64) for f in found])
    return 1.0 - np.asarray(vectors, dtype=np.float64) @ c.T


def fit(vectors: np.ndarray, found: list[Centre]) -> np.ndarray:
    """For each row of `vectors`, the index in `found` of its nearest centre when it fits it, else -1."""
    if not found or vectors.shape[0] == 0:
        return np.full(vectors.shape[0], -1, dtype=int)
    d = distances(vectors, found)
    radii = np.asarray([f.radius for f in found])
    nearest = np.argmin(d, axis=1)
    inside = d[np.arange(len(nearest)), nearest] <= radii[nearest]
    return np.where(inside, nearest, -1).astype(int)


def ties(vectors: np.ndarray, found: list[Centre], fitted: np.ndarray) -> list[tuple[int, ...]]:
    """For each row, the centres as near as the one it fits (within `TOLERANCE`); () for a row that fits none.
    Two patterns whose centres coincide cannot be told apart by a trace: `lineage` decides between them."""
    d = distances(vectors, found)
    out: list[tuple[int, ...]] = []
    for row, k in enumerate(fitted.tolist()):
        out.append(() if k < 0 else tuple(np.flatnonzero(d[row] <= d[row, k] + TOLERANCE).tolist()))
    return out
